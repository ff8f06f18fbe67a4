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
#' Files of 64 MiB or more are read in pieces by the worker threads that
#' rwbridge keeps between calls (no thread is started for a call): as many
#' as option `rwbridge.threads` says, else every core (see [rwbridge]).
#' Ctrl-C stops such a read within a fraction of a second.
#'
#' Differences from base R: unlike `readBin()`, no length needs to be given
#' and a raw file over 2 GiB comes back as a long vector; unlike
#' `readLines()`, text keeps its line endings (`"\r\n"` stays) and is never
#' re-encoded: it must already be UTF-8. A byte-order mark is kept.
#'
#' @section File names:
#' A path reaches the file system as its bytes, as base R's file functions
#' use them: a native string (what `list.files()` returns, and what R makes
#' of `"caf\xe9.txt"`) byte for byte, whether or not its bytes are valid in
#' the session's encoding; a string marked UTF-8 or latin1 in the native
#' encoding (in a UTF-8 session, its UTF-8 bytes). So a name that is not
#' valid UTF-8 reaches its own file, never one whose name spells its bytes
#' (`"caf<e9>.txt"`). Messages show such bytes as `\xe9`; the `path` field of
#' an error is the path itself. Names rwbridge returns (the `file` column of
#' [verify()], ...) follow the same rule back: valid UTF-8 as UTF-8, any
#' other name with its exact bytes as a native string, so that two
#' different names never look the same and each reaches its file again.
#'
#' @param path A single string: the file, as R's file functions take it
#'   (see "File names"). `~` is expanded as [path.expand()] does.
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
#' needed) and syncs it. If the write or the sync fails (a full disk, a file
#' size limit), the file is put back as it was: cut back to the length it
#' had, or removed when this call created it. (Another process appending to
#' the same file at the same moment could lose its bytes then, as the file
#' is cut back to its old length.) Only regular files are written: a FIFO or
#' a device is refused at once. The directory must exist.
#'
#' A string is written as its UTF-8 bytes when its bytes are valid in the
#' encoding it declares ([Encoding()]): a UTF-8 string as it is, a latin1
#' string converted, a native string as it is in a UTF-8 session (converted
#' elsewhere). A string whose bytes are not valid in its encoding
#' (`"caf\xe9"` in a UTF-8 session), or one marked `"bytes"`, is written
#' byte for byte, as `writeLines(useBytes = TRUE)` and `writeBin()` write
#' it: the bytes are never replaced by the characters `<e9>`.
#'
#' @param data A raw vector, or a single non-`NA` string, written as its
#'   UTF-8 bytes, or byte for byte (see Details; no newline is added).
#' @param path A single string: the file, as R's file functions take it
#'   (see "File names" in [readit()]). `~` is expanded as [path.expand()]
#'   does.
#' @param append `FALSE` (the default) to replace the file, `TRUE` to append.
#' @return The number of bytes written, as a double, invisibly.
#' @section Errors:
#' * `rwbridge_type_error`: `data` is neither a raw vector nor a single
#'   string, `path` is not a single non-`NA` string, or `append` is not
#'   `TRUE` or `FALSE`.
#' * `rwbridge_io_error`: the directory does not exist, `path` is a
#'   directory or another non-regular file, or the system refused the write
#'   (permissions, a full disk, a file size limit). The message names the
#'   path and the reason; the file is as it was.
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
