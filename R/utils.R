# Worker-thread count, the one place its rule is checked: the argument,
# else option `rwbridge.threads` (read at every call), else 0, which Rust
# (`resolve_threads()`) reads as every core, or 2 under R CMD check's
# `_R_CHECK_LIMIT_CORES_`. A bad option is an error naming the option.
rw_threads <- function(threads, call = sys.call(-1)) {
  arg <- "`threads`"
  if (is.null(threads)) {
    threads <- getOption("rwbridge.threads")
    if (is.null(threads)) {
      return(0L)
    }
    arg <- "Option `rwbridge.threads`"
  }
  if (!(is.double(threads) || is.integer(threads)) || length(threads) != 1L || is.object(threads)) {
    rw_abort("type", sprintf("%s must be NULL or a single number, not %s.", arg,
                             rw_describe(threads)), call = call)
  }
  if (is.na(threads) || threads < 1 || threads != round(threads) || threads > 1024) {
    rw_abort("value", sprintf("%s must be a whole number from 1 to 1024, not %s.", arg,
                              format(threads)), call = call)
  }
  as.integer(threads)
}

rw_progress <- function(progress, call = sys.call(-1)) {
  if (is.null(progress)) interactive() else check_flag(progress, "progress", call = call)
}

# `~` expanded as base R does. Paths go to Rust as they are, never
# re-encoded here: Rust reads each string's bytes as R's file functions do
# (`enc2utf8()` and `enc2native()` would turn a byte that is not valid in
# the string's encoding into the characters "<e9>", another file's name).
rw_path <- function(path) {
  if (startsWith(path, "~")) path.expand(path) else path
}

# An input quoted in a message (a name, a line, a path), by the one rule
# Rust's messages follow (its `quoted()`): at most 200 bytes of it (cut
# before a character that would not fit), then `...` and its whole length
# in bytes; bytes that are not UTF-8 written `\xNN`. `mark` is the quote.
# Only long or odd strings cross into Rust: this runs on error paths.
rw_quote <- function(x, mark = "'") {
  x <- as.character(x)
  out <- paste0(mark, x, mark)
  odd <- !is.na(x) & (!validUTF8(x) | Encoding(x) == "bytes" | nchar(x, type = "bytes") > 200L)
  if (any(odd)) {
    out[odd] <- rw_unwrap(quoted_(x[odd], mark))
  }
  out
}

# Whether each path is absolute, the one rule for it: on Unix, a path that
# starts with `/`; on Windows, one that starts with `/` or `\` (so `//server`
# and `\\server` too) or with a drive and one of them (`C:/x`, `C:\x`).
# A drive-relative path such as `C:x` is relative (to that drive's working
# directory). NA is not absolute.
rw_is_absolute <- function(path, windows = rw_windows) {
  # startsWith(), not a regular expression, where it will do: verify() on a
  # few small files takes tens of microseconds, and a regex costs some.
  if (windows) {
    !is.na(path) & grepl("^([A-Za-z]:)?[/\\\\]", path)
  } else {
    !is.na(path) & startsWith(path, "/")
  }
}

rw_windows <- .Platform$OS.type == "windows"

# The arguments verify(), write_signatures() and verify_bag() share, checked
# in this order: the directory (`dir`, or for a bag `bag`), the manifest (a
# bag has none: pass NULL), `threads`, `progress` and `shards`. Returns the
# directory and the manifest with `~` expanded (Rust reads the manifest
# relative to the directory unless it is absolute), the manifest's path as
# messages show it, the thread count for this process, `progress` resolved
# and `shards` (NULL or a whole number). `call` is evaluated only when an
# argument is bad.
rw_workers <- function(dir, manifest, threads, progress, shards, call, bag = FALSE) {
  check_string(dir, if (bag) "bag" else "dir", call = call)
  if (!bag) {
    check_string(manifest, "manifest", call = call)
  }
  threads <- rw_threads(threads, call = call)
  progress <- rw_progress(progress, call = call)
  shards <- rw_shards(shards, call)
  dir <- rw_path(dir)
  shown <- NULL
  if (!bag) {
    manifest <- rw_path(manifest)
    shown <- if (rw_is_absolute(manifest)) manifest else paste0(dir, "/", manifest)
  }
  list(dir = dir, manifest = manifest, manifest_path = shown, threads = threads,
       progress = progress, shards = shards)
}

# Names of the codes in results (statuses, algorithms) and of the outlier
# methods, from the Rust enums, read once when the package loads.
rw_codes <- new.env(parent = emptyenv())

.onLoad <- function(libname, pkgname) {
  list2env(code_names_(), envir = rw_codes)
}

# One of the algorithms the Rust enum names (`rw_codes$algo`), exactly: a
# digest named by a prefix ("sha3" for SHA-384, "crc32" for "crc32c") is too
# easily a mistake.
rw_algo <- function(algo, call = sys.call(-1)) {
  if (is.character(algo) && length(algo) == 1L && !is.na(algo) && algo %in% rw_codes$algo) {
    return(algo)
  }
  check_string(algo, "algo", call = call)
  rw_unknown_algos(algo, call)
}

rw_unknown_algos <- function(unknown, call) {
  rw_abort("value", sprintf(
    "`algo` must be %s (exactly), not %s.", rw_algo_names(),
    paste(rw_quote(unknown, "\""), collapse = ", ")
  ), call = call)
}

# One or more of the algorithms the Rust enum names, without repeats.
rw_algos <- function(algo, call = sys.call(-1)) {
  if (!is.character(algo) || length(algo) == 0 || anyNA(algo)) {
    rw_abort("type", sprintf("`algo` must be a character vector of algorithm names, not %s.",
                             rw_describe(algo)), call = call)
  }
  unknown <- setdiff(algo, rw_codes$algo)
  if (length(unknown) > 0) {
    rw_unknown_algos(unknown, call)
  }
  unique(algo)
}

# The algorithms for a message: the named ones, then BLAKE2b's lengths.
rw_algo_names <- function() {
  lengths <- grepl("^blake2b-[0-9]+$", rw_codes$algo)
  paste0("one of ", paste0("\"", rw_codes$algo[!lengths], "\"", collapse = ", "),
         " or \"blake2b-N\" (N a multiple of 8 from 8 to 504)")
}

# `exclude` as verify(), write_signatures() and hash_files() take it: NULL,
# or a character vector of glob patterns without NA (Rust checks the globs).
check_exclude <- function(exclude, call = sys.call(-1)) {
  if (!is.null(exclude) && (!is.character(exclude) || anyNA(exclude))) {
    rw_abort("type", sprintf(
      "`exclude` must be NULL or a character vector of glob patterns, not %s.",
      rw_describe(exclude)
    ), call = call)
  }
  if (is.null(exclude)) NULL else enc2utf8(exclude)
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

rw_list_messages <- function(messages, limit) {
  shown <- utils::head(messages, limit)
  more <- if (length(messages) > limit) sprintf("; and %d more", length(messages) - limit) else ""
  paste0(paste(shown, collapse = "; "), more)
}
