test_that("every byte value round-trips, checked against readBin()", {
  path <- withr::local_tempfile()
  bytes <- as.raw(rep(0:255, 5))
  expect_equal(writeit(bytes, path), length(bytes))
  expect_identical(raw_of(path), bytes)
  expect_identical(readit(path), bytes)
})

test_that("edge-case sizes read exactly (empty, buffer boundaries, 1 MiB)", {
  path <- withr::local_tempfile()
  for (n in c(0, 1, 4095, 4096, 4097, 65537, 2^20)) {
    bytes <- as.raw(sample(0:255, n, replace = TRUE))
    con <- file(path, "wb"); writeBin(bytes, con); close(con)
    expect_identical(readit(path), bytes, info = n)
  }
  file.create(path)
  expect_identical(readit(path), raw(0))
  expect_identical(readit(path, as = "text"), "")
})

test_that("files of 64 MiB and more are read by several threads, exactly", {
  skip_on_cran()
  path <- withr::local_tempfile()
  bytes <- as.raw(sample(0:255, 64 * 2^20 + 7, replace = TRUE))
  writeBin(bytes, path)
  for (threads in list(NULL, 1, 2, 3L)) {
    withr::local_options(rwbridge.threads = threads)
    expect_identical(readit(path), bytes, label = format(threads))
  }
  withr::local_options(rwbridge.threads = "not a number")
  expect_error(readit(path), "rwbridge.threads", class = "rwbridge_type_error")
})

test_that("text mode returns one UTF-8 string and keeps line endings", {
  path <- withr::local_tempfile()
  writeBin(charToRaw("caf\xc3\xa9\r\nline 2\nno newline at end"), path)
  text <- readit(path, as = "text")
  expect_identical(text, "caf\u00e9\r\nline 2\nno newline at end")
  expect_identical(Encoding(text), "UTF-8")
  expect_identical(readit(path, as = "t"), text)
})

test_that("text mode names the byte offset of a NUL or invalid UTF-8", {
  path <- withr::local_tempfile()
  writeBin(as.raw(c(0x61, 0x62, 0x00, 0x63)), path)
  err <- expect_error(readit(path, as = "text"), class = "rwbridge_encoding_error")
  expect_match(conditionMessage(err), "a NUL byte at byte offset 2", fixed = TRUE)
  writeBin(as.raw(c(0x61, 0xc3, 0x28)), path)
  err <- expect_error(readit(path, as = "text"), class = "rwbridge_encoding_error")
  expect_match(conditionMessage(err), "invalid UTF-8 at byte offset 1", fixed = TRUE)
  expect_identical(readit(path), as.raw(c(0x61, 0xc3, 0x28)))
})

test_that("writeit() writes a string as its UTF-8 bytes, without a newline", {
  path <- withr::local_tempfile()
  latin1 <- iconv("caf\u00e9", "UTF-8", "latin1")
  expect_equal(writeit(latin1, path), 5)
  expect_identical(raw_of(path), charToRaw("caf\xc3\xa9"))
})

test_that("replacing is atomic: no temporary file is left, permissions kept", {
  dir <- local_tree(c(target = "old content"))
  path <- file.path(dir, "target")
  Sys.chmod(path, "640")
  writeit("new", path)
  expect_identical(raw_of(path), charToRaw("new"))
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE), "target")
  expect_identical(as.character(file.mode(path)), "640")
})

test_that("a failed write leaves the old content and no temporary file", {
  dir <- local_tree(c(keep = "precious"))
  # Replacing a directory is refused before anything is written.
  dir.create(file.path(dir, "adir"))
  expect_error(writeit("x", file.path(dir, "adir")), class = "rwbridge_io_error")
  # A directory where no file may be created, even by root (chattr +i), or
  # else one without write permission.
  locked <- is_root() && system2("chattr", c("+i", shQuote(dir)), stderr = FALSE) == 0
  if (locked) {
    withr::defer(system2("chattr", c("-i", shQuote(dir))))
  } else {
    skip_if(is_root(), "root ignores permissions and chattr +i is unavailable")
    Sys.chmod(dir, "500")
    withr::defer(Sys.chmod(dir, "700"))
  }
  err <- expect_error(writeit("overwrite", file.path(dir, "keep")), class = "rwbridge_io_error")
  expect_match(conditionMessage(err), "(Permission denied|Operation not permitted)")
  expect_match(conditionMessage(err), file.path(dir, "keep"), fixed = TRUE)
  expect_identical(raw_of(file.path(dir, "keep")), charToRaw("precious"))
  expect_identical(sort(list.files(dir, all.files = TRUE, no.. = TRUE)), c("adir", "keep"))
})

test_that("append adds at the end, creating the file if needed", {
  path <- withr::local_tempfile()
  expect_equal(writeit("one\n", path, append = TRUE), 4)
  writeit(as.raw(c(0, 1)), path, append = TRUE)
  expect_identical(raw_of(path), c(charToRaw("one\n"), as.raw(c(0, 1))))
  expect_invisible(writeit("x", path, append = TRUE))
})

test_that("~ is expanded as path.expand() does", {
  withr::local_envvar(HOME = withr::local_tempdir())
  writeit("home", "~/rwbridge-test.txt")
  expect_true(file.exists(file.path(Sys.getenv("HOME"), "rwbridge-test.txt")))
  expect_identical(readit("~/rwbridge-test.txt", as = "text"), "home")
})

test_that("a missing file, a directory and a missing parent are io errors", {
  dir <- local_tree()
  err <- expect_error(readit(file.path(dir, "nope")), class = "rwbridge_io_error")
  expect_match(conditionMessage(err), "No such file or directory")
  expect_match(conditionMessage(err), file.path(dir, "nope"), fixed = TRUE)
  expect_identical(err$path, file.path(dir, "nope"))
  err <- expect_error(readit(dir), class = "rwbridge_io_error")
  expect_match(conditionMessage(err), "not a regular file (directory)", fixed = TRUE)
  err <- expect_error(writeit("x", file.path(dir, "no", "such", "f")), class = "rwbridge_io_error")
  expect_match(conditionMessage(err), "directory does not exist")
  expect_error(writeit("x", file.path(dir, "no", "f"), append = TRUE), class = "rwbridge_io_error")
})

test_that("a FIFO is refused at once, never blocking", {
  fifo <- make_fifo(file.path(local_tree(), "fifo"))
  elapsed <- system.time({
    err <- expect_error(readit(fifo), class = "rwbridge_io_error")
    expect_error(writeit("x", fifo), class = "rwbridge_io_error")
    expect_error(writeit("x", fifo, append = TRUE), class = "rwbridge_io_error")
  })[["elapsed"]]
  expect_match(conditionMessage(err), "not a regular file (FIFO)", fixed = TRUE)
  expect_lt(elapsed, 2)
  expect_error(readit("/dev/null"), "character device", class = "rwbridge_io_error")
})

test_that("a % in a path is reported literally and does not crash R", {
  dir <- local_tree()
  path <- file.path(dir, "100%s%n%%d")
  err <- expect_error(readit(path), class = "rwbridge_io_error")
  expect_match(conditionMessage(err), "100%s%n%%d", fixed = TRUE)
  writeit("ok", path)
  expect_identical(readit(path, as = "text"), "ok")
})

test_that("bad arguments are classed errors naming the argument", {
  path <- withr::local_tempfile()
  expect_error(readit(c("a", "b")), "`path`", class = "rwbridge_type_error")
  expect_error(readit(NA_character_), "`path`", class = "rwbridge_type_error")
  expect_error(readit(NULL), "`path`", class = "rwbridge_type_error")
  expect_error(readit(path, as = "json"), "`as`", class = "rwbridge_value_error")
  expect_error(readit(path, as = 1), "`as`", class = "rwbridge_type_error")
  expect_error(writeit(1:3, path), "`data`", class = "rwbridge_type_error")
  expect_error(writeit(c("a", "b"), path), "`data`", class = "rwbridge_type_error")
  expect_error(writeit(NA_character_, path), "`data`", class = "rwbridge_type_error")
  expect_error(writeit("a", 1), "`path`", class = "rwbridge_type_error")
  expect_error(writeit("a", path, append = NA), "`append`", class = "rwbridge_type_error")
  expect_false(file.exists(path))
  expect_snapshot(error = TRUE, {
    readit(c("a", "b"))
    readit("x", as = "json")
    writeit(list(1), "x")
    readit("/nonexistent/dir/file")
  })
})

test_that("a name that is not UTF-8 reaches its own file, never a look-alike", {
  skip_unless_byte_names()
  dir <- local_tree(c("caf<e9>.txt" = "decoy"))
  real <- paste0(dir, "/caf\xe9.txt")
  decoy <- file.path(dir, "caf<e9>.txt")
  writeBin(charToRaw("real"), real)
  expect_identical(readit(real), charToRaw("real"))
  expect_identical(readit(real, as = "text"), "real")
  writeit("new", real)
  writeit("+", real, append = TRUE)
  expect_identical(readBin(real, "raw", 10), charToRaw("new+"))
  expect_identical(raw_of(decoy), charToRaw("decoy"))
  expect_setequal(list.files(dir), c("caf\xe9.txt", "caf<e9>.txt"))
  # A latin1 string names the file of its UTF-8 bytes, as in base R.
  latin1 <- iconv(paste0(dir, "/caf\u00e9.txt"), "UTF-8", "latin1")
  writeit("latin1", latin1)
  expect_identical(readBin(paste0(dir, "/caf\u00e9.txt"), "raw", 10), charToRaw("latin1"))
  err <- expect_error(readit(paste0(dir, "/nope\xe9")), class = "rwbridge_io_error")
  expect_match(conditionMessage(err), "nope\\xe9", fixed = TRUE)
  expect_identical(err$path, paste0(dir, "/nope\xe9"))
})

test_that("writeit() writes a string's bytes when they are not valid in its encoding", {
  path <- withr::local_tempfile()
  reference <- withr::local_tempfile()
  check <- function(x) {
    writeit(x, path)
    writeLines(x, reference, sep = "", useBytes = TRUE)
    expect_identical(raw_of(path), raw_of(reference), label = Encoding(x))
  }
  native <- "caf\xe9"
  check(native)
  expect_identical(raw_of(path), as.raw(c(0x63, 0x61, 0x66, 0xe9)))
  utf8 <- native
  Encoding(utf8) <- "UTF-8"
  check(utf8)
  bytes <- "caf\xc3\xa9\xff"
  Encoding(bytes) <- "bytes"
  check(bytes)
  # Valid in its encoding: written as UTF-8, latin1 converted.
  check("caf\u00e9")
  writeit(iconv("caf\u00e9", "UTF-8", "latin1"), path)
  expect_identical(raw_of(path), charToRaw("caf\u00e9"))
  writeit(native, path, append = TRUE)
  expect_identical(raw_of(path), c(charToRaw("caf\u00e9"), as.raw(c(0x63, 0x61, 0x66, 0xe9))))
})

test_that("a failed append leaves the file as it was: cut back, or removed when new", {
  skip_on_os("windows")
  skip_on_cran()
  dir <- local_tree(c(old = strrep("o", 1000)))
  script <- withr::local_tempfile(fileext = ".R")
  writeLines(c(
    "library(rwbridge)",
    sprintf("dir <- '%s'", dir),
    "for (name in c('old', 'new')) {",
    "  got <- tryCatch(writeit(as.raw(rep(1, 1e5)), file.path(dir, name), append = TRUE),",
    "                  error = function(e) paste(class(e)[[1]], conditionMessage(e)))",
    "  cat(name, got, '\\n')",
    "}"
  ), script)
  # A file size limit of 8 blocks (4 or 8 KiB), with SIGXFSZ ignored: the
  # write fails with EFBIG once part of the data is in.
  command <- sprintf("ulimit -f 8; trap '' XFSZ; exec '%s' '%s'",
                     file.path(R.home("bin"), "Rscript"), script)
  out <- system2("sh", c("-c", shQuote(command)), stdout = TRUE, stderr = TRUE)
  expect_match(out, "^old rwbridge_io_error .*File too large", all = FALSE)
  expect_match(out, "^new rwbridge_io_error .*File too large", all = FALSE)
  expect_identical(raw_of(file.path(dir, "old")), charToRaw(strrep("o", 1000)))
  expect_false(file.exists(file.path(dir, "new")))
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE), "old")
})

test_that("a big readit() runs on the kept workers, and Ctrl-C stops it within half a second", {
  skip_on_os("windows")
  skip_on_cran()
  skip_if_not_installed("processx")
  path <- withr::local_tempfile()
  writeBin(as.raw(rep_len(0:255, 64 * 2^20 + 1)), path)
  tasks <- function(pid) list.files(file.path("/proc", pid, "task"))
  stopped <- interrupt_child(c(
    "library(rwbridge)",
    "options(rwbridge.threads = 2)",
    sprintf("path <- '%s'", path),
    # The first call makes the kept workers; the next must start no thread.
    "stopifnot(identical(readit(path), readBin(path, 'raw', file.size(path))))",
    "cat('threads:', list.files('/proc/self/task'), '\\n')",
    # Tests only: each piece of the read waits first, as on a slow disk.
    "Sys.setenv(RWBRIDGE_TEST_READ_PAUSE_MS = '2000')",
    "cat('ready\\n')",
    "res <- tryCatch(readit(path), interrupt = function(e) 'interrupted')",
    "cat(if (is.character(res)) res else 'finished', '\\n')"
  ), during = tasks)
  expect_lt(stopped$elapsed, 0.5)
  expect_match(stopped$output, "interrupted", fixed = TRUE)
  before <- strsplit(sub(".*threads: ([0-9 ]+)\n.*", "\\1", stopped$output), " ")[[1]]
  expect_gte(length(stopped$during), 3)
  expect_true(all(stopped$during %in% before))
})
