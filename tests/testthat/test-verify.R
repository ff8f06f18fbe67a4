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
  expect_identical(hash_files(files), want)
  expect_identical(hash_files(files[3]), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
  want256 <- vapply(files, digest::digest, "", algo = "sha256", file = TRUE, USE.NAMES = FALSE)
  expect_identical(hash_files(files, algo = "sha256"), want256)
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
    expect_identical(signed$digest, hash_files(file.path(dir, signed$file), algo = algo))
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
  expect_error(write_signatures(dir, algo = "md5"), class = "rwbridge_value_error")
})

test_that("hash_files() gives NA and one warning for unreadable paths", {
  dir <- local_tree(c(a = "A"))
  paths <- c(file.path(dir, "a"), file.path(dir, "nope"), dir, NA)
  warned <- expect_warning(got <- hash_files(paths), class = "rwbridge_unreadable_warning")
  expect_match(conditionMessage(warned), "cannot read 3 files: .*nope.*NA")
  expect_identical(got, c(sha1_of("A"), NA, NA, NA))
  expect_identical(hash_files(character()), character())
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
  script <- withr::local_tempfile(fileext = ".R")
  writeLines(c(
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
  ), script)
  child <- processx::process$new(file.path(R.home("bin"), "Rscript"), script,
                                 stdout = "|", stderr = "|")
  withr::defer(child$kill())
  output <- ""
  deadline <- Sys.time() + 20
  while (!grepl("ready", output) && Sys.time() < deadline) {
    child$poll_io(1000)
    output <- paste0(output, child$read_output())
  }
  expect_match(output, "ready")
  Sys.sleep(0.5)
  expect_true(child$is_alive())
  sent <- Sys.time()
  child$interrupt()
  child$wait(3000)
  elapsed <- as.numeric(Sys.time() - sent, units = "secs")
  output <- paste0(output, child$read_all_output())
  expect_false(child$is_alive())
  expect_lt(elapsed, 1)
  expect_match(output, "interrupted extra threads: 0 workers: 2 busy: 0", fixed = TRUE)
})
