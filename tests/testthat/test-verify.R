coreutils <- test_path("fixtures", "coreutils")

test_that("manifests written by GNU coreutils verify, in every accepted form", {
  for (manifest in c("sha1sum.txt", "sha256sum.txt", "bsd-tags.txt", "crlf.txt")) {
    result <- verify(coreutils, manifest)
    expect_s3_class(result, c("rwbridge_verification", "data.frame"), exact = TRUE)
    expect_true(all(result$status == "ok"), info = manifest)
    expect_identical(result$actual, result$expected)
  }
  result <- verify(coreutils, "bsd-tags.txt")
  expect_identical(result$algo, c(rep("sha1", 4), "sha256"))
  expect_identical(result$file, c("alpha.txt", "beta.txt", "sub/data.bin", "empty", "alpha.txt"))
  expect_identical(result$line, 1:5)
  expect_identical(
    names(result), c("line", "file", "algo", "expected", "actual", "status")
  )
})

test_that("digests agree with digest::digest() and GNU's empty-file digest", {
  files <- file.path(coreutils, c("alpha.txt", "sub/data.bin", "empty"))
  want <- vapply(files, digest::digest, "", algo = "sha1", file = TRUE, USE.NAMES = FALSE)
  # Named by the paths as given, as tools::md5sum() names its result.
  expect_identical(hash_files(files), setNames(want, files))
  expect_identical(unname(hash_files(files[3])), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
  want256 <- vapply(files, digest::digest, "", algo = "sha256", file = TRUE, USE.NAMES = FALSE)
  expect_identical(hash_files(files, algo = "sha256"), setNames(want256, files))
  expect_identical(hash_files(files, algo = "md5"), tools::md5sum(files))
})

test_that("every status, in manifest order, with every file checked", {
  outside <- local_tree(c(secret = "s"))
  dir <- local_tree(c(a = "A", b = "B", "sub/c" = "C"))
  file.symlink(file.path(outside, "secret"), file.path(dir, "escape"))
  manifest <- paste0(
    sha1_of("A"), "  a\n",
    sha1_of("not B"), "  b\n",
    sha1_of("x"), "  gone\n",
    sha1_of("x"), "  sub\n",
    sha1_of("s"), "  ../", basename(outside), "/secret\n",
    sha1_of("s"), "  ", file.path(outside, "secret"), "\n",
    sha1_of("s"), "  escape\n",
    toupper(sha1_of("C")), " *sub/c\n"
  )
  writeit(manifest, file.path(dir, "sha1sum.txt"))
  result <- verify(dir)
  expect_identical(
    result$status,
    c("ok", "mismatch", "missing", "unreadable", "refused", "refused", "refused", "ok")
  )
  expect_identical(result$actual[2], sha1_of("B"))
  expect_true(all(is.na(result$actual[3:7])))
  expect_identical(result$expected[8], sha1_of("C"))
  allowed <- verify(dir, allow_outside = TRUE)
  expect_identical(allowed$status[5:7], c("ok", "ok", "ok"))
})

test_that("a FIFO in the manifest is unreadable and never blocks", {
  dir <- local_tree(c(a = "A"))
  make_fifo(file.path(dir, "pipe"))
  writeit(paste0(sha1_of(""), "  pipe\n", sha1_of("A"), "  a\n"), file.path(dir, "sha1sum.txt"))
  elapsed <- system.time(result <- verify(dir))[["elapsed"]]
  expect_identical(result$status, c("unreadable", "ok"))
  expect_lt(elapsed, 2)
})

test_that("malformed lines are kept in an attribute and raise one warning", {
  dir <- local_tree(c(a = "A"))
  writeit(paste0(
    "# a comment\n\n", sha1_of("A"), "  a\n", "   \n", "not a line\n",
    sha1_of("A"), " a\n", "SHA1 (a) = ", sha1_of("A"), "\n"
  ), file.path(dir, "sha1sum.txt"))
  warned <- expect_warning(result <- verify(dir), class = "rwbridge_malformed_warning")
  expect_match(conditionMessage(warned), "3 lines .* lines 4, 5, 6")
  expect_identical(result$line, c(3L, 7L))
  expect_identical(result$status, c("ok", "ok"))
  malformed <- attr(result, "malformed")
  expect_identical(malformed$line, 4:6)
  expect_identical(malformed$text, c("   ", "not a line", paste0(sha1_of("A"), " a")))
})

test_that("GNU escaped names are unescaped", {
  skip_on_os("windows")
  dir <- local_tree()
  writeit("x", file.path(dir, "back\\slash"))
  writeit("y", file.path(dir, "new\nline"))
  writeit(paste0("\\", sha1_of("x"), "  back\\\\slash\n\\", sha1_of("y"), "  new\\nline\n"),
          file.path(dir, "m.txt"))
  result <- verify(dir, "m.txt")
  expect_identical(result$file, c("back\\slash", "new\nline"))
  expect_identical(result$status, c("ok", "ok"))
})

test_that("error = TRUE lists every failing file and carries the result", {
  dir <- local_tree(c(a = "A", b = "B"))
  writeit(paste0(sha1_of("x"), "  a\n", sha1_of("B"), "  b\n", sha1_of("x"), "  c\n", "junk\n"),
          file.path(dir, "sha1sum.txt"))
  err <- expect_error(
    suppressWarnings(verify(dir, error = TRUE)),
    class = "rwbridge_verify_error"
  )
  expect_match(conditionMessage(err), "'a' (mismatch), 'c' (missing)", fixed = TRUE)
  expect_match(conditionMessage(err), "1 malformed line: line 4", fixed = TRUE)
  expect_s3_class(err$result, "rwbridge_verification")
  expect_identical(err$result$status, c("mismatch", "ok", "missing"))
  expect_s3_class(err, "rwbridge_error")
  expect_identical(verify(coreutils, error = TRUE)$status, rep("ok", 4))
})

test_that("print() summarises the counts and names what is not ok", {
  dir <- local_tree(c(a = "A", b = "B"))
  writeit(paste0(sha1_of("A"), "  a\n", sha1_of("x"), "  b\n", sha1_of("x"), "  c\n"),
          file.path(dir, "sha1sum.txt"))
  result <- verify(dir)
  out <- capture.output(print(result))
  expect_match(out[1], "3 files checked in", fixed = TRUE)
  expect_match(out[2], "ok: 1  mismatch: 1  missing: 1  unreadable: 0  refused: 0", fixed = TRUE)
  expect_match(out[4], "line 2 +b +mismatch")
  expect_match(out[5], "line 3 +c +missing")
  expect_length(out, 5)
  expect_invisible(capture.output(printed <- print(result)) -> ignored)
  expect_identical(printed, result)
  all_ok <- capture.output(print(verify(coreutils)))
  expect_length(all_ok, 2)
})

test_that("threads = 1 and threads = 2 give identical results", {
  files <- setNames(as.list(sprintf("content %d", 1:60)), sprintf("f%02d", 1:60))
  dir <- local_tree(unlist(files))
  write_signatures(dir)
  writeit("tampered", file.path(dir, "f17"))
  unlink(file.path(dir, "f42"))
  one <- verify(dir, threads = 1)
  two <- verify(dir, threads = 2)
  expect_identical(one, two)
  expect_identical(which(one$status != "ok"), c(17L, 42L))
  withr::local_options(rwbridge.threads = 1)
  expect_identical(verify(dir), one)
})

test_that("verify() agrees with sha1sum -c on a generated tree", {
  skip_if(Sys.which("sha1sum") == "", "sha1sum is not installed")
  set.seed(11)
  files <- vapply(1:40, function(i) paste(sample(letters, i * 37, TRUE), collapse = ""), "")
  names(files) <- sprintf("d%d/file %02d.txt", 1:40 %% 4, 1:40)
  dir <- local_tree(files)
  write_signatures(dir)
  for (i in c(3, 19, 33)) writeit("changed", file.path(dir, names(files)[i]))
  unlink(file.path(dir, names(files)[7]))
  gnu <- withr::with_dir(dir, suppressWarnings(
    system2("sha1sum", c("-c", "sha1sum.txt"), stdout = TRUE, stderr = TRUE)
  ))
  gnu_ok <- sub(": OK$", "", grep(": OK$", gnu, value = TRUE))
  ours <- verify(dir)
  expect_setequal(ours$file[ours$status == "ok"], gnu_ok)
  expect_identical(sum(ours$status != "ok"), 4L)
})

test_that("write_signatures() output is accepted by sha1sum -c and sha256sum -c", {
  skip_if(Sys.which("sha1sum") == "", "sha1sum is not installed")
  skip_on_os("windows")
  dir <- local_tree(c("plain.txt" = "1", "with space" = "2", "caf\u00e9" = "3",
                      "sub/deeper/x*y" = "4", "(paren) = x" = "5"))
  writeit("6", file.path(dir, "back\\slash"))
  writeit("7", file.path(dir, "new\nline"))
  writeit("8", file.path(dir, "cr\rname"))
  for (algo in c("sha1", "sha256")) {
    manifest <- paste0(algo, "sum.txt")
    signed <- write_signatures(dir, manifest, algo = algo)
    # The sha256 pass also signs the sha1 manifest written before it.
    expect_identical(nrow(signed), if (algo == "sha1") 8L else 9L)
    expect_false(manifest %in% signed$file)
    expect_identical(signed$digest,
                     unname(hash_files(file.path(dir, signed$file), algo = algo)))
    status <- withr::with_dir(dir, system2(paste0(algo, "sum"), c("-c", "--quiet", manifest)))
    expect_identical(status, 0L, info = algo)
    result <- verify(dir, manifest)
    expect_true(all(result$status == "ok"))
    expect_setequal(result$file, signed$file)
  }
  expect_true(!is.unsorted(write_signatures(dir, "m")$file, strictly = TRUE))
})

test_that("write_signatures() with files, and its errors", {
  dir <- local_tree(c(a = "A", b = "B"))
  signed <- write_signatures(dir, "m.txt", files = c("b", "a"))
  expect_identical(signed$file, c("b", "a"))
  expect_identical(readit(file.path(dir, "m.txt"), as = "text"),
                   paste0(sha1_of("B"), "  b\n", sha1_of("A"), "  a\n"))
  before <- readit(file.path(dir, "m.txt"))
  err <- expect_error(write_signatures(dir, "m.txt", files = c("a", "nope")),
                      class = "rwbridge_io_error")
  expect_match(conditionMessage(err), "nope")
  expect_identical(readit(file.path(dir, "m.txt")), before)
  expect_error(write_signatures(dir, files = NA_character_), class = "rwbridge_type_error")
  expect_error(write_signatures(dir, algo = "crc32"), class = "rwbridge_value_error")
})

test_that("hash_files() gives NA and one warning for unreadable paths", {
  dir <- local_tree(c(a = "A"))
  paths <- c(file.path(dir, "a"), file.path(dir, "nope"), dir, NA)
  warned <- expect_warning(got <- hash_files(paths), class = "rwbridge_unreadable_warning")
  expect_match(conditionMessage(warned), "cannot read 3 files: .*nope.*NA")
  # Each path with its reason.
  expect_match(conditionMessage(warned), "nope' (no such file or directory)", fixed = TRUE)
  expect_match(conditionMessage(warned), "(not a regular file (directory))", fixed = TRUE)
  expect_identical(got, setNames(c(sha1_of("A"), NA, NA, NA), paths))
  expect_identical(hash_files(character()), setNames(character(), character()))
  expect_error(hash_files(1), class = "rwbridge_type_error")
})

test_that("a missing manifest is an io error; bad arguments are classed", {
  dir <- local_tree()
  expect_error(verify(dir), "sha1sum.txt", class = "rwbridge_io_error")
  expect_error(verify(file.path(dir, "nope")), class = "rwbridge_io_error")
  expect_error(verify(dir, threads = 0), "`threads`", class = "rwbridge_value_error")
  expect_error(verify(dir, threads = 1.5), "`threads`", class = "rwbridge_value_error")
  expect_error(verify(dir, threads = "2"), "`threads`", class = "rwbridge_type_error")
  expect_error(verify(dir, error = "yes"), "`error`", class = "rwbridge_type_error")
  expect_error(verify(dir, progress = NA), "`progress`", class = "rwbridge_type_error")
  expect_error(verify(NULL), "`dir`", class = "rwbridge_type_error")
  withr::local_options(rwbridge.threads = -1)
  expect_error(verify(coreutils), "Option `rwbridge.threads`", class = "rwbridge_value_error")
})

test_that("an absolute manifest path is read as given", {
  dir <- local_tree(c(a = "A"))
  elsewhere <- withr::local_tempfile()
  writeit(paste0(sha1_of("A"), "  a\n"), elsewhere)
  expect_identical(verify(dir, elsewhere)$status, "ok")
})

# A tree whose manifest lists one 64 MiB file `times` times: slow enough to
# watch progress or interrupt, without much disk.
local_slow_tree <- function(times, env = parent.frame()) {
  dir <- local_tree(env = env)
  big <- file.path(dir, "big")
  writeit(as.raw(rep_len(0:255, 64 * 2^20)), big)
  writeit(strrep(paste0(hash_files(big), "  big\n"), times), file.path(dir, "sha1sum.txt"))
  dir
}

test_that("progress = TRUE draws a progress line on stderr; FALSE draws none", {
  skip_on_cran()
  dir <- local_slow_tree(12)
  out <- capture.output(result <- verify(dir, threads = 1, progress = TRUE), type = "message")
  expect_true(all(result$status == "ok"))
  text <- paste(out, collapse = "\n")
  expect_match(text, "verify: [0-9]+/12 files, [0-9.]+ [kMG]?B of 805.3 MB, [0-9.]+ [kMG]?B/s")
  expect_match(text, "verify: 12/12 files, 805.3 MB of 805.3 MB")
  quiet <- capture.output(invisible(verify(dir, threads = 2, progress = FALSE)), type = "message")
  expect_identical(quiet, character())
})

test_that("Ctrl-C stops verify() within a second and leaves no worker busy", {
  skip_on_os("windows")
  skip_on_cran()
  skip_if_not_installed("processx")
  dir <- local_slow_tree(400)
  stopped <- interrupt_child(c(
    "library(rwbridge)",
    "tasks <- function() list.files('/proc/self/task', full.names = TRUE)",
    "first <- function(f) readLines(f, n = 1L, warn = FALSE)",
    # The workers are kept between calls, asleep; one call makes them.
    "options(rwbridge.threads = 2)",
    "invisible(detect_outliers(runif(1e6), method = 'mad'))",
    "before <- length(tasks())",
    "cat('ready\\n')",
    sprintf("res <- tryCatch(verify('%s', threads = 2), interrupt = function(e) 'interrupted')", dir),
    "Sys.sleep(0.3)",
    "workers <- tasks()[startsWith(vapply(file.path(tasks(), 'comm'), first, ''), 'rwbridge-work')]",
    "state <- vapply(file.path(workers, 'stat'), function(f) sub('^.*\\\\) (.).*$', '\\\\1', first(f)), '')",
    "cat(if (is.character(res)) res else 'finished', 'extra threads:', length(tasks()) - before,",
    "    'workers:', length(workers), 'busy:', sum(state == 'R'), '\\n')"
  ))
  expect_lt(stopped$elapsed, 1)
  expect_match(stopped$output, "interrupted extra threads: 0 workers: 2 busy: 0", fixed = TRUE)
})

# Every algorithm against the tool that defines it, both ways ---------------

digest_tools <- c(md5 = "md5sum", sha1 = "sha1sum", sha224 = "sha224sum",
                  sha256 = "sha256sum", sha384 = "sha384sum", sha512 = "sha512sum",
                  blake2b = "b2sum", blake3 = "b3sum")

skip_without_tool <- function(tool) {
  if (!nzchar(Sys.which(tool))) skip(paste(tool, "is not installed"))
}

awkward_tree <- function(env = parent.frame()) {
  dir <- local_tree(c("a.txt" = "alpha\n", "sub/b c.bin" = "", "caf\u00e9" = "x"), env = env)
  writeit(as.raw(0:255), file.path(dir, "sub/b c.bin"))
  writeit("6", file.path(dir, "back\\slash"))
  writeit("7", file.path(dir, "new\nline"))
  dir
}

test_that("manifests written by every tool verify, plain and tagged", {
  dir <- awkward_tree()
  names <- c("a.txt", "sub/b c.bin", "caf\u00e9", "back\\slash", "new\nline")
  for (algo in names(digest_tools)) {
    tool <- digest_tools[[algo]]
    skip_without_tool(tool)
    # b3sum has no --tag.
    for (tag in if (algo == "blake3") FALSE else c(FALSE, TRUE)) {
      manifest <- file.path(dir, "theirs.txt")
      status <- withr::with_dir(dir, system2(tool, c(if (tag) "--tag", shQuote(names)),
                                             stdout = manifest))
      expect_identical(status, 0L)
      # Untagged BLAKE lengths are SHA-2's unless the algorithm is named.
      named <- if (!tag && algo %in% c("blake2b", "blake3")) algo
      label <- paste(algo, if (tag) "tagged" else "plain")
      result <- verify(dir, "theirs.txt", algo = named)
      expect_identical(result$status, rep("ok", length(names)), label = label)
      expect_identical(result$algo, rep(algo, length(names)), label = label)
      expect_identical(result$file, names, label = label)
      expect_identical(result$actual, unname(hash_files(file.path(dir, names), algo = algo)),
                       label = label)
      if (!tag && algo %in% c("md5", "sha1", "sha224", "sha384")) {
        expect_identical(verify(dir, "theirs.txt", algo = algo)$status, result$status)
      }
    }
  }
})

test_that("write_signatures() manifests pass every tool's -c, and damage is caught", {
  dir <- awkward_tree()
  for (algo in names(digest_tools)) {
    tool <- digest_tools[[algo]]
    skip_without_tool(tool)
    manifest <- paste0(algo, ".txt")
    signed <- write_signatures(dir, manifest, algo = algo,
                               files = c("a.txt", "sub/b c.bin", "back\\slash", "new\nline"))
    expect_identical(nchar(signed$digest), rep(c(md5 = 32L, sha1 = 40L, sha224 = 56L,
                                                sha256 = 64L, sha384 = 96L, sha512 = 128L,
                                                blake2b = 128L, blake3 = 64L)[[algo]], 4))
    status <- withr::with_dir(dir, system2(tool, c("-c", "--quiet", manifest)))
    expect_identical(status, 0L, label = algo)
    expect_true(all(verify(dir, manifest, algo = algo)$status == "ok"))
  }
  writeit("tampered\n", file.path(dir, "a.txt"))
  for (algo in names(digest_tools)) {
    skip_without_tool(digest_tools[[algo]])
    result <- verify(dir, paste0(algo, ".txt"), algo = algo)
    expect_identical(result$status, c("mismatch", "ok", "ok", "ok"), label = algo)
  }
})

test_that("a named algorithm settles ambiguous lengths and makes others malformed", {
  dir <- local_tree(c(a = "A", b = "B"))
  b3 <- unname(hash_files(file.path(dir, "a"), algo = "blake3"))
  sha1 <- sha1_of("B")
  writeit(paste0(b3, "  a\n", sha1, "  b\n"), file.path(dir, "m.txt"))
  # Unnamed, a 64-digit digest is SHA-256: a mismatch.
  expect_identical(verify(dir, "m.txt")$status, c("mismatch", "ok"))
  expect_warning(result <- verify(dir, "m.txt", algo = "blake3"),
                 class = "rwbridge_malformed_warning")
  expect_identical(result$status, "ok")
  expect_identical(attr(result, "malformed")$line, 2L)
  expect_error(verify(dir, "m.txt", algo = "crc32"), class = "rwbridge_value_error")
  expect_error(verify(dir, "m.txt", algo = 1), class = "rwbridge_type_error")
})

# The audit: complete = TRUE ------------------------------------------------

test_that("complete = TRUE finds added files and files moved under another name", {
  dir <- local_tree(c("data/a.csv" = "a,b\n", "data/b.csv" = "c,d\n", "README" = "r\n"))
  write_signatures(dir, "md5sum.txt", algo = "md5")
  # Without the audit, an added file passes unseen.
  writeit("sneaky\n", file.path(dir, "data/added.csv"))
  expect_true(all(verify(dir, "md5sum.txt")$status == "ok"))
  result <- verify(dir, "md5sum.txt", complete = TRUE)
  expect_identical(result$file, c("README", "data/a.csv", "data/b.csv", "data/added.csv"))
  expect_identical(result$status, c("ok", "ok", "ok", "extra"))
  expect_identical(result$line, c(1:3, NA))
  expect_identical(result$algo, rep("md5", 4))
  expect_identical(result$expected[4], NA_character_)
  expect_identical(result$actual[4], unname(tools::md5sum(file.path(dir, "data/added.csv"))))
  expect_identical(result$found_as, rep(NA_character_, 4))
  # A renamed file is "moved", found under its new name, and not also extra.
  file.rename(file.path(dir, "data/b.csv"), file.path(dir, "data/b-renamed.csv"))
  result <- verify(dir, "md5sum.txt", complete = TRUE)
  expect_identical(result$status, c("ok", "ok", "moved", "extra"))
  expect_identical(result$found_as[3], "data/b-renamed.csv")
  expect_identical(result$file[4], "data/added.csv")
  out <- capture.output(print(result))
  expect_true(any(grepl("moved (found as 'data/b-renamed.csv')", out, fixed = TRUE)))
  expect_match(out[2], "extra: 1  moved: 1", fixed = TRUE)
  err <- expect_error(verify(dir, "md5sum.txt", complete = TRUE, error = TRUE),
                      class = "rwbridge_verify_error")
  expect_match(conditionMessage(err), "'data/b.csv' (moved), 'data/added.csv' (extra)",
               fixed = TRUE)
  # Without the audit the rename is only a missing file.
  expect_identical(verify(dir, "md5sum.txt")$status, c("ok", "ok", "missing"))
})

test_that("the audit compares names as the directory spells them", {
  dir <- local_tree(c(a = "A", "sub/b" = "B", "sub/c" = "C"))
  writeit(paste0(sha1_of("A"), "  ./a\n", sha1_of("B"), "  sub//b\n",
                 sha1_of("C"), "  sub/../sub/c\n"), file.path(dir, "sha1sum.txt"))
  result <- verify(dir, complete = TRUE)
  expect_identical(result$status, rep("ok", 3))
  # An empty manifest: everything is extra, hashed with SHA-1 or the named algorithm.
  writeit("", file.path(dir, "empty.txt"))
  result <- verify(dir, "empty.txt", complete = TRUE)
  expect_identical(result$file, c("a", "sha1sum.txt", "sub/b", "sub/c"))
  expect_identical(result$status, rep("extra", 4))
  expect_identical(verify(dir, "empty.txt", complete = TRUE, algo = "sha512")$algo,
                   rep("sha512", 4))
})

test_that("print() works for names of any length", {
  dir <- local_tree(c(a = "A"))
  long <- strrep("n", 9000)
  writeit(paste0(sha1_of("A"), "  a\n", sha1_of("x"), "  ", long, "\n"),
          file.path(dir, "sha1sum.txt"))
  result <- verify(dir)
  expect_identical(result$status[1], "ok")
  out <- capture.output(print(result))
  expect_true(any(grepl(long, out, fixed = TRUE)))
})

# Confined under races, the right file for every name ------------------------

test_that("a directory swapped for a link outside while verify() runs is never read through", {
  skip_on_os("windows")
  skip_on_cran()
  skip_if_not_installed("processx")
  top <- local_tree(c("d/sub/f" = "inside", "elsewhere/f" = "OUTSIDE"))
  d <- file.path(top, "d")
  # An absolute link inside the tree: the kernel's openat2() will not
  # follow it beneath `d`, so it takes the walk.
  file.symlink(file.path(d, "sub", "f"), file.path(d, "abs"))
  writeit(strrep(paste0(sha1_of("inside"), "  abs\n"), 20000), file.path(d, "sha1sum.txt"))
  expect_true(all(verify(d)$status == "ok"))
  outside <- sha1_of("OUTSIDE")
  local_swapper(file.path(d, "sub"), file.path(top, "elsewhere"))
  leaked <- 0L
  seen <- character()
  for (i in 1:10) {
    result <- verify(d)
    leaked <- leaked + sum(result$actual == outside, na.rm = TRUE)
    seen <- union(seen, result$status)
  }
  expect_identical(leaked, 0L)
  expect_true(all(seen %in% c("ok", "missing", "refused")))
  # The swaps happened while the names were opened.
  expect_true(all(c("ok", "refused") %in% seen))
})

test_that("every name that leads outside is refused, whether or not anything is there", {
  skip_on_os("windows")
  top <- local_tree(c("d/a" = "A", "outside/secret.txt" = "s"))
  d <- file.path(top, "d")
  file.symlink("..", file.path(d, "up"))
  file.symlink(file.path(top, "outside", "nosuch"), file.path(d, "dangling"))
  file.symlink("../outside/nosuch", file.path(d, "dangling_relative"))
  names <- c("up/outside/secret.txt", "up/outside/nosuch", "up/nowhere/x", "dangling",
             "dangling_relative", "up/d/a", "../outside/secret.txt", "../nosuch")
  writeit(paste0(sha1_of("s"), "  ", names, "\n", collapse = ""), file.path(d, "m.txt"))
  result <- verify(d, "m.txt")
  expect_identical(result$status, rep("refused", length(names)))
  # Inside, a missing file is missing; with allow_outside, names are paths.
  writeit(paste0(sha1_of("s"), "  ", c("nosuch", names[1:2]), "\n", collapse = ""),
          file.path(d, "m.txt"))
  expect_identical(verify(d, "m.txt")$status, c("missing", "refused", "refused"))
  expect_identical(verify(d, "m.txt", allow_outside = TRUE)$status, c("missing", "ok", "missing"))
})

test_that("names that are not UTF-8 reach their own file and come back distinct", {
  skip_unless_byte_names()
  dir <- local_tree(c("caf<e9>.txt" = "decoy", "caf<e8>.txt" = "decoy"))
  real <- paste0(dir, "/caf\xe9.txt")
  other <- paste0(dir, "/caf\xe8.txt")
  writeBin(charToRaw("real"), real)
  writeBin(charToRaw("other"), other)
  expect_identical(unname(hash_files(c(real, other))), c(sha1_of("real"), sha1_of("other")))
  signed <- write_signatures(dir)
  # As list.files() names them: the same strings, each reaching its file.
  expect_setequal(signed$file, setdiff(list.files(dir), "sha1sum.txt"))
  expect_identical(anyDuplicated(signed$file), 0L)
  expect_identical(signed$digest[match(c("caf\xe9.txt", "caf\xe8.txt"), signed$file)],
                   c(sha1_of("real"), sha1_of("other")))
  expect_true(all(verify(dir)$status == "ok"))
  # With the manifest gone, all four are extra: four different names.
  writeit("", file.path(dir, "sha1sum.txt"))
  audit <- verify(dir, complete = TRUE)
  expect_identical(audit$status, rep("extra", 4))
  expect_setequal(audit$file, setdiff(list.files(dir), "sha1sum.txt"))
  expect_identical(anyDuplicated(audit$file), 0L)
  for (i in seq_len(nrow(audit))) {
    expect_identical(readit(paste0(dir, "/", audit$file[[i]]), as = "raw"),
                     readBin(paste0(dir, "/", audit$file[[i]]), "raw", 10))
  }
  # A moved file is found under its exact name.
  writeit(paste0(sha1_of("real"), "  gone\n"), file.path(dir, "sha1sum.txt"))
  moved <- verify(dir, complete = TRUE)
  expect_identical(moved$found_as[moved$status == "moved"], "caf\xe9.txt")
})

test_that("algorithm names are matched exactly, and nothing is written otherwise", {
  dir <- local_tree(c(a = "A"))
  path <- file.path(dir, "a")
  for (algo in c("sha3", "sha51", "m", "SHA1", "sha1 ")) {
    err <- expect_error(hash_files(path, algo = algo), class = "rwbridge_value_error")
    expect_match(conditionMessage(err), "`algo` must be one of \"md5\", \"sha1\"", fixed = TRUE)
    expect_match(conditionMessage(err), paste0("not \"", algo, "\""), fixed = TRUE)
    expect_error(write_signatures(dir, "m.txt", algo = algo), "`algo`",
                 class = "rwbridge_value_error")
    expect_false(file.exists(file.path(dir, "m.txt")))
    expect_error(verify(dir, algo = algo), "`algo`", class = "rwbridge_value_error")
  }
  expect_identical(unname(hash_files(path, algo = "sha512")),
                   digest::digest(charToRaw("A"), "sha512", serialize = FALSE))
})

test_that("a NUL byte in a manifest line makes it malformed, shown visibly", {
  dir <- local_tree(c(a = "A"))
  line <- c(charToRaw(sha1_of("A")), charToRaw("  a"), as.raw(0), charToRaw("b\n"))
  writeit(c(charToRaw(paste0(sha1_of("A"), "  a\n")), line), file.path(dir, "sha1sum.txt"))
  expect_warning(result <- verify(dir), class = "rwbridge_malformed_warning")
  expect_identical(result$status, "ok")
  malformed <- attr(result, "malformed")
  expect_identical(malformed$line, 2L)
  expect_identical(malformed$text, paste0(sha1_of("A"), "  a\\0b"))
})

test_that("write_signatures() refuses a name that leads outside, writing nothing", {
  top <- local_tree(c("afile" = "x", "d/a" = "A"))
  dir <- file.path(top, "d")
  for (name in c("../afile", file.path(top, "afile"), "a/../../afile", "./../afile")) {
    err <- expect_error(write_signatures(dir, "m.txt", files = c("a", name)),
                        class = "rwbridge_value_error")
    expect_match(conditionMessage(err), "`files`", fixed = TRUE)
    expect_match(conditionMessage(err), name, fixed = TRUE)
    expect_false(file.exists(file.path(dir, "m.txt")))
  }
  # Through a link, only opening the name tells: an io error, nothing written.
  skip_on_os("windows")
  file.symlink(top, file.path(dir, "out"))
  err <- expect_error(write_signatures(dir, "m.txt", files = "out/afile"),
                      class = "rwbridge_io_error")
  expect_match(conditionMessage(err), "leads outside")
  expect_false(file.exists(file.path(dir, "m.txt")))
  signed <- write_signatures(dir, "m.txt", files = "./a")
  expect_identical(verify(dir, "m.txt")$status, "ok")
})

test_that("messages quote at most a few hundred bytes of any input", {
  dir <- local_tree(c(a = "A"))
  huge <- strrep("n", 1e6)
  writeit(paste0(sha1_of("A"), "  ", huge, "\n", strrep("z", 5e6), "\n"),
          file.path(dir, "sha1sum.txt"))
  result <- suppressWarnings(verify(dir))
  # ENAMETOOLONG: not a missing file, one that cannot be opened.
  expect_identical(result$status, "unreadable")
  text <- attr(result, "malformed")$text
  expect_lt(nchar(text), 300)
  expect_match(text, "... (5000000 bytes)", fixed = TRUE)
  err <- expect_error(suppressWarnings(verify(dir, error = TRUE)), class = "rwbridge_verify_error")
  expect_lt(nchar(conditionMessage(err)), 600)
  expect_match(conditionMessage(err), paste0("'", strrep("n", 200), "...' (1000000 bytes)"),
               fixed = TRUE)
  err <- expect_error(readit(file.path(dir, strrep("p", 1e5))), class = "rwbridge_io_error")
  expect_lt(nchar(conditionMessage(err)), 400)
  # The R side cuts as the Rust side does, before a character that would
  # not fit.
  long <- paste0("a", strrep("\u00e9", 150))
  expect_identical(rwbridge:::rw_quote(long),
                   paste0("'a", strrep("\u00e9", 99), "...' (301 bytes)"))
  path <- file.path(dir, long)
  err <- expect_error(readit(path), class = "rwbridge_io_error")
  expect_match(conditionMessage(err), rwbridge:::rw_quote(path), fixed = TRUE)
})
