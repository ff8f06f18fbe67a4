#' Verify a directory against its checksum manifest
#'
#' Checks every file listed in a checksum manifest, as written by
#' `md5sum`, `sha1sum` ... `sha512sum`, `b2sum` (at any `-l`), `b3sum`,
#' `cksum -a`, `xxhsum`, `xxh128sum`, `openssl dgst`, `rhash` and
#' `write_signatures()`, in parallel, and reports every problem in manifest
#' order: what `sha1sum -c` does, as a data frame. With `complete = TRUE` it
#' also audits the directory: files the manifest does not list, and listed
#' files that are missing but present under another name.
#'
#' @section Lines:
#' The manifest may hold, in any mix:
#' * GNU lines, `HASH  NAME` and `HASH *NAME`, with escaped names (a line
#'   starting with `\`, with `\\`, `\n` and `\r` in the name);
#' * BSD tags as `--tag`, `cksum`, `rhash --bsd` and `xxhsum --tag` write
#'   them, `TAG (NAME) = HASH` (blanks before `(` allowed), and as
#'   `openssl dgst` writes them, `TAG(NAME)= HASH`. The tags: `MD5`,
#'   `SHA1`, `SHA224` ... `SHA512` and openssl's `SHA2-224` ... `SHA2-512`,
#'   `SHA3-224` ... `SHA3-512`, `BLAKE2b` (512 bits) and `BLAKE2b-N`
#'   (`b2sum -l N --tag`), openssl's `BLAKE2B-512`, `BLAKE2s` and openssl's
#'   `BLAKE2S-256`, `BLAKE3`, `XXH32`, `XXH64`, `XXH3`, `XXH128` (and
#'   `xxhsum --little-endian`'s `XXH64_LE` and so on, whose digests are
#'   turned around), `CRC32C`. A tag says the algorithm, and no other is
#'   tried;
#' * xxhsum 0.8.2's untagged XXH3 lines, `XXH3_HASH  NAME`;
#' * digests in hex (either case) or in base64, as coreutils 9.2 and later
#'   write them with `--base64` (with the `=` padding, exactly as written;
#'   tagged, or untagged when their length is one of those below); the
#'   `expected` column shows them in hex;
#' * LF or CRLF line endings, or NUL-terminated records (`sha256sum -z`,
#'   `cksum -z`: a manifest that ends with a NUL byte), whose names are
#'   taken as written, unescaped.
#'
#' As GNU does, empty lines and lines starting with `#` are skipped and
#' blanks before the digest are allowed; any other line that does not parse
#' (a line of blanks included) is malformed, and so is a line tagged with an
#' algorithm rwbridge does not compute (`SM3`, `SHAKE-256`: its `reason`
#' names it), and so is a line holding a NUL byte (but in a NUL-terminated
#' manifest). Malformed lines are never dropped silently: they are in the
#' attribute `malformed` and raise one warning of class
#' `rwbridge_malformed_warning`. Its `text` shows each line as messages
#' quote input: a NUL byte as `\0`, bytes that are not UTF-8 as `\xNN`, and
#' a line longer than 200 bytes cut there, followed by `...` and its whole
#' length in bytes.
#'
#' @section Untagged digests: never a false mismatch:
#' An untagged digest's length may fit several algorithms. With `algo =
#' NULL`, the file is hashed first with the algorithm the manifest's file
#' name hints at, else with the most common of that length; if its digest
#' does not match, the file is read once more and hashed with every other
#' algorithm of that length, and only if none matches is it a
#' `"mismatch"` (in the hinted, else the most common algorithm). The `algo`
#' column names the algorithm that matched. A manifest of `b3sum` output
#' named `checksums.txt` is thus all `"ok"` for intact files, and costs one
#' read a file: the algorithm that matched is tried first for the lines
#' after it. Candidates by length (hex digits), most common first:
#'
#' | digits | algorithms, in the order tried |
#' | ---: | --- |
#' | 8 | xxh32, crc32c, blake2b-32 |
#' | 16 | xxh64, xxh3, blake2b-64 |
#' | 32 | md5, xxh128, blake2b-128 |
#' | 40 | sha1, blake2b-160 |
#' | 56 | sha224, sha3-224, blake2b-224 |
#' | 64 | sha256, blake3, sha3-256, blake2b-256, blake2s |
#' | 96 | sha384, sha3-384, blake2b-384 |
#' | 128 | sha512, blake2b, sha3-512 |
#' | any other even number `2k` up to 126 | blake2b-`8k` |
#'
#' File names that hint at an algorithm, in any case: `MD5SUMS`,
#' `SHA1SUMS` ... `SHA512SUMS`, `SHA3SUMS`, `SHA3-256SUMS`, `B2SUMS`,
#' `B3SUMS`, `XXH64SUMS` and so on, also spelled `...sum`, `...sums`,
#' `...sum.txt` or `...sums.txt` (`sha256sum.txt`, `b3sums.txt`); an
#' extension naming the algorithm (`x.md5`, `x.sha256`, `x.sha3-256`,
#' `x.b2`, `x.b3`, `x.blake3`, `x.xxh128`, `x.crc32c`, also as
#' `x.sha256sum`); and BagIt's `manifest-sha256.txt`. The names are those
#' of `algo` below, and `b2`/`blake2`/`blake2b` (BLAKE2b of the digest's
#' length), `b3` (BLAKE3), `sha3` (SHA-3 of the digest's length), `xxh` or
#' `xxhash` (XXH32, XXH64 or XXH128 by length); `_` reads as `-`. A hint of
#' another length than a line's is ignored for that line. A named `algo`
#' settles every untagged line: no other is tried.
#'
#' @section Statuses:
#' `"ok"`; `"mismatch"` (the digest differs); `"missing"` (no such
#' file); `"unreadable"` (a directory, FIFO, device or other non-regular
#' file, which is never opened for reading, or a file that cannot be read);
#' `"refused"` (a name that is absolute or leads outside `dir`, through `..`
#' or a symbolic link, unless `allow_outside = TRUE`: see "Confinement").
#' With
#' `complete = TRUE`, also `"extra"` (a regular file under `dir`, at any
#' depth, that no line names and `exclude` does not leave out; the
#' manifest itself excepted; symbolic links are not followed) and
#' `"moved"` (a listed file that is missing, while an extra file has
#' exactly its expected digest, in any algorithm the line may be: that file
#' is named in `found_as` and is not also an `"extra"` row; one extra file
#' explains at most one missing file, the first in manifest order, and
#' among identical extra files the first in bytewise order is taken). Names
#' are compared as the directory spells them, so `./a` and `sub//../a` list
#' `a`.
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
#' @param algo `NULL` (the default): each line's algorithm is its tag's, or
#'   for an untagged digest the one that matches among those of its length
#'   (see "Untagged digests" above). Or one of `"md5"`, `"sha1"`,
#'   `"sha224"`, `"sha256"`, `"sha384"`, `"sha512"`, `"blake2b"`
#'   (BLAKE2b-512, as `b2sum` writes), `"blake3"` (256 bits, as `b3sum`
#'   writes), `"sha3-224"`, `"sha3-256"`, `"sha3-384"`, `"sha3-512"`,
#'   `"blake2s"` (256 bits), `"xxh32"`, `"xxh64"`, `"xxh3"` (64 bits),
#'   `"xxh128"`, `"crc32c"`, or `"blake2b-N"` for BLAKE2b of `N` bits (`N` a
#'   multiple of 8 from 8 to 504, as `b2sum -l N` writes): every untagged
#'   line must then be of that algorithm (a line of another length is
#'   malformed), and extra files are hashed with it. The name is matched
#'   exactly: `"sha3"` or `"m"` is an error, not a prefix of a choice.
#' @param complete If `TRUE`, also list the files under `dir` that the
#'   manifest does not name (`"extra"`) and find missing files that were
#'   renamed (`"moved"`). Extra files are hashed with `algo`, or else with
#'   the algorithm the manifest's first line was found in (SHA-1 for an
#'   empty manifest).
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
#' @param exclude `NULL` (the default), or a character vector of glob
#'   patterns naming files that `complete = TRUE` leaves out: they are
#'   neither hashed nor reported as `"extra"` (nor found as moved). They
#'   follow `.gitignore`'s rules, matched against the path relative to
#'   `dir` with `/` between folders: `*`, `?`, `[a-z]` and `**` (any number
#'   of folders); a pattern without a `/` (but at its end) matches in every
#'   folder (`*.tmp` leaves out `sub/b.tmp`), one with a `/` is anchored at
#'   `dir` (`/notes.txt`, `cache/**`); a trailing `/` matches folders only
#'   (`cache/` leaves out everything in every folder named `cache`); `!`
#'   takes a name back, but never out of a folder left out; a later pattern
#'   wins. The lines of the manifest are always checked, whatever their
#'   names. Without `complete = TRUE` the patterns are only checked.
#' @return A data frame of class `c("rwbridge_verification", "data.frame")`
#'   with one row per well-formed line, in manifest order, then with
#'   `complete = TRUE` one row per extra file, sorted bytewise, and columns
#'   `line` (integer; `NA` for an extra file), `file` (as listed), `algo`
#'   (the algorithm the file was found in, see above), `expected` (lowercase
#'   hex; `NA` for an extra file), `actual` (lowercase hex, in `algo`; `NA`
#'   when the file was not hashed) and `status`; with `complete = TRUE` also
#'   `found_as` (the name a moved file was found under, else `NA`).
#'   Attribute `malformed` is a data frame of `line`, `text` and `reason`
#'   (`NA`, or what more can be said, such as an algorithm rwbridge lacks).
#'   Printing it summarises the counts and names the files that are not
#'   `"ok"`.
#' @section Errors:
#' * `rwbridge_type_error`, `rwbridge_value_error`: a bad argument (an
#'   unknown algorithm, a pattern in `exclude` that is not a glob).
#' * `rwbridge_io_error`: the manifest is missing or cannot be read; with
#'   `complete = TRUE`, `dir` cannot be listed.
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
#'
#' # b3sum's output under a name that says nothing: every file is "ok".
#' writeit(paste0(hash_files(file.path(delivery, "sample.fastq"), "blake3"),
#'                "  sample.fastq\n"), file.path(delivery, "checksums.txt"))
#' verify(delivery, "checksums.txt", threads = 2)
#' unlink(delivery, recursive = TRUE)
verify <- function(dir, manifest = "sha1sum.txt", threads = NULL, progress = NULL,
                   error = FALSE, allow_outside = FALSE, algo = NULL, complete = FALSE,
                   shards = NULL, exclude = NULL) {
  args <- rw_workers(dir, manifest, threads, progress, shards, sys.call())
  check_flag(error, "error")
  check_flag(allow_outside, "allow_outside")
  algo <- if (is.null(algo)) "" else rw_algo(algo)
  check_flag(complete, "complete")
  if (!is.null(exclude)) {
    exclude <- check_exclude(exclude)
  }
  dir <- args$dir
  manifest_path <- args$manifest_path
  columns <- if (is.null(args$shards)) {
    rw_unwrap(verify_(dir, args$manifest, algo, args$threads, args$progress, allow_outside,
                      complete, NULL, exclude))
  } else {
    rw_verify_shards(dir, args$manifest, algo, args$threads, threads, allow_outside, complete,
                     exclude, args$shards, sys.call())
  }
  result <- rw_verification(columns, dir, complete)
  malformed <- attr(result, "malformed")
  malformed_count <- length(columns$malformed_line)
  if (malformed_count > 0) {
    explained <- which(!is.na(malformed$reason))
    reasons <- if (length(explained) > 0) {
      shown <- utils::head(explained, 3)
      sprintf(" (%s%s)", paste0("line ", malformed$line[shown], ": ", malformed$reason[shown],
                                collapse = "; "),
              if (length(explained) > 3) "; ..." else "")
    } else {
      ""
    }
    warning(warningCondition(
      sprintf("%s in %s could not be parsed and %s skipped: %s%s.",
              rw_count(malformed_count, "line"), rw_quote(manifest_path),
              if (malformed_count == 1) "was" else "were",
              rw_list_lines(malformed$line), reasons),
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
#' `manifest` in the form that the tool of the algorithm checks: GNU lines,
#' `HASH  NAME`, for `md5sum -c` ... `sha512sum -c`, `b2sum -c` (any
#' length), `b3sum -c` and `xxhsum -c` (XXH32, XXH64, XXH128); BSD tagged
#' lines, `TAG (NAME) = HASH`, where the tool cannot tell the algorithm from
#' the digest's length: SHA-3 (as `cksum -a sha3` writes them, for
#' `cksum -c` and `rhash -c`), XXH3 (as `xxhsum -H3` writes them), BLAKE2s
#' and CRC32C (as `rhash --bsd`, for `rhash -c`). Names that hold a
#' backslash, a newline or a carriage return are escaped as GNU coreutils
#' does. The manifest is replaced atomically, as [writeit()] replaces a
#' file. [verify()] of a fresh manifest is all `"ok"`.
#'
#' With `update = TRUE`, an existing manifest is brought up to date
#' without hashing what it lists: its lines for files still there are kept
#' as they are (comments and empty lines too), files it does not list yet
#' are hashed and their lines added at the end (in its form: NUL-terminated
#' records for a `-z` manifest), and the lines of files gone, or left out
#' by `exclude`, are dropped. Whether the files it lists still have those
#' digests is [verify()]'s job, not this one's. No manifest yet is an empty
#' one.
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
#'   itself and what `exclude` leaves out; symbolic links are not followed
#'   (as `find -type f`). Or a character vector of names relative to `dir`,
#'   written in that order (less those `exclude` leaves out).
#' @param algo `"sha1"` (the default), `"md5"`, `"sha224"`, `"sha256"`,
#'   `"sha384"`, `"sha512"`, `"blake2b"` (BLAKE2b-512, as `b2sum`),
#'   `"blake3"` (as `b3sum`), `"sha3-224"` ... `"sha3-512"`, `"blake2s"`,
#'   `"xxh32"`, `"xxh64"`, `"xxh3"`, `"xxh128"`, `"crc32c"`, or
#'   `"blake2b-N"` (as `b2sum -l N`), matched exactly (`"sha3"` is an
#'   error).
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
#' @param exclude `NULL` (the default), or a character vector of glob
#'   patterns naming files to leave out of the manifest, with
#'   `.gitignore`'s rules, as [verify()]'s `exclude` (`c(".DS_Store",
#'   "Thumbs.db", "*.tmp", "cache/")`). They apply to `files` too.
#' @param update If `TRUE`, update the existing manifest (see above)
#'   instead of writing a new one; its lines must all be of `algo`.
#' @return A data frame of `file` and `digest`, invisibly. With `update =
#'   TRUE`, one row per line of the manifest written (kept lines with the
#'   name and digest they list, then the files added), a column `change`
#'   (`"kept"` or `"added"`), an attribute `dropped` (the names whose
#'   lines were dropped) and an attribute `counts` (the number of lines
#'   `kept`, `added` and `dropped`).
#' @section Errors:
#' * `rwbridge_type_error`, `rwbridge_value_error`: a bad argument (an
#'   unknown algorithm, a pattern in `exclude` that is not a glob, a name
#'   in `files` that leads outside `dir`); with `update = TRUE`, a
#'   `manifest` that is not one (a line that does not parse: an error
#'   naming `manifest`) or one of another algorithm (an error naming
#'   `algo`). Nothing is written.
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
#' writeit("scratch\n", file.path(dir, "c.tmp"))
#' write_signatures(dir, threads = 2, exclude = "*.tmp")
#' readit(file.path(dir, "sha1sum.txt"), as = "text")
#' verify(dir, threads = 2)
#'
#' # A file added later: only it is hashed.
#' writeit("gamma\n", file.path(dir, "g.txt"))
#' added <- write_signatures(dir, update = TRUE, threads = 2, exclude = "*.tmp")
#' attr(added, "counts")
#' unlink(dir, recursive = TRUE)
write_signatures <- function(dir, manifest = "sha1sum.txt", files = NULL, algo = "sha1",
                             threads = NULL, progress = NULL, shards = NULL, exclude = NULL,
                             update = FALSE) {
  args <- rw_workers(dir, manifest, threads, progress, shards, sys.call())
  if (!is.null(files)) {
    check_paths(files, "files")
  }
  algo <- rw_algo(algo)
  if (!is.null(exclude)) {
    exclude <- check_exclude(exclude)
  }
  check_flag(update, "update")
  dir <- args$dir
  manifest <- args$manifest
  signed <- if (is.null(args$shards)) {
    rw_unwrap(write_signatures_(dir, manifest, files, algo, args$threads, args$progress,
                                exclude, update))
  } else {
    rw_sign_shards(dir, manifest, files, algo, threads, exclude, update, args$shards,
                   sys.call())
  }
  result <- data.frame(file = signed$file, digest = signed$digest, stringsAsFactors = FALSE)
  if (update) {
    result$change <- ifelse(signed$added, "added", "kept")
    attr(result, "dropped") <- signed$dropped
    attr(result, "counts") <- c(kept = sum(!signed$added), added = sum(signed$added),
                                dropped = length(signed$dropped))
  }
  invisible(result)
}

#' Hash files in parallel
#'
#' Computes the digest of each file, in parallel, using the CPU's SHA and
#' vector instructions where it has them. The digests are those that
#' `md5sum`, `sha1sum` ... `b2sum` (`-l N`), `b3sum`, `cksum -a sha3`,
#' `xxhsum` and `rhash --crc32c` print. One big file in BLAKE3 is hashed by
#' every worker thread at once (each a part of it, as `b3sum` does), read
#' with ordinary reads, never memory-mapped, so a file truncated meanwhile
#' cannot take R down.
#'
#' @param paths A character vector of paths, as R's file functions take
#'   them (see "File names" in [readit()]). `~` is expanded.
#' @param algo `"sha1"` (the default), or any algorithm [verify()] takes:
#'   `"md5"`, `"sha224"`, `"sha256"`, `"sha384"`, `"sha512"`, `"blake2b"`
#'   (BLAKE2b-512), `"blake3"`, `"sha3-224"` ... `"sha3-512"`,
#'   `"blake2s"`, `"xxh32"`, `"xxh64"`, `"xxh3"`, `"xxh128"`, `"crc32c"`
#'   or `"blake2b-N"`, matched exactly (`"sha3"` is an error, not
#'   SHA-384).
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
#' @param exclude `NULL` (the default): each path is hashed as given, and a
#'   directory is `NA`, as any path that is not a regular file. Or a
#'   character vector of glob patterns (`character()` for none): then each
#'   path that is a directory stands for the regular files under it, listed
#'   as [write_signatures()] lists them (recursively, sorted bytewise,
#'   symbolic links not followed) less those the patterns leave out
#'   (`.gitignore`'s rules, relative to that directory, as [verify()]'s
#'   `exclude`), each named `<path>/<name>`. Paths that are not
#'   directories are hashed as given: the patterns sort listings, not the
#'   files named.
#' @return A character vector of lowercase hex digests named by `paths`
#'   (as given; with `exclude`, a directory's files as above), as
#'   [tools::md5sum()] returns, `NA` for a path that cannot be read
#'   (missing, not a regular file, no permission, or `NA`); one warning of
#'   class `rwbridge_unreadable_warning` names those paths, each with the
#'   reason.
#' @section Errors:
#' * `rwbridge_type_error`, `rwbridge_value_error`: a bad argument (an
#'   unknown algorithm, a pattern in `exclude` that is not a glob).
#' * `rwbridge_io_error`: with `exclude`, a directory cannot be listed.
#' @seealso [verify()]; `digest::digest(file = )` computes the same MD5,
#'   SHA-1, SHA-256, SHA-512, BLAKE3, XXH32, XXH64, XXH3 and XXH128 digests
#'   one file at a time.
#' @export
#' @examples
#' path <- tempfile()
#' writeit("abc", path)
#' hash_files(path, threads = 2)
#' hash_files(path, algo = "sha3-256", threads = 2)
#' hash_files(path, algo = "blake2b-256", threads = 2)
#'
#' # Every file of a folder but the temporary ones.
#' dir <- file.path(tempdir(), "hashed")
#' dir.create(file.path(dir, "sub"), recursive = TRUE)
#' writeit("a", file.path(dir, "a.txt"))
#' writeit("b", file.path(dir, "sub", "b.tmp"))
#' hash_files(dir, algo = "xxh128", exclude = "*.tmp", threads = 2)
#' unlink(c(path, dir), recursive = TRUE)
hash_files <- function(paths, algo = "sha1", threads = NULL, progress = NULL, shards = NULL,
                       exclude = NULL) {
  if (!is.character(paths)) {
    check_paths(paths, "paths", allow_na = TRUE)
  }
  if (!missing(algo)) {
    algo <- rw_algo(algo)
  }
  progress <- rw_progress(progress)
  expanded <- if (any(startsWith(paths, "~"), na.rm = TRUE)) path.expand(paths) else paths
  if (!is.null(exclude)) {
    listed <- rw_listed_paths(paths, expanded, check_exclude(exclude))
    paths <- listed$paths
    expanded <- listed$expanded
  }
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

# hash_files()'s paths with each directory replaced by the files under it
# that `exclude` leaves in, as given (`paths`) and as Rust opens them
# (`expanded`); the patterns are checked even when no path is a directory.
rw_listed_paths <- function(paths, expanded, exclude, call = sys.call(-1)) {
  folders <- which(!is.na(expanded) & dir.exists(expanded))
  if (length(folders) == 0) {
    rw_unwrap(check_exclude_(exclude), call)
    return(list(paths = paths, expanded = expanded))
  }
  given <- as.list(paths)
  opened <- as.list(expanded)
  for (i in folders) {
    names <- rw_unwrap(list_files_(expanded[[i]], NULL, NULL, exclude), call)
    given[[i]] <- paste0(sub("/+$", "", paths[[i]], useBytes = TRUE), "/", names)
    opened[[i]] <- paste0(sub("/+$", "", expanded[[i]], useBytes = TRUE), "/", names)
  }
  list(paths = as.character(unlist(given, use.names = FALSE)),
       expanded = as.character(unlist(opened, use.names = FALSE)))
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
                                             text = columns$malformed_text,
                                             reason = columns$malformed_reason)
  attr(result, "dir") <- dir
  class(result) <- c("rwbridge_verification", "data.frame")
  result
}

