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
