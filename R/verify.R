#' Verify a directory against its checksum manifest
#'
#' Checks every file listed in a `sha1sum`/`sha256sum`-style manifest, in
#' parallel, and reports every problem in manifest order: what
#' `sha1sum -c` does, as a data frame.
#'
#' The manifest may hold GNU lines (`HASH  NAME` and `HASH *NAME`), GNU
#' escaped names (a line starting with `\`, with `\\`, `\n` and `\r` in the
#' name), and BSD tags (`SHA1 (NAME) = HASH`, `SHA256 (NAME) = HASH`), with
#' LF or CRLF endings and hex digits in either case. A 40-digit digest is
#' SHA-1 and a 64-digit one SHA-256, so one manifest may mix both. As GNU
#' does, empty lines and lines starting with `#` are skipped and blanks
#' before the digest are allowed; any other line that does not parse (a
#' line of blanks included) is malformed. Malformed lines are never dropped
#' silently: they are in the attribute `malformed` and raise one warning of
#' class `rwbridge_malformed_warning`.
#'
#' Statuses: `"ok"`; `"mismatch"` (the digest differs); `"missing"` (no such
#' file); `"unreadable"` (a directory, FIFO, device or other non-regular
#' file, which is never opened for reading, or a file that cannot be read);
#' `"refused"` (a name that is absolute or leads outside `dir`, through `..`
#' or a symbolic link, unless `allow_outside = TRUE`).
#'
#' Ctrl-C stops the check within a fraction of a second: the worker threads
#' stop, and the call ends with an `interrupt` condition, as any R call does.
#'
#' @param dir A single string: the directory that the names in the manifest
#'   are relative to. `~` is expanded.
#' @param manifest A single string: the manifest, relative to `dir` unless
#'   it is absolute.
#' @param threads The number of worker threads: `NULL` (the default) for
#'   option `rwbridge.threads`, or else every core (see [rwbridge]).
#' @param progress Show a progress line on stderr (files and bytes done of
#'   the total, throughput; at most ten updates a second)? `NULL` (the
#'   default) means [interactive()].
#' @param error If `TRUE`, signal an `rwbridge_verify_error` when any file
#'   is not `"ok"` or any line is malformed. Its message lists every failing
#'   file in manifest order and its `result` field holds the data frame.
#' @param allow_outside If `TRUE`, names that are absolute or lead outside
#'   `dir` are checked too, instead of being `"refused"`.
#' @return A data frame of class `c("rwbridge_verification", "data.frame")`
#'   with one row per well-formed line, in manifest order, and columns
#'   `line` (integer), `file` (as listed), `algo` (`"sha1"` or `"sha256"`),
#'   `expected`, `actual` (lowercase hex; `NA` when the file was not hashed)
#'   and `status`. Attribute `malformed` is a data frame of `line` and
#'   `text`. Printing it summarises the counts and names the files that are
#'   not `"ok"`.
#' @section Errors:
#' * `rwbridge_type_error`, `rwbridge_value_error`: a bad argument.
#' * `rwbridge_io_error`: the manifest is missing or cannot be read.
#' * `rwbridge_verify_error`: with `error = TRUE`, a file is not `"ok"` or
#'   a line is malformed.
#' @seealso [write_signatures()] to write a manifest, [hash_files()].
#' @export
#' @examples
#' logs <- system.file("extdata", "logs", package = "rwbridge")
#' result <- verify(logs, threads = 2)
#' result
#' result[result$status != "ok", c("file", "status")]
#' try(verify(logs, threads = 2, error = TRUE))
verify <- function(dir, manifest = "sha1sum.txt", threads = NULL, progress = NULL,
                   error = FALSE, allow_outside = FALSE) {
  check_string(dir, "dir")
  check_string(manifest, "manifest")
  threads <- rw_threads(threads)
  progress <- rw_progress(progress)
  check_flag(error, "error")
  check_flag(allow_outside, "allow_outside")
  dir <- rw_path(dir)
  manifest_path <- rw_manifest_path(dir, manifest)
  columns <- rw_unwrap(verify_(dir, manifest_path, threads, progress, allow_outside))
  result <- rw_data_frame(
    line = columns$line, file = columns$file, algo = rw_codes$algo[columns$algo],
    expected = columns$expected, actual = columns$actual,
    status = rw_codes$status[columns$status]
  )
  malformed <- rw_data_frame(line = columns$malformed_line, text = columns$malformed_text)
  attr(result, "malformed") <- malformed
  attr(result, "dir") <- dir
  class(result) <- c("rwbridge_verification", "data.frame")
  malformed_count <- length(columns$malformed_line)
  if (malformed_count > 0) {
    warning(warningCondition(
      sprintf("%s in '%s' could not be parsed and %s skipped: %s.",
              rw_count(malformed_count, "line"), manifest_path,
              if (malformed_count == 1) "was" else "were",
              rw_list_lines(malformed$line)),
      class = "rwbridge_malformed_warning", call = sys.call()
    ))
  }
  failing <- if (error) result$status != "ok"
  if (error && (malformed_count > 0 || any(failing))) {
    problems <- c(
      if (any(failing)) {
        sprintf("%s of %s not ok: %s", rw_count(sum(failing), "file"), length(failing),
                paste0("'", result$file[failing], "' (", result$status[failing], ")",
                       collapse = ", "))
      },
      if (malformed_count > 0) {
        sprintf("%s: %s", rw_count(malformed_count, "malformed line"),
                rw_list_lines(malformed$line, limit = Inf))
      }
    )
    rw_abort("verify", paste0("verification of '", dir, "' failed: ",
                              paste(problems, collapse = "; "), "."),
             call = sys.call(), result = result)
  }
  result
}

#' @export
print.rwbridge_verification <- function(x, ...) {
  if (!all(c("file", "status") %in% names(x))) {
    return(NextMethod())
  }
  statuses <- rw_codes$status
  counts <- vapply(statuses, function(s) sum(x$status == s), integer(1))
  dir <- attr(x, "dir")
  cat(sprintf("<rwbridge verification> %s checked%s\n", rw_count(nrow(x), "file"),
              if (is.null(dir)) "" else paste0(" in '", dir, "'")))
  cat(paste0("  ", statuses, ": ", counts, collapse = ""), "\n", sep = "")
  bad <- x$status != "ok"
  if (any(bad)) {
    cat("Not ok:\n")
    width <- max(nchar(x$file[bad], type = "width"))
    line <- if ("line" %in% names(x)) sprintf("line %-4s ", x$line[bad]) else ""
    cat(sprintf("  %s%-*s  %s\n", line, width, x$file[bad], x$status[bad]), sep = "")
  }
  malformed <- attr(x, "malformed")
  if (!is.null(malformed) && nrow(malformed) > 0) {
    cat(sprintf("%s (see attr(, \"malformed\")): %s\n",
                rw_count(nrow(malformed), "malformed line"), rw_list_lines(malformed$line)))
  }
  invisible(x)
}

#' Write a checksum manifest for a directory
#'
#' Hashes files under `dir` in parallel and writes their digests to
#' `manifest` in the GNU format that `sha1sum -c` and `sha256sum -c` accept,
#' escaping names that hold a backslash, a newline or a carriage return as
#' GNU coreutils does. The manifest is replaced atomically, as [writeit()]
#' replaces a file. [verify()] of a fresh manifest is all `"ok"`.
#'
#' @param dir A single string: the directory. `~` is expanded.
#' @param manifest A single string: the manifest to write, relative to
#'   `dir` unless it is absolute.
#' @param files `NULL` (the default) for every regular file under `dir`,
#'   recursively, sorted bytewise, with `/` separators, except the manifest
#'   itself; symbolic links are not followed (as `find -type f`). Or a
#'   character vector of names relative to `dir`, written in that order.
#' @param algo `"sha1"` (the default) or `"sha256"`.
#' @param threads The number of worker threads: `NULL` (the default) for
#'   option `rwbridge.threads`, or else every core.
#' @return A data frame of `file` and `digest`, invisibly.
#' @section Errors:
#' * `rwbridge_type_error`, `rwbridge_value_error`: a bad argument.
#' * `rwbridge_io_error`: a file cannot be read (no manifest is written, so
#'   none silently leaves a file out), the directory cannot be listed, or
#'   the manifest cannot be written.
#' @seealso [verify()]
#' @export
#' @examples
#' dir <- file.path(tempdir(), "signed")
#' dir.create(dir)
#' writeit("alpha\n", file.path(dir, "a.txt"))
#' writeit("beta\n", file.path(dir, "b.txt"))
#' write_signatures(dir, threads = 2)
#' readit(file.path(dir, "sha1sum.txt"), as = "text")
#' verify(dir, threads = 2)
#' unlink(dir, recursive = TRUE)
write_signatures <- function(dir, manifest = "sha1sum.txt", files = NULL,
                             algo = c("sha1", "sha256"), threads = NULL) {
  check_string(dir, "dir")
  check_string(manifest, "manifest")
  if (!is.null(files)) {
    files <- enc2utf8(check_paths(files, "files"))
  }
  algo <- check_choice(algo, c("sha1", "sha256"), "algo")
  threads <- rw_threads(threads)
  dir <- rw_path(dir)
  manifest_path <- rw_manifest_path(dir, manifest)
  signed <- rw_unwrap(write_signatures_(dir, manifest_path, files, algo, threads))
  invisible(data.frame(file = signed$file, digest = signed$digest, stringsAsFactors = FALSE))
}

#' Hash files in parallel
#'
#' Computes the SHA-1 or SHA-256 digest of each file, in parallel, using the
#' CPU's SHA instructions where it has them.
#'
#' @param paths A character vector of paths. `~` is expanded.
#' @param algo `"sha1"` (the default) or `"sha256"`.
#' @param threads The number of worker threads: `NULL` (the default) for
#'   option `rwbridge.threads`, or else every core.
#' @return A character vector of lowercase hex digests, one per path, `NA`
#'   for a path that cannot be read (missing, not a regular file, no
#'   permission, or `NA`); one warning of class
#'   `rwbridge_unreadable_warning` names those paths.
#' @section Errors:
#' * `rwbridge_type_error`, `rwbridge_value_error`: a bad argument.
#' @seealso [verify()]; `digest::digest(file = )` computes the same digests
#'   one file at a time.
#' @export
#' @examples
#' path <- tempfile()
#' writeit("abc", path)
#' hash_files(path, threads = 2)
#' hash_files(path, algo = "sha256", threads = 2)
#' unlink(path)
hash_files <- function(paths, algo = c("sha1", "sha256"), threads = NULL) {
  if (!is.character(paths)) {
    check_paths(paths, "paths", allow_na = TRUE)
  }
  algo <- if (missing(algo)) "sha1" else check_choice(algo, c("sha1", "sha256"), "algo")
  expanded <- if (any(startsWith(paths, "~"), na.rm = TRUE)) path.expand(paths) else paths
  result <- rw_unwrap(hash_files_(enc2utf8(expanded), algo, rw_threads(threads)))
  digests <- result$digest
  if (anyNA(digests)) {
    unreadable <- is.na(digests)
    warning(warningCondition(
      sprintf("cannot read %s: %s.", rw_count(sum(unreadable), "file"),
              paste0("'", paths[unreadable], "' (", result$reason[unreadable], ")",
                     collapse = ", ")),
      class = "rwbridge_unreadable_warning", call = sys.call()
    ))
  }
  digests
}

# A data frame from equal-length columns, without data.frame()'s checks.
rw_data_frame <- function(...) {
  columns <- list(...)
  rows <- length(columns[[1L]])
  attr(columns, "row.names") <- if (rows > 0L) c(NA_integer_, -rows) else integer()
  class(columns) <- "data.frame"
  columns
}

rw_count <- function(n, noun) {
  paste(n, if (n == 1) noun else paste0(noun, "s"))
}

rw_list_lines <- function(lines, limit = 10) {
  shown <- lines[seq_len(min(length(lines), limit))]
  more <- if (length(lines) > length(shown)) sprintf(" and %d more", length(lines) - length(shown)) else ""
  paste0("line", if (length(lines) > 1) "s" else "", " ", paste(shown, collapse = ", "), more)
}
