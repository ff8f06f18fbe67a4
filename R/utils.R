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

# `~` expanded as base R does, in UTF-8 for Rust.
rw_path <- function(path) {
  enc2utf8(if (startsWith(path, "~")) path.expand(path) else path)
}

# The manifest is relative to `dir` (already expanded) unless absolute.
rw_manifest_path <- function(dir, manifest) {
  manifest <- rw_path(manifest)
  absolute <- startsWith(manifest, "/") ||
    (.Platform$OS.type == "windows" && grepl("^([A-Za-z]:)?[/\\\\]", manifest))
  if (absolute) manifest else file.path(dir, manifest)
}

# Names of the codes in results (statuses, algorithms), from the Rust enums,
# read once when the package loads.
rw_codes <- new.env(parent = emptyenv())

.onLoad <- function(libname, pkgname) {
  list2env(code_names_(), envir = rw_codes)
}
