#' rwbridge: fast and safe file I/O, checksums and outliers from Rust
#'
#' The work is done by a Rust crate bound to R with extendr. Exports:
#' [readit()] and [writeit()] for binary-safe whole-file I/O, [verify()],
#' [write_signatures()] and [hash_files()] for parallel checksums, and
#' [detect_outliers()] and [plot_outliers()] for outlier detection.
#'
#' @section Errors:
#' Every error is a condition of class
#' `c("rwbridge_<kind>_error", "rwbridge_error", "error", "condition")`:
#' * `rwbridge_type_error`: an argument has the wrong type or length.
#' * `rwbridge_value_error`: an argument has the right type but a bad value.
#' * `rwbridge_io_error`: the file system said no; the message names the
#'   path (after `~` expansion, as base R's `file()` does) and the reason.
#' * `rwbridge_encoding_error`: text mode met a NUL byte or invalid UTF-8.
#' * `rwbridge_verify_error`: `verify(error = TRUE)` found a problem.
#' * `rwbridge_internal_error`: a bug (a Rust panic). It never takes R down.
#'
#' Ctrl-C during long work stops the worker threads and ends the call with
#' an ordinary `interrupt` condition.
#'
#' @section Options:
#' * `rwbridge.threads`: the number of worker threads when `threads = NULL`.
#'   Unset, rwbridge uses every core the process may run on, or 2 when the
#'   environment variable `_R_CHECK_LIMIT_CORES_` is set (as
#'   `R CMD check --as-cran` does).
#'
#' @keywords internal
#' @useDynLib rwbridge, .registration = TRUE
"_PACKAGE"
