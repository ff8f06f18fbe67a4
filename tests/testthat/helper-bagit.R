# Bags written by hand, file by file, from RFC 8493's rules (never by
# write_bag(), so that the reader is not checked against the writer), and
# bagit-python for the tests that compare with it.

digest_of <- function(content, algo = "sha256") {
  bytes <- if (is.raw(content)) content else charToRaw(enc2utf8(content))
  digest::digest(bytes, algo = algo, serialize = FALSE)
}

manifest_line <- function(content, path, algo = "sha256") {
  paste0(digest_of(content, algo), "  ", path, "\n")
}

# A bag of `version` holding `files` (names under data/ to contents), with
# bagit.txt and manifest-<algo>.txt listing every file.
hand_bag <- function(files = c(x = "X"), version = "1.0", algo = "sha256",
                     env = parent.frame()) {
  dir <- local_tree(setNames(files, paste0("data/", names(files))), env = env)
  dir.create(file.path(dir, "data"), showWarnings = FALSE)
  put(dir, "bagit.txt",
      sprintf("BagIt-Version: %s\nTag-File-Character-Encoding: UTF-8\n", version))
  # RFC 8493's percent-encoding (1.0 only: older versions take names as they are).
  coded <- if (version == "1.0") {
    gsub("\r", "%0D", gsub("\n", "%0A", gsub("%", "%25", names(files), fixed = TRUE), fixed = TRUE),
         fixed = TRUE)
  } else {
    names(files)
  }
  lines <- vapply(seq_along(files), function(i) {
    manifest_line(files[[i]], paste0("data/", coded[[i]]), algo)
  }, "")
  put(dir, sprintf("manifest-%s.txt", algo), paste(lines, collapse = ""))
  dir
}

# Every path under `dir` (directories included) with the MD5 of each file:
# equal before and after means nothing changed.
tree_state <- function(dir) {
  paths <- sort(list.files(dir, recursive = TRUE, all.files = TRUE, include.dirs = TRUE,
                           no.. = TRUE))
  full <- file.path(dir, paths)
  # Only regular files are read (opening a FIFO would wait for a writer);
  # file.info() cannot tell them apart, find can.
  found <- system2("find", c(shQuote(dir), "-type", "f", "-printf", shQuote("%P\\n")),
                   stdout = TRUE)
  regular <- paths %in% found
  sums <- ifelse(dir.exists(full), "<dir>", "<other>")
  sums[regular] <- unname(tools::md5sum(full[regular]))
  setNames(sums, paths)
}

# bagit-python, run as the Makefile runs python (R's LD_LIBRARY_PATH can
# make python3 load another libpython).
run_python <- function(code, ...) {
  out <- suppressWarnings(system2(
    "env", c("-u", "LD_LIBRARY_PATH", "python3", "-c", shQuote(code), vapply(c(...), shQuote, "")),
    stdout = TRUE, stderr = TRUE
  ))
  status <- attr(out, "status")
  list(status = if (is.null(status)) 0L else status, output = out)
}

skip_without_bagit_python <- function() {
  if (!nzchar(Sys.which("python3")) || run_python("import bagit")$status != 0) {
    skip("bagit-python is not installed (python3 -m pip install bagit)")
  }
}

# "VALID", or "INVALID" followed by bagit-python's reason.
bagit_python_validate <- function(dir, fast = FALSE) {
  code <- paste(
    "import sys, bagit",
    "try:",
    sprintf("    bagit.Bag(sys.argv[1]).validate(processes=2, fast=%s)", if (fast) "True" else "False"),
    "    print('VALID')",
    "except bagit.BagError as e:",
    "    print('INVALID', e)",
    sep = "\n"
  )
  out <- run_python(code, dir)
  result <- grep("^(VALID|INVALID)", out$output, value = TRUE)
  if (length(result) != 1) stop("bagit-python failed: ", paste(out$output, collapse = "\n"))
  result
}

# The bags of a BagIt conformance suite under `root`: the suite's own layout
# (`v0.97/valid/<bag>`, ...) or the fixtures' (`valid/<bag>`), with the
# category each must fall in ("linux-only" and "windows-only" bags are
# invalid ones; the Windows paths of the latter are invalid here too).
suite_bags <- function(root) {
  dirs <- list.dirs(root, recursive = TRUE)
  category <- basename(dirname(dirs))
  kinds <- c("valid", "invalid", "warning", "linux-only", "windows-only")
  keep <- category %in% kinds &
    grepl("^(v[0-9.]+/)?(valid|invalid|warning|linux-only|windows-only)/[^/]+$",
          substring(dirs, nchar(root) + 2))
  want <- category[keep]
  data.frame(bag = dirs[keep], want = ifelse(grepl("-only$", want), "invalid", want))
}

# What verify_bag() makes of each bag: valid or not, and how many
# rwbridge_bag_warning conditions it signalled.
suite_check <- function(bags) {
  got <- lapply(bags$bag, function(bag) {
    warnings <- 0L
    result <- withCallingHandlers(
      verify_bag(bag, threads = 2),
      rwbridge_bag_warning = function(w) {
        warnings <<- warnings + 1L
        invokeRestart("muffleWarning")
      }
    )
    list(valid = attr(result, "valid"), warnings = warnings,
         problems = paste(attr(result, "problems")$message, collapse = "; "))
  })
  bags$valid <- vapply(got, `[[`, NA, "valid")
  bags$warnings <- vapply(got, `[[`, 0L, "warnings")
  bags$problems <- vapply(got, `[[`, "", "problems")
  bags$ok <- ifelse(bags$want == "valid", bags$valid & bags$warnings == 0L,
                    ifelse(bags$want == "invalid", !bags$valid,
                           bags$valid & bags$warnings == 1L))
  bags
}

# The suite itself, when a copy is found: RWB_BAGIT_SUITE, or
# shared/bagit-conformance-suite beside the package's folder.
suite_root <- function() {
  candidates <- c(Sys.getenv("RWB_BAGIT_SUITE"),
                  test_path("..", "..", "..", "shared", "bagit-conformance-suite"))
  found <- candidates[nzchar(candidates) & dir.exists(file.path(candidates, "v1.0"))]
  if (length(found) == 0) NULL else normalizePath(found[[1]])
}

# Serializes the bag `bag` into `file` (.tar, .tar.gz, .tgz or .zip) with
# the system's tar or zip, its top directory the bag's name.
serialize_bag <- function(bag, file) {
  parent <- dirname(bag)
  name <- basename(bag)
  status <- if (grepl("\\.zip$", file)) {
    withr::with_dir(parent, system2("zip", c("-q", "-r", "-y", shQuote(file), shQuote(name))))
  } else {
    flags <- if (grepl("gz$", file)) "-czf" else "-cf"
    system2("tar", c(flags, shQuote(file), "-C", shQuote(parent), shQuote(name)))
  }
  if (status != 0) stop("could not serialize ", bag)
  file
}

# Every regular file under `dir` but what write_bag() itself writes (its
# tag files at the top, its journal, the temporary files of its writes),
# as the sorted MD5s of their contents: equal to the MD5s of the original
# files means every file is there exactly once.
payload_sums <- function(dir) {
  files <- list.files(dir, recursive = TRUE, all.files = TRUE, full.names = FALSE)
  top <- !grepl("/", files)
  ours <- top & (files %in% c("bagit.txt", "bag-info.txt", ".rwbridge-bag-journal") |
                   grepl("^(tag)?manifest-.*\\.txt$", files)) |
    grepl("\\.rwbridge-tmp$", files)
  sort(unname(tools::md5sum(file.path(dir, files[!ours]))))
}

# A child R process running `call` (R code, a string) with rwbridge loaded
# from this library path; `pause_file`, when given, is where the call's
# test hook says it has paused.
start_child <- function(call) {
  script <- tempfile(fileext = ".R")
  writeLines(c(
    sprintf(".libPaths(%s)", paste(deparse(.libPaths()), collapse = "")),
    "library(rwbridge)",
    sprintf("res <- tryCatch({%s; 'finished'}, error = function(e) paste(class(e)[1], conditionMessage(e)))", call),
    "cat(res, '\\n')"
  ), script)
  processx::process$new(file.path(R.home("bin"), "Rscript"), script,
                        stdout = "|", stderr = "2>&1", cleanup = TRUE)
}

# Waits until `file` exists (the child paused there), up to 60 seconds.
wait_for <- function(file, child) {
  deadline <- Sys.time() + 60
  while (!file.exists(file) && child$is_alive() && Sys.time() < deadline) Sys.sleep(0.02)
  if (!file.exists(file)) {
    stop("the child did not pause: ", paste(child$read_all_output(), collapse = ""))
  }
  invisible(file)
}

# What the child printed once it has ended.
child_result <- function(child) {
  child$wait(60000)
  trimws(paste(child$read_all_output(), collapse = ""))
}

# The call of a paused write_bag() (in place, or to `dest`).
paused_write <- function(dir, step, pause_file, dest = NULL, algo = c("sha256", "sha512")) {
  sprintf("rwbridge:::rw_write_bag(%s, %s, list(), 1L, FALSE, dest = %s, pause_at = %dL, pause_file = %s)",
          deparse(dir), paste(deparse(algo), collapse = ""),
          if (is.null(dest)) "NULL" else deparse(dest), step, deparse(pause_file))
}
