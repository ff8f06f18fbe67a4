#' Verify a directory against its checksum manifest
#'
#' Checks every file listed in a checksum manifest, as written by
#' `md5sum`, `sha1sum`, `sha224sum`, `sha256sum`, `sha384sum`, `sha512sum`,
#' `b2sum` or `b3sum`, in parallel, and reports every problem in manifest
#' order: what `sha1sum -c` does, as a data frame. With `complete = TRUE` it
#' also audits the directory: files the manifest does not list, and listed
#' files that are missing but present under another name.
#'
#' The manifest may hold GNU lines (`HASH  NAME` and `HASH *NAME`), GNU
#' escaped names (a line starting with `\`, with `\\`, `\n` and `\r` in the
#' name), and BSD tags as `--tag` writes them (`MD5`, `SHA1`, `SHA224`,
#' `SHA256`, `SHA384`, `SHA512`, `BLAKE2b`, `BLAKE3`: `SHA1 (NAME) = HASH`),
#' with LF or CRLF endings and hex digits in either case. A tag says the
#' algorithm; an untagged digest's algorithm follows from its length (32
#' digits MD5, 40 SHA-1, 56 SHA-224, 64 SHA-256, 96 SHA-384, 128 SHA-512),
#' unless `algo` names one: then every untagged line must have that
#' algorithm's length, which is how BLAKE3 (64 digits) and BLAKE2b (128)
#' manifests are read. One manifest may mix algorithms. As GNU does, empty lines and lines starting with `#` are skipped and blanks
#' before the digest are allowed; any other line that does not parse (a
#' line of blanks included) is malformed, and so is a line holding a NUL
#' byte. Malformed lines are never dropped silently: they are in the
#' attribute `malformed` and raise one warning of class
#' `rwbridge_malformed_warning`. Its `text` shows each line as messages
#' quote input: a NUL byte as `\0`, bytes that are not UTF-8 as `\xNN`, and
#' a line longer than 200 bytes cut there, followed by `...` and its whole
#' length in bytes.
#'
#' Statuses: `"ok"`; `"mismatch"` (the digest differs); `"missing"` (no such
#' file); `"unreadable"` (a directory, FIFO, device or other non-regular
#' file, which is never opened for reading, or a file that cannot be read);
#' `"refused"` (a name that is absolute or leads outside `dir`, through `..`
#' or a symbolic link, unless `allow_outside = TRUE`: see "Confinement").
#' With
#' `complete = TRUE`, also `"extra"` (a regular file under `dir`, at any
#' depth, that no line names; the manifest itself excepted; symbolic links
#' are not followed) and `"moved"` (a listed file that is missing, while an
#' extra file has exactly its expected digest: that file is named in
#' `found_as` and is not also an `"extra"` row; one extra file explains at
#' most one missing file, the first in manifest order, and among identical
#' extra files the first in bytewise order is taken). Names are compared as
#' the directory spells them, so `./a` and `sub//../a` list `a`.
#'
#' Ctrl-C stops the check within a fraction of a second: the worker threads
#' stop, and the call ends with an `interrupt` condition, as any R call does.
#'
#' @section Confinement:
#' Each name is opened relative to a descriptor of `dir` opened once, and
#' the kernel keeps it inside at the moment of the open: on Linux one
#' `openat2(RESOLVE_BENEATH)` call, else (and for names that call will not
#' resolve) a walk one component at a time, each opened with `O_NOFOLLOW`
#' relative to the one before, links read and followed by hand, `..` taken
#' back along the walk. No path is checked and then opened again, so a
#' directory swapped for a link while `verify()` runs can make a name
#' `"missing"` or `"refused"`, never read a file outside.
#'
#' Symbolic links that stay inside `dir` are followed, and so are absolute
#' links that point under `dir` (its canonical path, or the path as given:
#' `d/abs -> /path/to/d/sub/f` is `"ok"`); at most 40 links per name, as the
#' kernel allows. Every name that leads outside `dir` is `"refused"`, and
#' nothing outside is looked at to say so: `up/outside/secret.txt` and
#' `up/outside/nosuch` (with `up -> ..`) are both `"refused"`, as is a
#' dangling link that points outside, and a name that goes out and comes
#' back in (`up/d/a`), as the kernel's `RESOLVE_BENEATH` has it. A name whose
#' first components do not exist is `"missing"` (`nosuch/../../x`), as the
#' kernel finds it. On Windows names are resolved first and then opened,
#' without that guarantee. `allow_outside = TRUE` opens each name as a
#' path, following every link.
#'
#' @section File names:
#' `dir` and `manifest` reach the file system as their bytes, as base R's
#' file functions use them (see "File names" in [readit()]). The `file` and
#' `found_as` columns give names as the manifest and the directory spell
#' them: valid UTF-8 as UTF-8, any other name with its exact bytes as a
#' native string (as [list.files()] gives it), so that two different names
#' never look the same, and `paste0(dir, "/", file)` reaches the same file
#' again (`file.path()` refuses a string that is not valid in its encoding).
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
#' @param algo `NULL` (the default): each line's algorithm is its tag's or
#'   its digest length's. Or one of `"md5"`, `"sha1"`, `"sha224"`,
#'   `"sha256"`, `"sha384"`, `"sha512"`, `"blake2b"` (BLAKE2b-512, as
#'   `b2sum` writes) and `"blake3"` (256 bits, as `b3sum` writes): every
#'   untagged line must then be of that algorithm (a line of another length
#'   is malformed), and extra files are hashed with it. The name is matched
#'   exactly: `"sha3"` or `"m"` is an error, not a prefix of a choice.
#' @param complete If `TRUE`, also list the files under `dir` that the
#'   manifest does not name (`"extra"`) and find missing files that were
#'   renamed (`"moved"`). Extra files are hashed with `algo`, or else with
#'   the algorithm of the manifest's first line (SHA-1 for an empty one).
#' @param shards `NULL` (the default) to do all the work in this R process.
#'   Or a whole number `n >= 1`: the work is split into at most `n` parts of
#'   about equal bytes, each run as a future (package \pkg{future}) under
#'   the user's [future::plan()]: other R processes (`multisession`), other
#'   machines (`cluster`, over SSH), a batch scheduler
#'   (\pkg{future.batchtools}). Every worker must see `dir` at the same path
#'   (a shared file system) and have rwbridge installed; relative paths are
#'   sent to the workers made absolute against this process's working
#'   directory (a worker's own is where it started). Each part uses the
#'   worker's own threads (`threads`, when given, is passed on, else each
#'   worker's option `rwbridge.threads` or cores). The parts are merged
#'   into exactly the result of the call without `shards`: the same rows in
#'   the same order, the same warnings and errors. With `complete = TRUE`,
#'   files the manifest does not list are hashed by this process. Progress
#'   from the workers is reported through \pkg{progressr}, when it is
#'   installed, as one step per part (wrap the call in
#'   `progressr::with_progress()`). If a part fails (its worker died, its
#'   future errored), the call signals an `rwbridge_internal_error` naming
#'   the failed parts, whose `result` field holds what every finished part
#'   found.
#' @return A data frame of class `c("rwbridge_verification", "data.frame")`
#'   with one row per well-formed line, in manifest order, then with
#'   `complete = TRUE` one row per extra file, sorted bytewise, and columns
#'   `line` (integer; `NA` for an extra file), `file` (as listed), `algo`,
#'   `expected` (`NA` for an extra file), `actual` (lowercase hex; `NA` when
#'   the file was not hashed) and `status`; with `complete = TRUE` also
#'   `found_as` (the name a moved file was found under, else `NA`).
#'   Attribute `malformed` is a data frame of `line` and `text`. Printing it
#'   summarises the counts and names the files that are not `"ok"`.
#' @section Errors:
#' * `rwbridge_type_error`, `rwbridge_value_error`: a bad argument.
#' * `rwbridge_io_error`: the manifest is missing or cannot be read.
#' * `rwbridge_verify_error`: with `error = TRUE`, a file is not `"ok"`
#'   (`"extra"` and `"moved"` included) or a line is malformed.
#' * `rwbridge_value_error`: `shards` without the package \pkg{future}.
#' * `rwbridge_internal_error`: a part run with `shards` failed.
#' @seealso [write_signatures()] to write a manifest, [hash_files()].
#' @export
#' @examples
#' logs <- system.file("extdata", "logs", package = "rwbridge")
#' result <- verify(logs, threads = 2)
#' result
#' result[result$status != "ok", c("file", "status")]
#' try(verify(logs, threads = 2, error = TRUE))
#'
#' # An MD5 delivery with a file slipped in, caught by the audit.
#' delivery <- file.path(tempdir(), "delivery")
#' dir.create(delivery)
#' writeit("reads\n", file.path(delivery, "sample.fastq"))
#' write_signatures(delivery, "md5sum.txt", algo = "md5", threads = 2)
#' writeit("unexpected\n", file.path(delivery, "added.txt"))
#' verify(delivery, "md5sum.txt", threads = 2, complete = TRUE)
#' unlink(delivery, recursive = TRUE)
verify <- function(dir, manifest = "sha1sum.txt", threads = NULL, progress = NULL,
                   error = FALSE, allow_outside = FALSE, algo = NULL, complete = FALSE,
                   shards = NULL) {
  args <- rw_workers(dir, manifest, threads, progress, shards, sys.call())
  check_flag(error, "error")
  check_flag(allow_outside, "allow_outside")
  algo <- if (is.null(algo)) "" else rw_algo(algo)
  check_flag(complete, "complete")
  dir <- args$dir
  manifest_path <- args$manifest_path
  columns <- if (is.null(args$shards)) {
    rw_unwrap(verify_(dir, args$manifest, algo, args$threads, args$progress, allow_outside,
                      complete, NULL))
  } else {
    rw_verify_shards(dir, args$manifest, algo, args$threads, threads, allow_outside, complete,
                     args$shards, sys.call())
  }
  result <- rw_verification(columns, dir, complete)
  malformed <- attr(result, "malformed")
  malformed_count <- length(columns$malformed_line)
  if (malformed_count > 0) {
    warning(warningCondition(
      sprintf("%s in %s could not be parsed and %s skipped: %s.",
              rw_count(malformed_count, "line"), rw_quote(manifest_path),
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
                paste0(rw_quote(result$file[failing]), " (", result$status[failing], ")",
                       collapse = ", "))
      },
      if (malformed_count > 0) {
        sprintf("%s: %s", rw_count(malformed_count, "malformed line"),
                rw_list_lines(malformed$line, limit = Inf))
      }
    )
    rw_abort("verify", paste0("verification of ", rw_quote(dir), " failed: ",
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
  # "extra" and "moved" exist only in an audit (`complete = TRUE`),
  # "unfetched" and "present" only in a bag.
  statuses <- setdiff(rw_codes$status, c("unfetched", "present"))
  if (!"found_as" %in% names(x)) {
    statuses <- setdiff(statuses, c("extra", "moved"))
  }
  counts <- vapply(statuses, function(s) sum(x$status == s), integer(1))
  dir <- attr(x, "dir")
  cat(sprintf("<rwbridge verification> %s checked%s\n", rw_count(nrow(x), "file"),
              if (is.null(dir)) "" else paste0(" in '", dir, "'")))
  cat(paste0("  ", statuses, ": ", counts, collapse = ""), "\n", sep = "")
  bad <- x$status != "ok"
  if (any(bad)) {
    cat("Not ok:\n")
    # Padded by hand: sprintf() pads at most 8,192 characters.
    files <- x$file[bad]
    widths <- nchar(files, type = "width")
    padded <- paste0(files, strrep(" ", max(widths) - widths))
    line <- if ("line" %in% names(x)) {
      lines <- as.character(x$line[bad])
      paste0("line ", format(ifelse(is.na(lines), "-", lines), width = 4), " ")
    }
    found <- if ("found_as" %in% names(x)) {
      ifelse(is.na(x$found_as[bad]), "", paste0(" (found as '", x$found_as[bad], "')"))
    }
    cat(paste0("  ", line, padded, "  ", x$status[bad], found, "\n"), sep = "")
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
#' `manifest` in the GNU format that `md5sum -c`, `sha1sum -c` ...
#' `b2sum -c` and `b3sum -c` accept,
#' escaping names that hold a backslash, a newline or a carriage return as
#' GNU coreutils does. The manifest is replaced atomically, as [writeit()]
#' replaces a file. [verify()] of a fresh manifest is all `"ok"`.
#'
#' Every file is opened as [verify()] opens it, relative to `dir` and never
#' outside it (see "Confinement" in [verify()]), so a manifest never lists
#' a line that `verify()` would refuse: a name in `files` that is absolute
#' or leads outside `dir` through `..` (`"../afile"`, `"a/../../x"`) is an
#' `rwbridge_value_error` naming it, and one that leads outside through a
#' symbolic link is an `rwbridge_io_error`; in both cases nothing is
#' hashed or written. Names are written and returned as their bytes (see
#' "File names" in [verify()]).
#'
#' @param dir A single string: the directory. `~` is expanded.
#' @param manifest A single string: the manifest to write, relative to
#'   `dir` unless it is absolute.
#' @param files `NULL` (the default) for every regular file under `dir`,
#'   recursively, sorted bytewise, with `/` separators, except the manifest
#'   itself; symbolic links are not followed (as `find -type f`). Or a
#'   character vector of names relative to `dir`, written in that order.
#' @param algo `"sha1"` (the default), `"md5"`, `"sha224"`, `"sha256"`,
#'   `"sha384"`, `"sha512"`, `"blake2b"` (BLAKE2b-512, as `b2sum`) or
#'   `"blake3"` (as `b3sum`), matched exactly (`"sha3"` is an error).
#' @param threads The number of worker threads: `NULL` (the default) for
#'   option `rwbridge.threads`, or else every core.
#' @param progress Show a progress line on stderr? `NULL` (the default)
#'   means [interactive()].
#' @param shards `NULL` (the default) to do all the work in this R process.
#'   Or a whole number `n >= 1`: the files (listed by this process when
#'   `files` is `NULL`) are split into at most `n` parts of about equal
#'   bytes, each hashed by a future (package \pkg{future}) under the user's
#'   [future::plan()], as [verify()]'s `shards` are: every worker must see
#'   `dir` at the same path and have rwbridge installed, and uses its own
#'   threads. This process writes the manifest from the merged digests, so
#'   it is the one written without `shards`; if a file cannot be read, no
#'   manifest is written. If a part fails (its worker died, its future
#'   errored), the call signals an `rwbridge_internal_error` naming the
#'   failed parts, whose `result` field holds the digests of every finished
#'   part, and no manifest is written.
#' @return A data frame of `file` and `digest`, invisibly.
#' @section Errors:
#' * `rwbridge_type_error`, `rwbridge_value_error`: a bad argument, or a
#'   name in `files` that leads outside `dir` (no manifest is written).
#' * `rwbridge_io_error`: a file cannot be read, or leads outside `dir`
#'   through a link (no manifest is written, so none silently leaves a file
#'   out), the directory cannot be listed, or the manifest cannot be
#'   written.
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
write_signatures <- function(dir, manifest = "sha1sum.txt", files = NULL, algo = "sha1",
                             threads = NULL, progress = NULL, shards = NULL) {
  args <- rw_workers(dir, manifest, threads, progress, shards, sys.call())
  if (!is.null(files)) {
    check_paths(files, "files")
  }
  algo <- rw_algo(algo)
  dir <- args$dir
  manifest <- args$manifest
  signed <- if (is.null(args$shards)) {
    rw_unwrap(write_signatures_(dir, manifest, files, algo, args$threads, args$progress))
  } else {
    names <- if (is.null(files)) rw_unwrap(list_files_(dir, manifest)) else files
    # Refuses names that lead outside `dir`, as without shards.
    sizes <- rw_unwrap(name_sizes_(dir, names))
    hashed <- rw_hash_shards(names, algo, threads, args$shards, sys.call(), dir = dir,
                             sizes = sizes)
    # As without shards: no manifest that silently leaves a file out.
    failed <- which(!is.na(hashed$kind))
    if (length(failed) > 0) {
      first <- failed[[1L]]
      rw_abort(hashed$kind[[first]], hashed$message[[first]], call = sys.call(),
               path = paste0(sub("/+$", "", dir, useBytes = TRUE), "/", names[[first]]))
    }
    rw_unwrap(write_manifest_(dir, manifest, names, hashed$digest))
    list(file = names, digest = hashed$digest)
  }
  invisible(data.frame(file = signed$file, digest = signed$digest, stringsAsFactors = FALSE))
}

#' Hash files in parallel
#'
#' Computes the digest of each file, in parallel, using the CPU's SHA and
#' vector instructions where it has them. The digests are those that
#' `md5sum`, `sha1sum` ... `b2sum` and `b3sum` print.
#'
#' @param paths A character vector of paths, as R's file functions take
#'   them (see "File names" in [readit()]). `~` is expanded.
#' @param algo `"sha1"` (the default), `"md5"`, `"sha224"`, `"sha256"`,
#'   `"sha384"`, `"sha512"`, `"blake2b"` (BLAKE2b-512) or `"blake3"`,
#'   matched exactly (`"sha3"` is an error, not SHA-384).
#' @param threads The number of worker threads: `NULL` (the default) for
#'   option `rwbridge.threads`, or else every core.
#' @param progress Show a progress line on stderr? `NULL` (the default)
#'   means [interactive()].
#' @param shards `NULL` (the default) to do all the work in this R process.
#'   Or a whole number `n >= 1`: `paths` are split into at most `n` parts of
#'   about equal bytes, each hashed by a future (package \pkg{future}) under
#'   the user's [future::plan()], as [verify()]'s `shards` are: every worker
#'   must see the files at the same paths (relative paths are sent made
#'   absolute against this process's working directory) and have rwbridge
#'   installed, and uses its own threads. The parts are merged into exactly
#'   the result without `shards`, warnings and messages naming the paths as
#'   given. If a part fails (its worker died, its future errored), the call
#'   signals an `rwbridge_internal_error` naming the failed parts, whose
#'   `result` field holds the digests of every finished part.
#' @return A character vector of lowercase hex digests named by `paths`
#'   (as given), as [tools::md5sum()] returns, `NA` for a path that cannot
#'   be read (missing, not a regular file, no permission, or `NA`); one
#'   warning of class `rwbridge_unreadable_warning` names those paths, each
#'   with the reason.
#' @section Errors:
#' * `rwbridge_type_error`, `rwbridge_value_error`: a bad argument.
#' @seealso [verify()]; `digest::digest(file = )` computes the same MD5,
#'   SHA-1, SHA-256, SHA-512 and BLAKE3 digests one file at a time (it has
#'   no SHA-224, SHA-384 or BLAKE2b).
#' @export
#' @examples
#' path <- tempfile()
#' writeit("abc", path)
#' hash_files(path, threads = 2)
#' hash_files(path, algo = "sha256", threads = 2)
#' unlink(path)
hash_files <- function(paths, algo = "sha1", threads = NULL, progress = NULL, shards = NULL) {
  if (!is.character(paths)) {
    check_paths(paths, "paths", allow_na = TRUE)
  }
  if (!missing(algo)) {
    algo <- rw_algo(algo)
  }
  progress <- rw_progress(progress)
  expanded <- if (any(startsWith(paths, "~"), na.rm = TRUE)) path.expand(paths) else paths
  result <- if (is.null(shards)) {
    rw_unwrap(hash_files_(expanded, algo, rw_threads(threads), progress))
  } else {
    rw_threads(threads)
    rw_hash_shards(expanded, algo, threads, rw_shards(shards, sys.call()), sys.call())
  }
  digests <- result$digest
  names(digests) <- paths
  if (anyNA(digests)) {
    unreadable <- is.na(digests)
    warning(warningCondition(
      sprintf("cannot read %s: %s.", rw_count(sum(unreadable), "file"),
              paste0(rw_quote(paths[unreadable]), " (", result$reason[unreadable], ")",
                     collapse = ", ")),
      class = "rwbridge_unreadable_warning", call = sys.call()
    ))
  }
  digests
}

# The verification data frame from verify_()'s columns.
rw_verification <- function(columns, dir, complete) {
  result <- rw_data_frame(
    line = columns$line, file = columns$file, algo = rw_codes$algo[columns$algo],
    expected = columns$expected, actual = columns$actual,
    status = rw_codes$status[columns$status]
  )
  if (complete) {
    result$found_as <- columns$found_as
  }
  attr(result, "malformed") <- rw_data_frame(line = columns$malformed_line,
                                             text = columns$malformed_text)
  attr(result, "dir") <- dir
  class(result) <- c("rwbridge_verification", "data.frame")
  result
}

