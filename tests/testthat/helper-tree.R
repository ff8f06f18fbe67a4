# A temporary directory tree owned by the calling test: `files` maps
# relative paths to contents (a string, or a raw vector).
local_tree <- function(files = character(), env = parent.frame()) {
  dir <- withr::local_tempdir(.local_envir = env)
  for (name in names(files)) put(dir, name, files[[name]])
  normalizePath(dir)
}

# Writes `text` (a string or raw vector) to `name` under `dir`, as bytes,
# with base R only.
put <- function(dir, name, text) {
  path <- file.path(dir, name)
  dir.create(dirname(path), recursive = TRUE, showWarnings = FALSE)
  con <- file(path, "wb")
  on.exit(close(con))
  writeBin(if (is.raw(text)) text else charToRaw(enc2utf8(text)), con)
  invisible(path)
}

# Base-R oracle for file contents: never uses the code under test.
raw_of <- function(path) {
  readBin(path, "raw", n = max(1, file.size(path)))
}

sha1_of <- function(text) {
  digest::digest(charToRaw(text), algo = "sha1", serialize = FALSE)
}

make_fifo <- function(path) {
  skip_on_os("windows")
  status <- system2("mkfifo", shQuote(path))
  if (status != 0) skip("mkfifo is not available")
  path
}

is_root <- function() {
  identical(unname(Sys.info()[["effective_user"]]), "root")
}

# Runs `lines` (an R script that prints "ready" before its long call) in a
# child R process, sends it Ctrl-C half a second after "ready", and returns
# what it printed and how long it took to stop, and what `during(pid)`
# returned just before the interrupt. Asserts that it was still running
# when interrupted and that it stopped.
interrupt_child <- function(lines, during = function(pid) NULL) {
  script <- withr::local_tempfile(fileext = ".R")
  writeLines(lines, script)
  child <- processx::process$new(file.path(R.home("bin"), "Rscript"), script,
                                 stdout = "|", stderr = "|")
  withr::defer(child$kill())
  output <- ""
  deadline <- Sys.time() + 20
  while (!grepl("ready", output) && Sys.time() < deadline) {
    child$poll_io(1000)
    output <- paste0(output, child$read_output())
  }
  testthat::expect_match(output, "ready")
  Sys.sleep(0.5)
  testthat::expect_true(child$is_alive())
  seen <- during(child$get_pid())
  sent <- Sys.time()
  child$interrupt()
  child$wait(3000)
  elapsed <- as.numeric(Sys.time() - sent, units = "secs")
  output <- paste0(output, child$read_all_output())
  testthat::expect_false(child$is_alive())
  list(output = output, elapsed = elapsed, during = seen)
}

# A child R process that keeps exchanging the directory `dir` with a
# symbolic link to `outside`, as fast as an attacker would: a C loop of
# renameat2(RENAME_EXCHANGE) (Linux), so that `dir` is always one or the
# other. From when it returns until the calling test ends (the test is
# skipped where that cannot run).
local_swapper <- function(dir, outside, env = parent.frame()) {
  testthat::skip_if_not(Sys.info()[["sysname"]] == "Linux", "renameat2() is Linux's")
  work <- withr::local_tempdir(.local_envir = env)
  writeLines(c(
    "#define _GNU_SOURCE",
    "#include <fcntl.h>",
    "#include <stdio.h>",
    "void rwbridge_test_swap(char **a, char **b) {",
    "  while (renameat2(AT_FDCWD, a[0], AT_FDCWD, b[0], RENAME_EXCHANGE) == 0) {}",
    "}"
  ), file.path(work, "swap.c"))
  built <- withr::with_dir(work, system2(file.path(R.home("bin"), "R"), c("CMD", "SHLIB", "swap.c"),
                                         stdout = FALSE, stderr = FALSE))
  testthat::skip_if(built != 0, "cannot compile the swapper")
  link <- paste0(dir, ".link")
  file.symlink(outside, link)
  script <- file.path(work, "swap.R")
  writeLines(c(
    sprintf("dyn.load('%s')", file.path(work, paste0("swap", .Platform$dynlib.ext))),
    "cat('swapping\\n')",
    sprintf(".C('rwbridge_test_swap', '%s', '%s')", dir, link)
  ), script)
  child <- processx::process$new(file.path(R.home("bin"), "Rscript"), script, stdout = "|")
  withr::defer(child$kill(), envir = env)
  child$poll_io(10000)
  testthat::expect_match(child$read_output(), "swapping")
  Sys.sleep(0.1)
  testthat::skip_if_not(child$is_alive(), "renameat2(RENAME_EXCHANGE) is not available")
  child
}

# Bytes that are not valid UTF-8 in a file name need a Unix file system
# and a UTF-8 session (where such a name is a native string with its bytes).
skip_unless_byte_names <- function() {
  testthat::skip_on_os("windows")
  testthat::skip_if_not(l10n_info()[["UTF-8"]], "the session is not in UTF-8")
}
