# A temporary directory tree owned by the calling test: `files` maps
# relative paths to contents (a string, or a raw vector).
local_tree <- function(files = character(), env = parent.frame()) {
  dir <- withr::local_tempdir(.local_envir = env)
  for (name in names(files)) {
    path <- file.path(dir, name)
    dir.create(dirname(path), recursive = TRUE, showWarnings = FALSE)
    content <- files[[name]]
    con <- file(path, "wb")
    writeBin(if (is.raw(content)) content else charToRaw(enc2utf8(content)), con)
    close(con)
  }
  normalizePath(dir)
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
