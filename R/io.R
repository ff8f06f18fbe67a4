#' Read a whole file
#'
#' Reads the file at `path` in one call: as a raw vector, NUL bytes and all,
#' or as one UTF-8 string.
#'
#' The file is read up to the size it had when it was opened (as
#' `readBin(path, "raw", file.size(path))` does), so bytes appended while it
#' is read are not included; a file that reports a size of 0, as those
#' under `/proc` do, is read to its end.
#'
#' Only regular files are read. A FIFO, a device or a directory is refused
#' at once (it is opened without blocking and checked before any read), so
#' `readit()` never hangs waiting for a writer.
#'
#' Files of 64 MiB or more are read by several threads at once, each
#' copying its part of the file: as many as option `rwbridge.threads` says,
#' else every core (see [rwbridge]).
#'
#' Differences from base R: unlike `readBin()`, no length needs to be given
#' and a raw file over 2 GiB comes back as a long vector; unlike
#' `readLines()`, text keeps its line endings (`"\r\n"` stays) and is never
#' re-encoded: it must already be UTF-8. A byte-order mark is kept.
#'
#' @param path A single string: the file. `~` is expanded as
#'   [path.expand()] does.
#' @param as `"raw"` (the default) for a raw vector, or `"text"` for a
#'   single UTF-8 string. Partial matching is accepted, as in [match.arg()].
#' @return A raw vector (`as = "raw"`), or a character vector of length one
#'   in UTF-8 (`as = "text"`).
#' @section Errors:
#' * `rwbridge_type_error`: `path` is not a single non-`NA` string, or `as`
#'   is not a single string, or option `rwbridge.threads` is not a number.
#' * `rwbridge_value_error`: `as` is not `"raw"` or `"text"`; or the text is
#'   over 2 GiB, the limit of one R string.
#' * `rwbridge_io_error`: the file is missing, is a directory or another
#'   non-regular file, or cannot be read. The message names the path and the
#'   reason the system gave.
#' * `rwbridge_encoding_error`: in text mode, the file holds a NUL byte or
#'   invalid UTF-8; the message gives the 0-based byte offset of the first one.
#' @seealso [writeit()]
#' @export
#' @examples
#' path <- tempfile()
#' writeit(as.raw(c(0x00, 0xff, 0x0a)), path)
#' readit(path)
#' writeit("caf\u00e9\n", path)
#' readit(path, as = "text")
#' unlink(path)
readit <- function(path, as = c("raw", "text")) {
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    check_string(path, "path")
  }
  as_text <- !missing(as) && check_choice(as, c("raw", "text"), "as") == "text"
  if (startsWith(path, "~")) {
    path <- path.expand(path)
  }
  threads <- getOption("rwbridge.threads")
  threads <- if (is.null(threads)) 0L else rw_threads(NULL)
  result <- readit_(path, as_text, threads)
  if (is.list(result)) rw_unwrap(result) else result
}

#' Write a whole file, atomically
#'
#' Replaces the file at `path` with `data`, or appends `data` to it.
#'
#' Replacing is atomic: the bytes go to a temporary file in the same
#' directory, which is flushed and synced to disk, then renamed over `path`.
#' Readers see the old content or the new, never a mix, and if anything
#' fails the old content is intact and no temporary file is left behind.
#' When `path` is a symbolic link, the file it points to is replaced and the
#' link stays; an existing file keeps its permissions.
#'
#' `append = TRUE` adds `data` at the end of the file (creating it if
#' needed) and syncs it. Only regular files are written: a FIFO or a device
#' is refused at once. The directory must exist.
#'
#' @param data A raw vector, or a single non-`NA` string, written as its
#'   UTF-8 bytes (no newline is added).
#' @param path A single string: the file. `~` is expanded as
#'   [path.expand()] does.
#' @param append `FALSE` (the default) to replace the file, `TRUE` to append.
#' @return The number of bytes written, as a double, invisibly.
#' @section Errors:
#' * `rwbridge_type_error`: `data` is neither a raw vector nor a single
#'   string, `path` is not a single non-`NA` string, or `append` is not
#'   `TRUE` or `FALSE`.
#' * `rwbridge_io_error`: the directory does not exist, `path` is a
#'   directory or another non-regular file, or the system refused the write
#'   (permissions, a full disk). The message names the path and the reason.
#' @seealso [readit()]
#' @export
#' @examples
#' path <- tempfile(fileext = ".txt")
#' writeit("first line\n", path)
#' writeit("second line\n", path, append = TRUE)
#' readit(path, as = "text")
#' writeit(as.raw(0:255), path)
#' length(readit(path))
#' unlink(path)
writeit <- function(data, path, append = FALSE) {
  if (!is.raw(data)) {
    if (!is.character(data)) {
      rw_abort("type", sprintf("`data` must be a raw vector or a single string, not %s.",
                               rw_describe(data)), call = sys.call())
    }
    if (length(data) != 1L || is.na(data)) {
      check_string(data, "data")
    }
  }
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    check_string(path, "path")
  }
  if (!is.logical(append) || length(append) != 1L || is.na(append)) {
    check_flag(append, "append")
  }
  if (startsWith(path, "~")) {
    path <- path.expand(path)
  }
  result <- writeit_(data, path, append)
  invisible(if (is.list(result)) rw_unwrap(result) else result)
}
