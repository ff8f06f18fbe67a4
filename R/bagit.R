#' Validate a BagIt bag
#'
#' Checks a bag as RFC 8493 (BagIt 1.0) and the versions before it (0.93 to
#' 0.97) define one, and reports every reason it is not valid: what
#' bagit-python's `Bag.validate()` does, with every problem in one result
#' instead of the first, and without ever reading outside the bag.
#'
#' What is checked:
#' * The bag declaration `bagit.txt`: exactly two lines, `BagIt-Version:
#'   M.N` then `Tag-File-Character-Encoding: ENCODING`, in UTF-8, with no
#'   byte-order mark; in 1.0 in the exact form `Label: value` (one space or
#'   tab after the colon, no other blanks), before 1.0 with blanks around
#'   the colon allowed. Versions 0.93 to 0.97 and 1.0 are known; any other
#'   is a problem (the bag is then checked by 1.0's rules).
#' * The tag file encoding: UTF-8, US-ASCII, ISO-8859-1 and UTF-16 (by
#'   any of their IANA names) are read. Any other declared encoding is a problem,
#'   and then no other tag file is read. A tag file that is not valid text in
#'   its encoding is a problem naming the byte offset.
#' * The payload directory `data/` and at least one payload manifest
#'   `manifest-<algorithm>.txt`. Every payload manifest and every tag
#'   manifest `tagmanifest-<algorithm>.txt` in the bag's top directory is
#'   read and checked. Algorithms are named in the file names as
#'   bagit-python names them (`md5`, `sha1`, `sha224`, `sha256`, `sha384`,
#'   `sha512`, `sha3_224`, `sha3_256`, `sha3_384`, `sha3_512`, `blake2b`
#'   for BLAKE2b-512, `blake2s` for BLAKE2s-256, and also `blake3`), or in RFC
#'   8493's normalised spelling (lowercase, without `-` or `_`), and in the
#'   `algo` column by [verify()]'s names. A manifest of any other
#'   algorithm (bagit-python's `shake_128`, say) is still read for completeness,
#'   its rows have status `"present"`, and it is a problem (code
#'   `"algorithm"`): rwbridge cannot vouch for checksums it did not check.
#' * Manifest lines: `checksum`, one or more spaces or tabs, `filepath`;
#'   hex digits in either case, as many as the algorithm gives; LF, CRLF or
#'   CR line endings. In 1.0 a path's LF, CR and `%` are written `%0A`,
#'   `%0D` and `%25`, and any other `%` is a problem. Before 1.0 paths are
#'   taken as written, except that `%0A` and `%0D` are decoded, as
#'   bagit-python (which writes 0.97 bags) encodes line breaks so.
#' * Paths: a payload manifest lists files under `data/` only, a tag
#'   manifest files outside it only, and no path may be absolute or lead
#'   outside the bag, through `..` or a symbolic link (links that stay
#'   inside are followed). Such lines are `"refused"`: never read. Every
#'   file is opened relative to the bag's directory with the kernel keeping
#'   it inside at the moment of the open, as [verify()] opens files (see
#'   "Confinement" there): a directory swapped for a link while the bag is
#'   checked is never read through.
#' * A tag file line holding a NUL byte (in a manifest, `bag-info.txt`,
#'   `fetch.txt` or `bagit.txt`) is a problem of the bag. Problems quote at
#'   most 200 bytes of a line or a name (then `...` and its whole length),
#'   with a NUL byte shown as `\0` and bytes that are not UTF-8 as `\xNN`.
#' * Completeness: every file listed in any manifest is present; every
#'   payload file (every entry under `data/` that is not a directory) is
#'   listed in every payload manifest in 1.0, in at least one before 1.0.
#'   Payload files that no manifest lists and that `exclude` leaves out
#'   are no part of the check (see `exclude`).
#'   A file listed in a payload manifest and in `fetch.txt` may be absent:
#'   its row has status `"unfetched"`, and it is not a problem (so `valid`
#'   means valid but for the files still to fetch). `fetch.txt` lines must
#'   be `url length filepath` with an absolute URL, a length in octets or
#'   `-`, a path under `data/` listed in every payload manifest.
#' * Duplicates: a path listed twice in one manifest is a problem in 1.0;
#'   before 1.0 it is doubtful when both lines give the same checksum, and a
#'   problem when they differ.
#' * `bag-info.txt` (`package-info.txt` before 0.96): `Label: value` lines,
#'   values continued on lines that start with a blank. Every
#'   `Payload-Oxum` (`OctetCount.StreamCount`) must match the payload's
#'   octets and files; files still to fetch count with the length
#'   `fetch.txt` gives them.
#' * Checksums: every line of every payload and tag manifest. Each file is
#'   read once, whatever the number of manifests that list it, with all its
#'   digests computed in that one pass; tag files already read (the
#'   manifests, `bag-info.txt`) are hashed from memory, not read again.
#'
#' Valid but doubtful, and reported in one warning of class
#' `rwbridge_bag_warning` (and in attribute `doubts`): a path written with
#' a leading `./` or with `//`, `/./`, `..`; a `*` before a path (the
#' binary-mode marker of `sha256sum`, taken as no part of it); payload files
#' whose names differ only by case or Unicode normalisation (one file on a
#' Mac or on Windows), or a manifest name that matches a file only after
#' Unicode normalisation (it is then checked, as bagit-python does);
#' duplicate lines with the same checksum before 1.0; payload files listed in
#' some payload manifests only, before 1.0; blank lines and `#` comment
#' lines in tag files (bagit-python skips them; RFC 8493 has none); a
#' byte-order mark in a tag file other than `bagit.txt`; blanks around a
#' colon in `bag-info.txt` before 1.0 (or more than one after it in 1.0);
#' `Bagging-Date`, `Bag-Size`, `Payload-Oxum`, `Bag-Group-Identifier` or
#' `Bag-Count` given more than once.
#'
#' A bag is never changed by checking it: files are only opened for
#' reading, and never outside the bag. A folder holding the journal that an
#' interrupted [write_bag()] or [update_bag()] leaves
#' (`.rwbridge-bag-journal`) has a problem of code `"interrupted"` naming
#' it: run `write_bag()` (or `update_bag()`) on it again, which completes or
#' rolls back what the journal names.
#'
#' @section The conformance suite's rules:
#' The Library of Congress BagIt conformance suite (every version, 0.93 to
#' 1.0) passes: its valid bags are valid without a warning, its invalid
#' bags are not valid, its warning bags are valid with one warning. Where it
#' sets rules RFC 8493 does not spell out:
#' * Before 1.0, a `./` on some lines of a manifest is the drafts' own form
#'   (the suite's valid bags have it) and is not doubtful; a manifest that
#'   writes every path with `./` (made relative to somewhere else) is. In
#'   1.0 every `./` is doubtful.
#' * Before 1.0, blanks around the colon of a `bag-info.txt` line and
#'   reserved labels (`Bagging-Date`, `Payload-Oxum`, ...) given twice are
#'   not doubtful; in 1.0 they are doubtful (blanks before the colon are a
#'   problem).
#' * A path listed in a payload manifest that is not in `data/` but matches
#'   exactly one file there when case is ignored is that file (as on a Mac
#'   or Windows), and doubtful; likewise for Unicode normalisation.
#' * Files an operating system makes by itself (`.DS_Store`, `._*`,
#'   `Thumbs.db`, `ehthumbs.db`, `desktop.ini`, `Icon\r`) in the payload are
#'   doubtful; listed but gone (copying tools drop them), they are doubtful
#'   rather than a problem (their rows have status `"missing"`), and a
#'   `Payload-Oxum` that counts them still matches.
#' * Tag files in UTF-16 (`Tag-File-Character-Encoding: UTF-16`, `UTF-16BE`
#'   or `UTF-16LE`) are read: `UTF-16` in the byte order its byte-order mark
#'   gives, or without one the order its ASCII text makes sense in.
#'
#' @section Serialized bags:
#' `bag` may also be a `.zip`, `.tar`, `.tar.gz` or `.tgz` file (RFC 8493,
#' section 4) holding one top directory, the bag: it is checked where it is,
#' never unpacked to disk, and the result is the same as for the unpacked
#' bag (rows, problems, doubts, `info`), with attribute `bag` the archive's
#' path. The archive is read once: its index and tag files first, then each
#' payload member once for all its digests (a zip's and a plain tar's
#' members in parallel). A `.tar.gz` is one compressed stream, read on one
#' thread; its payload members are hashed as they pass with the algorithms
#' of the manifests met so far (SHA-256 and SHA-512 before any), and the
#' stream is read a second time only for members met before a manifest of
#' another algorithm. Members whose names are absolute or hold `..` are
#' not part of the bag: each is a problem (code `"outside"`), never read;
#' symbolic links are followed inside the archive only (one that leads
#' outside is a problem, as in a folder). An archive that cannot be read
#' as its kind (by its name's extension, in any case), that is empty, or
#' whose members are not all in one top directory (two top folders, or a
#' file at the top) is an `rwbridge_io_error`: it is not a serialized bag,
#' so there is no bag to report on. `shards` needs a bag directory.
#'
#' Ctrl-C stops the check within a fraction of a second: the worker threads
#' stop, and the call ends with an `interrupt` condition.
#'
#' @param bag A single string: the bag's top directory, or a serialized
#'   bag (a `.zip`, `.tar`, `.tar.gz` or `.tgz` file; see "Serialized
#'   bags"), as R's file functions take it (see "File names" in
#'   [readit()]). `~` is expanded. In the result, `file` names a payload
#'   file that is not UTF-8 by its exact bytes, as [verify()] does.
#' @param fast If `TRUE`, check only the structure, completeness and
#'   `Payload-Oxum`, hashing nothing: rows of present files have status
#'   `"present"`, and `valid` says that those checks passed. A bag without
#'   `Payload-Oxum` can still be valid then (bagit-python's fast mode
#'   refuses it instead).
#' @param threads The number of worker threads: `NULL` (the default) for
#'   option `rwbridge.threads`, or else every core (see [rwbridge]).
#' @param progress Show a progress line on stderr (files and bytes done of
#'   the total, throughput)? `NULL` (the default) means [interactive()].
#' @param error If `TRUE`, signal an `rwbridge_verify_error` when the bag
#'   is not valid. Its message lists every problem, and its `result` field
#'   holds the data frame.
#' @param shards `NULL` (the default) to do all the work in this R process.
#'   Or a whole number `n >= 1`: the files to hash are split into at most
#'   `n` parts of about equal bytes, each hashed by a future under the
#'   user's [future::plan()], as [verify()]'s `shards` are (every worker
#'   must see `bag` at the same path). This process reads the bag's tag
#'   files and lists its payload, as without `shards`, so the result is
#'   exactly the same: rows, problems, doubts, warnings and errors. With
#'   `fast = TRUE` nothing is hashed, so there is nothing to share out and
#'   the check runs here. If a part fails, the call signals an
#'   `rwbridge_internal_error` naming the failed parts, whose `result`
#'   field holds the rows of every finished part (and of the files this
#'   process hashed).
#' @param exclude `NULL` (the default), or a character vector of glob
#'   patterns naming payload files to leave out when no manifest lists
#'   them: such a file (a `.DS_Store` or `*.tmp` that appeared in `data/`
#'   after bagging) is neither hashed nor reported (no `"unlisted"`
#'   problem, no `"extra"` row, no `"system_file"` or `"names"` doubt) and
#'   is not counted in the `Payload-Oxum` check. The patterns are matched
#'   against the path relative to the bag's `data/` folder, with
#'   [verify()]'s `exclude` rules (`.gitignore`'s: `*.tmp` matches in every
#'   folder, `cache/**` or `/notes.txt` only from `data/`, `cache/` a folder
#'   and all it holds), so the same `exclude` given to [write_bag()] and to
#'   `verify_bag()` agree. A file that a manifest lists is checked as
#'   always, whether a pattern matches it or not. The same for a directory
#'   and a serialized bag, with `fast = TRUE` and with `shards`.
#' @return A data frame of class `c("rwbridge_bag_verification",
#'   "rwbridge_verification", "data.frame")` with one row per manifest line,
#'   payload manifests first then tag manifests, each in name order and in
#'   line order, followed for each payload manifest by the payload files it
#'   does not list. Columns: `line` (integer; `NA` for an unlisted file),
#'   `file` (the path as listed, decoded, or the unlisted file's name),
#'   `algo`, `expected` (`NA` for an unlisted file), `actual` (lowercase
#'   hex; `NA` when not hashed), `status` and `manifest` (the manifest's
#'   file name). Statuses: `"ok"`, `"mismatch"`, `"missing"`,
#'   `"unreadable"` (not a regular file, or cannot be read), `"refused"`
#'   (outside the bag, or on the wrong side of `data/`), `"extra"` (a
#'   payload file this payload manifest does not list), `"unfetched"`
#'   (absent, listed in `fetch.txt`) and `"present"` (there, not hashed:
#'   `fast = TRUE`, or an algorithm rwbridge lacks).
#'
#'   Attributes: `valid` (`TRUE` or `FALSE`); `problems`, a data frame of
#'   `code` and `message` with one row per reason the bag is not valid
#'   (none for a valid bag); `doubts`, the same for what is valid but
#'   doubtful; `info`, the fields of `bag-info.txt` as a named list of
#'   character vectors (one element per label, in order of first
#'   appearance, holding every value given for it, so a repeated label
#'   gives a longer vector; a continued value's lines are joined with
#'   `"\n"`), the same shape as `write_bag()`'s `info`; `version` and
#'   `encoding`, as `bagit.txt` declares them (`NA` when it does not); and
#'   `bag`, the path.
#'
#'   Problem codes: `"declaration"`, `"version"`, `"encoding"`,
#'   `"structure"` (no `data/`, no payload manifest), `"manifest"` (a line
#'   that does not parse), `"algorithm"`, `"outside"`, `"duplicate"`,
#'   `"bag_info"`, `"fetch"`, `"oxum"`, `"missing"`, `"unlisted"`,
#'   `"unreadable"`, `"mismatch"`, `"interrupted"`. Doubt codes:
#'   `"dot_slash"`, `"star"`, `"roundabout"`, `"names"`, `"duplicate"`,
#'   `"partial"`, `"blank_line"`, `"comment"`, `"bom"`, `"bag_info"`,
#'   `"system_file"`.
#' @section Errors:
#' * `rwbridge_type_error`, `rwbridge_value_error`: a bad argument (a
#'   pattern in `exclude` that is not a glob).
#' * `rwbridge_io_error`: `bag` is missing, is neither a directory nor a
#'   serialized bag, or cannot be listed; an archive that cannot be read,
#'   is empty or does not hold exactly one top directory. (A directory that
#'   is not a bag is not an error: it is a bag that is not valid, and the
#'   problems say why.)
#' * `rwbridge_value_error`: `shards` with a serialized bag.
#' * `rwbridge_verify_error`: with `error = TRUE`, the bag is not valid.
#' * `rwbridge_value_error`: `shards` without the package \pkg{future}.
#' * `rwbridge_internal_error`: a part run with `shards` failed.
#' @seealso [write_bag()] to make a bag; [verify()] for plain checksum
#'   manifests.
#' @export
#' @examples
#' dir <- file.path(tempdir(), "delivery")
#' dir.create(dir)
#' writeit("ACGT\n", file.path(dir, "sample.fastq"))
#' writeit("id,value\n1,2\n", file.path(dir, "table.csv"))
#' write_bag(dir, info = list("Source-Organization" = "A lab"), threads = 2)
#' bag <- verify_bag(dir, threads = 2)
#' bag
#' attr(bag, "info")
#'
#' # Damage a file: the bag is no longer valid, and the problem says where.
#' writeit("ACGG\n", file.path(dir, "data", "sample.fastq"))
#' attr(verify_bag(dir, threads = 2), "problems")
#' try(verify_bag(dir, threads = 2, error = TRUE))
#' # fast = TRUE only compares sizes and names: the same size passes.
#' attr(verify_bag(dir, fast = TRUE, threads = 2), "valid")
#'
#' # A file a Mac adds to data/ later: left out of the check with `exclude`.
#' writeit("ACGT\n", file.path(dir, "data", "sample.fastq"))
#' writeit("", file.path(dir, "data", ".DS_Store"))
#' attr(verify_bag(dir, threads = 2, exclude = ".DS_Store"), "valid")
#' unlink(dir, recursive = TRUE)
verify_bag <- function(bag, fast = FALSE, threads = NULL, progress = NULL, error = FALSE,
                       shards = NULL, exclude = NULL) {
  args <- rw_workers(bag, NULL, threads, progress, shards, sys.call(), bag = TRUE)
  check_flag(fast, "fast")
  check_flag(error, "error")
  if (!is.null(exclude)) {
    exclude <- check_exclude(exclude)
  }
  bag <- args$dir
  if (!is.null(args$shards) && !fast && !dir.exists(bag)) {
    rw_abort("value", sprintf(
      "`shards` needs a bag directory; '%s' is not one (a serialized bag is checked here).", bag
    ), call = sys.call())
  }
  result <- if (is.null(args$shards) || fast) {
    found <- verify_bag_(bag, fast, args$threads, args$progress, exclude)
    rw_bag_verification(rw_unwrap(found, call = sys.call()), bag)
  } else {
    rw_bag_shards(bag, args$threads, threads, args$shards, exclude, sys.call())
  }
  doubts <- attr(result, "doubts")
  problems <- attr(result, "problems")
  if (nrow(doubts) > 0) {
    warning(warningCondition(
      sprintf("bag %s has %s (see attr(, \"doubts\")): %s.", rw_quote(bag),
              rw_count(nrow(doubts), "doubtful point"), rw_list_messages(doubts$message, 5)),
      class = "rwbridge_bag_warning", call = sys.call()
    ))
  }
  if (error && nrow(problems) > 0) {
    rw_abort("verify", sprintf("bag %s is not valid: %s: %s.", rw_quote(bag),
                               rw_count(nrow(problems), "problem"),
                               paste(problems$message, collapse = "; ")),
             call = sys.call(), result = result)
  }
  result
}

# The result of verify_bag() from verify_bag_()'s columns.
rw_bag_verification <- function(found, bag) {
  manifest <- found$manifest
  result <- rw_data_frame(
    line = found$line, file = found$file, algo = found$manifest_algos[manifest],
    expected = found$expected, actual = found$actual,
    status = rw_codes$status[found$status], manifest = found$manifest_files[manifest]
  )
  problems <- rw_data_frame(code = found$problem_code, message = found$problem_message)
  doubts <- rw_data_frame(code = found$doubt_code, message = found$doubt_message)
  labels <- found$info_label
  info <- split(found$info_value, factor(labels, levels = unique(labels)))
  attr(result, "valid") <- length(found$problem_code) == 0
  attr(result, "problems") <- problems
  attr(result, "doubts") <- doubts
  attr(result, "info") <- info
  attr(result, "version") <- found$version
  attr(result, "encoding") <- found$encoding
  attr(result, "bag") <- bag
  class(result) <- c("rwbridge_bag_verification", "rwbridge_verification", "data.frame")
  result
}

#' @export
print.rwbridge_bag_verification <- function(x, ...) {
  problems <- attr(x, "problems")
  if (is.null(attr(x, "valid")) || is.null(problems)) {
    # A subset: its attributes are gone, and its rows are what was asked for.
    return(invisible(print.data.frame(x, ...)))
  }
  version <- attr(x, "version")
  cat(sprintf("<rwbridge bag verification> '%s': %s%s\n", attr(x, "bag"),
              if (isTRUE(attr(x, "valid"))) "valid" else "NOT VALID",
              if (is.na(version)) "" else paste0(" (BagIt ", version, ")")))
  statuses <- unique(c(intersect("ok", x$status), sort(unique(x$status))))
  counts <- vapply(statuses, function(s) sum(x$status == s), integer(1))
  cat(sprintf("  %s from %s%s\n", rw_count(nrow(x), "row"),
              rw_count(length(unique(x$manifest)), "manifest"),
              if (nrow(x) > 0) paste0(": ", paste(statuses, counts, collapse = ", ")) else ""))
  if (nrow(problems) > 0) {
    shown <- utils::head(problems, 20)
    cat(sprintf("%s:\n", rw_count(nrow(problems), "problem")))
    cat(paste0("  [", shown$code, "] ", shown$message, "\n"), sep = "")
    if (nrow(problems) > nrow(shown)) {
      cat(sprintf("  ... and %d more (see attr(, \"problems\"))\n", nrow(problems) - nrow(shown)))
    }
  }
  doubts <- attr(x, "doubts")
  if (!is.null(doubts) && nrow(doubts) > 0) {
    cat(sprintf("%s (see attr(, \"doubts\"))\n", rw_count(nrow(doubts), "doubtful point")))
  }
  invisible(x)
}

#' Make a BagIt bag, in place or at a new place
#'
#' Turns `dir` into a BagIt 1.0 bag (RFC 8493), as bagit-python's
#' `bagit.make_bag()` does: everything in `dir` moves under `dir/data/`,
#' and `bagit.txt`, `bag-info.txt`, one payload manifest
#' `manifest-<algo>.txt` and one tag manifest `tagmanifest-<algo>.txt` per
#' algorithm are written beside it. With `dest`, the bag is made at `dest`
#' instead, from a copy of `dir`, which is not changed. [verify_bag()] and
#' bagit-python both validate the result (but see "Interoperability").
#'
#' Unlike bagit-python, it is all or nothing. In place, every file is read
#' (and hashed, once for all the algorithms) before anything moves, so an
#' unreadable file, a symbolic link or Ctrl-C leaves `dir` untouched; if a
#' move or a write fails after that, every step is undone, so `dir` is as it
#' was before, with nothing left behind. With `dest`, the bag is built in a
#' folder beside `dest` (`.<name>.rwbridge-partial`) and renamed to `dest`
#' only when whole; on failure that folder is removed and nothing else was
#' written.
#'
#' @section Leaving files out:
#' `exclude` names files and folders that are not bagged: they are neither
#' hashed nor listed, not counted in `Payload-Oxum`, and neither moved nor
#' copied. With `dest` they are simply not copied. In place they stay where
#' they are, so they end up beside `data/`, outside the payload: a
#' `cache/` folder or a `.DS_Store` at the top of `dir` stays at the top of
#' the bag, and `sub/b.tmp` stays in a folder `sub/` beside `data/` (while
#' the rest of `sub/` moves to `data/sub/`). The tag manifests
#' `write_bag()` writes do not list them (a later [update_bag()] lists
#' every file outside `data/` in the tag manifests, as bagit-python does).
#' rwbridge never deletes a file of yours: to have them gone, delete them
#' yourself. Something left out that would stay where the bag puts its own
#' `data/` or tag files (a top-level `data` folder holding a file left
#' out, a `bagit.txt` left out) is an `rwbridge_value_error`, before
#' anything changes; so is a pattern that is not a glob. An interrupted
#' call (killed, or failing) is rolled back without touching them.
#'
#' @section Killed, concurrent, changing:
#' * **Killed.** In place, before the first move `write_bag()` writes a
#'   journal, `dir/.rwbridge-bag-journal`, naming the temporary folder
#'   (`.rwbridge-bag-<pid>-<n>`) the entries move into and the tag files it
#'   will write; the journal is removed last. If R is killed (even with
#'   SIGKILL) anywhere in between, no file is lost (each is in `dir` or in
#'   that folder), and the next `write_bag()` or [update_bag()] on `dir`
#'   finds the journal and rolls the interrupted call back (tag files
#'   removed, every entry moved back where it was) before doing its own
#'   work, so it never bags the leftover folder or nests `data/data/`.
#'   [verify_bag()] on such a folder reports a problem of code
#'   `"interrupted"` naming the journal. With `dest`, a killed call leaves
#'   only the `.rwbridge-partial` folder beside `dest` (never `dest`), which
#'   the next `write_bag()` to the same `dest` removes.
#' * **Concurrent.** `write_bag()` in place locks `dir` (with `flock()`; the
#'   lock goes when the process does): a second `write_bag()` or
#'   `update_bag()` on it fails at once with an `rwbridge_io_error` saying
#'   that it is locked, and so does a `write_bag(dir, dest = )` copying it
#'   (copies of one `dir` can run together). Two calls with the same `dest`:
#'   one fails at once, the other makes the bag.
#' * **Changing.** A payload file whose size or modification time is not,
#'   once the bag is made, what it was when it was hashed (it changed or was
#'   truncated meanwhile) makes the call fail, with `dir` restored (or, with
#'   `dest`, nothing written) and a message naming the file: a bag that
#'   `write_bag()` returns always validates.
#' * **When restoring fails too** (a disk that fails mid-way), the error
#'   says so and names the temporary folder that holds what was moved; the
#'   journal stays, and the next `write_bag()` on `dir` completes the
#'   restore.
#'
#' @section Interoperability with bagit-python:
#' Bags made here validate with bagit-python (1.9), and bagit-python's bags
#' validate with [verify_bag()], for every algorithm both compute (`"md5"`,
#' `"sha1"`, `"sha224"`, `"sha256"`, `"sha384"`, `"sha512"`, `"blake2b"`),
#' with one exception where rwbridge follows RFC 8493 and bagit-python does
#' not: a file name holding `%`. RFC 8493 (BagIt 1.0) writes `%` in a
#' manifest path as `%25`, and rwbridge does; bagit-python decodes `%0A`
#' and `%0D` but not `%25`, so it reports such a file as missing from a
#' bag made here. (bagit-python writes 0.97 bags, where `%` is written as
#' is, and [verify_bag()] reads them so: its bags validate here.) A
#' `"blake3"` manifest is ignored by bagit-python, whose `hashlib` lacks
#' BLAKE3. Manifest file names are bagit-python's: `manifest-sha256.txt`;
#' for an algorithm whose R name has a hyphen (`"sha3-256"`) the file is `manifest-sha3_256.txt`, as bagit-python names
#' it, and [verify_bag()] reads RFC 8493's `manifest-sha3256.txt` too.
#'
#' @section Decisions where bagit-python and RFC 8493 leave room:
#' * Version 1.0 is declared (bagit-python 1.9 still writes 0.97), so in
#'   the manifests a path's `%`, LF and CR are written `%25`, `%0A` and
#'   `%0D`.
#' * Payload manifest lines are `checksum  data/path` (two spaces, as
#'   bagit-python writes them), sorted bytewise; the tag manifests list
#'   `bagit.txt`, `bag-info.txt` and the payload manifests, hashed from
#'   memory.
#' * Only regular files and directories are bagged (empty directories
#'   too). A symbolic link is an error, since moving it under `data/` can
#'   change what it points to; so is a FIFO, a device, or a name that is
#'   not valid UTF-8.
#' * `bag-info.txt` lines are sorted by label, as bagit-python writes them.
#'   `Bagging-Date` (today, `YYYY-MM-DD`) and `Bag-Software-Agent`
#'   (`rwbridge <version>`) are added unless `info` gives them;
#'   `Payload-Oxum` is always computed, replacing any given. A value with
#'   line breaks is written as continued lines (indented by two spaces),
#'   which [verify_bag()] reads back as the same value (bagit-python drops
#'   the line breaks instead).
#' * As bagit-python, `data/` gets the permissions of `dir`, and a
#'   directory that holds R's working directory cannot be bagged in place
#'   (that directory would move).
#' * With `dest`: `dest` must not exist (not even as an empty directory)
#'   and its parent must; it must not lie inside `dir`. Files are copied
#'   with their permissions (not their times), directories too; `dest` and
#'   `dest/data` get the permissions of `dir`. The copies are what is
#'   hashed, so the manifests describe exactly what the bag holds.
#'
#' @param dir A single string: the directory to bag, as R's file functions
#'   take it (see "File names" in [readit()]). `~` is expanded.
#' @param algo The algorithms of the manifests: a character vector of one
#'   or more of `"md5"`, `"sha1"`, `"sha224"`, `"sha256"`, `"sha384"`,
#'   `"sha512"`, `"sha3-224"`, `"sha3-256"`, `"sha3-384"`, `"sha3-512"`,
#'   `"blake2b"`, `"blake2s"` and `"blake3"` (the names [verify()] uses),
#'   matched exactly; every one but `"blake3"` is one bagit-python writes
#'   and checks too. The default, `c("sha256", "sha512")`, is
#'   bagit-python's.
#' @param info The `bag-info.txt` fields: a named list (or named character
#'   vector; `NULL` is `list()`) whose names are the labels and whose
#'   elements are atomic vectors, one line per value, e.g. `list("Source-Organization" = "Lab",
#'   "Contact-Name" = c("A", "B"))`. Labels must not be empty, hold a colon
#'   or a line break, or start or end with a blank; values must not be
#'   `NA`. BagIt's tag files are UTF-8: a latin1 string is converted, and a
#'   label or value whose bytes are not valid UTF-8 (`"caf\xe9"` in a UTF-8
#'   session, a `"bytes"` string that is not UTF-8) is an
#'   `rwbridge_value_error` naming the field.
#' @param threads The number of worker threads: `NULL` (the default) for
#'   option `rwbridge.threads`, or else every core.
#' @param progress Show a progress line on stderr while hashing? `NULL` (the
#'   default) means [interactive()].
#' @param dest `NULL` (the default) to make the bag in place, or a single
#'   string: where to make it, from a copy of `dir` (`~` is expanded).
#' @param exclude `NULL` (the default: every file is bagged), or a
#'   character vector of glob patterns naming files and folders not to bag
#'   (see "Leaving files out"), matched against the path relative to `dir`
#'   with `/` between folders, by [verify()]'s `exclude` rules
#'   (`.gitignore`'s): `c(".DS_Store", "*.tmp", "cache/")`. Give
#'   [verify_bag()] the same patterns to ignore such files appearing in
#'   `data/` later.
#' @return The bag's path, invisibly: `dir` (with `~` expanded), or `dest`.
#' @section Errors:
#' * `rwbridge_type_error`, `rwbridge_value_error`: a bad argument (a
#'   pattern in `exclude` that is not a glob); `dir` holds the working
#'   directory (in place); `dest` lies inside `dir`; in place, something
#'   `exclude` leaves out would stay in the way of `data/` or a tag file.
#' * `rwbridge_io_error`: `dir` is missing or not a directory; `dest`
#'   exists or its parent does not; a file cannot be read; a symbolic link
#'   or special file; `dir` (or `dest`) is locked by another writer; a file
#'   changed while it was bagged; a move, copy or write failed (then `dir`
#'   has been restored, and nothing is at `dest`).
#' @seealso [verify_bag()] to check a bag, [update_bag()] after its payload
#'   changed.
#' @export
#' @examples
#' dir <- file.path(tempdir(), "to-bag")
#' dir.create(file.path(dir, "raw"), recursive = TRUE)
#' writeit("ACGT\n", file.path(dir, "raw", "sample.fastq"))
#'
#' # A bag elsewhere, from a copy: `dir` stays as it is.
#' bag <- write_bag(dir, dest = file.path(tempdir(), "delivery-bag"), threads = 2)
#' list.files(bag, recursive = TRUE)
#'
#' # In place: the files move under data/; what `exclude` leaves out stays.
#' writeit("scratch\n", file.path(dir, "raw", "run.tmp"))
#' write_bag(dir, info = list("Contact-Name" = "Ada"), threads = 2, exclude = "*.tmp")
#' list.files(dir, recursive = TRUE)
#' cat(readit(file.path(dir, "bag-info.txt"), as = "text"))
#' unlink(c(dir, bag), recursive = TRUE)
write_bag <- function(dir, algo = c("sha256", "sha512"), info = list(), threads = NULL,
                      progress = NULL, dest = NULL, exclude = NULL) {
  rw_write_bag(dir, algo, info, threads, progress, dest = dest, exclude = exclude,
               call = sys.call())
}

# The test hooks (tests only): `fail_at` makes that step fail, `pause_at`
# makes it wait (having written `pause_file`) until `pause_file` is
# removed, and `fail_undo` makes the restore after a failure fail too.
rw_write_bag <- function(dir, algo, info, threads, progress, fail_at = 0L, dest = NULL,
                         pause_at = 0L, pause_file = "", fail_undo = FALSE, exclude = NULL,
                         call = sys.call(-1)) {
  check_string(dir, "dir", call = call)
  if (!is.null(exclude)) {
    exclude <- check_exclude(exclude, call = call)
  }
  algo <- rw_algos(algo, call = call)
  fields <- rw_bag_info(info, call = call)
  threads <- rw_threads(threads, call = call)
  progress <- rw_progress(progress, call = call)
  if (!is.null(dest)) {
    check_string(dest, "dest", call = call)
    dest <- rw_path(dest)
  }
  dir <- rw_path(dir)
  if (is.null(dest) && dir.exists(dir)) {
    here <- normalizePath(getwd(), winslash = "/")
    bag <- normalizePath(dir, winslash = "/")
    if (startsWith(here, paste0(sub("/$", "", bag, useBytes = TRUE), "/"))) {
      rw_abort("value", sprintf(
        "`dir` (%s) holds the working directory, which would move: setwd() elsewhere first.",
        rw_quote(dir)
      ), call = call)
    }
  }
  labels <- tolower(fields$label)
  if (!"bagging-date" %in% labels) {
    fields$label <- c(fields$label, "Bagging-Date")
    fields$value <- c(fields$value, format(Sys.Date(), "%Y-%m-%d"))
  }
  if (!"bag-software-agent" %in% labels) {
    fields$label <- c(fields$label, "Bag-Software-Agent")
    fields$value <- c(fields$value, paste("rwbridge", getNamespaceVersion("rwbridge")))
  }
  hooks <- as.integer(c(fail_at, pause_at, fail_undo))
  rw_unwrap(write_bag_(dir, dest, algo, fields$label, fields$value, threads, progress,
                       hooks, pause_file, exclude), call = call)
  invisible(if (is.null(dest)) dir else dest)
}

#' Update a bag after its payload changed
#'
#' After files under a bag's `data/` were added, removed or edited,
#' rewrites its payload manifests, the `Payload-Oxum` of `bag-info.txt` and
#' its tag manifests, as bagit-python's `Bag.save(manifests = True)` does,
#' so that the bag is valid again with its new payload.
#'
#' What is kept: the bag's version and `bagit.txt`; its algorithms (one
#' payload manifest per algorithm it has; a tag manifest for each of them,
#' as bagit-python writes, and every tag manifest it already has, kept up to
#' date); every other line of `bag-info.txt` exactly as it was, in its
#' order (`Bagging-Date` too: bagit-python keeps it as well, since the bag
#' was made then); the tag file encoding (UTF-8, US-ASCII, ISO-8859-1 or
#' UTF-16); before BagIt 1.0, paths as bagit-python writes them (only line
#' breaks encoded), in 1.0 RFC 8493's percent-encoding. Files listed in
#' `fetch.txt` that are not (yet) in `data/` keep their manifest lines and
#' are counted in `Payload-Oxum` with the length `fetch.txt` gives.
#'
#' The tag manifests list every file outside `data/` but the tag manifests
#' themselves, as bagit-python's do, so a tag file you added (say
#' `mets.xml`) is listed too.
#'
#' All or nothing: every payload file is hashed first, then the new files
#' are written beside the old ones; only when all are written (and the
#' payload is found as it was hashed) are they renamed over the old ones,
#' under a journal (`.rwbridge-bag-journal`). If the call is killed after
#' that point, the next `update_bag()` (or `write_bag()`) on the bag
#' completes the renames; killed before it, the next one removes the new
#' files: the bag is either as it was or fully updated. A second
#' `update_bag()` or `write_bag()` on the same bag at the same time fails at
#' once (the bag's directory is locked). A payload file that changes while
#' it is hashed makes the call fail, leaving the bag as it was.
#'
#' @param bag A single string: the bag's top directory. `~` is expanded.
#' @param exclude `NULL` (the default: every payload file), or a character
#'   vector of glob patterns matched against paths relative to the bag's
#'   `data/` folder, as [verify_bag()]'s `exclude`: the payload files they
#'   match are left out of the new manifests and `Payload-Oxum` (and not
#'   hashed), listed before or not; they stay in `data/`. The bag is then
#'   valid for `verify_bag(exclude = )` with the same patterns.
#' @inheritParams write_bag
#' @return `bag` (with `~` expanded), invisibly.
#' @section Errors:
#' * `rwbridge_type_error`, `rwbridge_value_error`: a bad argument (a
#'   pattern in `exclude` that is not a glob).
#' * `rwbridge_io_error`: `bag` is missing, is not a bag (no `bagit.txt`,
#'   no payload manifest), has a manifest of an algorithm rwbridge does not
#'   compute or tag files in an encoding it does not write; a file cannot
#'   be read; a payload file changed while it was hashed; the bag is locked
#'   by another writer; a write failed (the bag is then as it was).
#' @seealso [write_bag()] to make a bag, [verify_bag()] to check one.
#' @export
#' @examples
#' dir <- file.path(tempdir(), "growing")
#' dir.create(dir)
#' writeit("first\n", file.path(dir, "a.txt"))
#' write_bag(dir, threads = 2)
#' writeit("second\n", file.path(dir, "data", "b.txt"))
#' attr(verify_bag(dir, threads = 2), "valid")
#' update_bag(dir, threads = 2)
#' attr(verify_bag(dir, threads = 2), "valid")
#' attr(verify_bag(dir, threads = 2), "info")$`Payload-Oxum`
#' unlink(dir, recursive = TRUE)
update_bag <- function(bag, threads = NULL, progress = NULL, exclude = NULL) {
  rw_update_bag(bag, threads, progress, exclude = exclude, call = sys.call())
}

rw_update_bag <- function(bag, threads, progress, fail_at = 0L, pause_at = 0L,
                          pause_file = "", exclude = NULL, call = sys.call(-1)) {
  check_string(bag, "bag", call = call)
  if (!is.null(exclude)) {
    exclude <- check_exclude(exclude, call = call)
  }
  threads <- rw_threads(threads, call = call)
  progress <- rw_progress(progress, call = call)
  bag <- rw_path(bag)
  hooks <- as.integer(c(fail_at, pause_at, 0L))
  rw_unwrap(update_bag_(bag, exclude, threads, progress, hooks, pause_file), call = call)
  invisible(bag)
}

# The bag-info fields as two parallel character vectors.
rw_bag_info <- function(info, call = sys.call(-1)) {
  if (is.null(info)) {
    info <- list()
  }
  named <- !is.null(names(info)) && !anyNA(names(info)) && all(nzchar(names(info)))
  if (!(is.list(info) || is.character(info)) || is.data.frame(info) || is.object(info) ||
      (length(info) > 0 && !named)) {
    rw_abort("type", sprintf("`info` must be a named list of fields, not %s.",
                             rw_describe(info)), call = call)
  }
  labels <- rw_utf8(as.character(names(info)), "`info` label", call)
  bad <- labels[grepl("[:\r\n]", labels) | grepl("^[ \t]|[ \t]$", labels)]
  if (length(bad) > 0) {
    rw_abort("value", sprintf(
      "`info` labels must not hold a colon or a line break, or start or end with a blank: %s.",
      paste(rw_quote(bad, "\""), collapse = ", ")
    ), call = call)
  }
  values <- lapply(seq_along(info), function(i) {
    value <- info[[i]]
    if (!is.atomic(value) || length(value) == 0 || anyNA(value)) {
      rw_abort("value", sprintf("`info$%s` must be one or more values without NA, not %s.",
                                rw_quote(labels[[i]], ""), rw_describe(value)), call = call)
    }
    rw_utf8(as.character(value), sprintf("`info$%s`", rw_quote(labels[[i]], "")), call)
  })
  list(label = rep(labels, lengths(values)), value = as.character(unlist(values)))
}

# `x` in UTF-8, as BagIt's tag files must be: a latin1 string (or a native
# one where the locale is not UTF-8) converted; a string whose bytes are
# not valid in its encoding, or a "bytes" string that is not UTF-8, is a
# value error naming `what` (never written with its bytes mangled).
rw_utf8 <- function(x, what, call) {
  encoding <- Encoding(x)
  convert <- encoding == "latin1" | (encoding == "unknown" & !l10n_info()[["UTF-8"]])
  bad <- !validUTF8(x) & !convert
  if (any(bad)) {
    rw_abort("value", sprintf(
      "%s %s is not valid UTF-8, which BagIt tag files must be (a string whose bytes are not valid in its encoding).",
      what, paste(rw_quote(x[bad], "\""), collapse = ", ")
    ), call = call)
  }
  x[convert] <- enc2utf8(x[convert])
  x
}
