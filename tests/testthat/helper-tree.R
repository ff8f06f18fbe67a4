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
# what it printed and how long it took to stop. Asserts that it was still
# running when interrupted and that it stopped.
interrupt_child <- function(lines) {
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
  sent <- Sys.time()
  child$interrupt()
  child$wait(3000)
  elapsed <- as.numeric(Sys.time() - sent, units = "secs")
  output <- paste0(output, child$read_all_output())
  testthat::expect_false(child$is_alive())
  list(output = output, elapsed = elapsed)
}
