# Worker-thread count: the argument, else option `rwbridge.threads`, else 0,
# which Rust (`resolve_threads()`) reads as every core, or 2 under R CMD
# check's `_R_CHECK_LIMIT_CORES_`.
rw_threads <- function(threads, call = sys.call(-1)) {
  if (is.null(threads)) {
    threads <- getOption("rwbridge.threads")
  }
  if (is.null(threads)) {
    return(0L)
  }
  if (!(is.double(threads) || is.integer(threads)) || length(threads) != 1L || is.object(threads)) {
    rw_abort("type", sprintf("`threads` must be NULL or a single number, not %s.",
                             rw_describe(threads)), call = call)
  }
  if (is.na(threads) || threads < 1 || threads != round(threads) || threads > 1024) {
    rw_abort("value", sprintf("`threads` must be a whole number from 1 to 1024, not %s.",
                              format(threads)), call = call)
  }
  as.integer(threads)
}

rw_progress <- function(progress, call = sys.call(-1)) {
  if (is.null(progress)) interactive() else check_flag(progress, "progress", call = call)
}

# `~` expanded as base R does, in UTF-8 for Rust.
rw_path <- function(path) {
  enc2utf8(path.expand(path))
}

# The manifest is relative to `dir` (already expanded) unless absolute.
rw_manifest_path <- function(dir, manifest) {
  manifest <- rw_path(manifest)
  if (grepl("^(/|[A-Za-z]:[/\\\\]|\\\\\\\\)", manifest)) manifest else file.path(dir, manifest)
}
