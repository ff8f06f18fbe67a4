#' rwbridge: fast and safe file I/O, checksums and outliers from Rust
#'
#' The work is done by a Rust crate bound to R with extendr. Exports:
#' * [readit()] and [writeit()]: binary-safe whole-file I/O, atomic writes.
#' * [verify()], [write_signatures()] and [hash_files()]: parallel checksums
#'   (MD5, SHA-1, SHA-2, SHA-3, BLAKE2b, BLAKE2s, BLAKE3, xxHash, CRC32C),
#'   manifests of every common tool checked, audited and updated, on this
#'   machine or in shards on others.
#' * [verify_bag()], [write_bag()] and [update_bag()]: BagIt bags (RFC
#'   8493), folders or `.zip`/`.tar` files, validated, made and updated.
#' * [detect_outliers()], [plot_outliers()] and [outlier_stats()]: outliers
#'   by the z-score, the MAD, Tukey's fences (`"iqr"`), the Hampel filter
#'   (`"hampel"`), the skew-adjusted boxplot (`"adjbox"`) or the generalized
#'   ESD test (`"gesd"`), whole or by group, and statistics that merge
#'   across chunks.
#' * [is_outlier()], [outlier_scores()] and [clean_outliers()]: a flag and a
#'   score per value, and values with their outliers winsorised, set to
#'   `NA` or replaced by the median.
#'
#' @section Errors:
#' Every error is a condition of class
#' `c("rwbridge_<kind>_error", "rwbridge_error", "error", "condition")`:
#' * `rwbridge_type_error`: an argument has the wrong type or length.
#' * `rwbridge_value_error`: an argument has the right type but a bad value.
#' * `rwbridge_io_error`: the file system said no; the message names the
#'   path (after `~` expansion, as base R's `file()` does) and the reason.
#'
#' A message quotes at most 200 bytes of any input (a path, a name, a line
#' of a manifest), cut before a character that would not fit and followed
#' by `...` and the input's whole length in bytes; a NUL byte is shown as
#' `\0` and a byte that is not UTF-8 as `\xNN`.
#' * `rwbridge_encoding_error`: text mode met a NUL byte or invalid UTF-8.
#' * `rwbridge_verify_error`: `verify(error = TRUE)` found a problem.
#' * `rwbridge_internal_error`: a bug (a Rust panic). It never takes R down.
#'
#' Ctrl-C during long work stops the worker threads and ends the call with
#' an ordinary `interrupt` condition.
#'
#' @section Where the work runs:
#' Small work runs on the R thread itself: no thread is started, woken or
#' waited for, so a call on ten values costs about what base R's one-liner
#' costs. Larger work runs on worker threads that are started by the first
#' call that needs them and kept, asleep, for the calls that follow. The
#' sizes were chosen by measuring both ways on a two-core machine
#' (`bench/sweep.R` in the sources):
#' * [detect_outliers()]: vectors of up to 65,536 values run inline. Handing
#'   work to the workers and collecting it costs about 20 microseconds,
#'   which one core spends on about that many values.
#' * [verify()], [hash_files()], [write_signatures()]: a list of fewer than
#'   64 files is hashed inline, in order, until 300 microseconds have
#'   passed, then the rest is shared with the workers, the R thread hashing
#'   its share too; 64 files or more are shared from the start. Waking a
#'   sleeping worker costs 50 to 100 microseconds on a virtual machine, as
#'   much as hashing ten small files, so a short list of small files never
#'   wakes one.
#' * [hash_files()] and [write_signatures()] in BLAKE3: a file of 4 MiB or
#'   more is hashed by every worker at once, each a 1 MiB part of it (a
#'   BLAKE3 subtree), while the R thread waits for them; so one big file
#'   takes every core, as `b3sum` does. Handing it over costs tens of
#'   microseconds, and 4 MiB take over a millisecond on one core.
#' * [readit()]: files of 64 MiB or more are read in pieces of 8 MiB by the
#'   kept workers, the R thread waiting for them (and for Ctrl-C).
#' * [verify_bag()] of a `.zip` or `.tar`: its members are hashed as a
#'   folder's files are; a `.tar.gz` is one compressed stream, read on the
#'   R thread.
#'
#' The results never depend on where the work ran. The workers survive
#' `fork()`: a forked child (`parallel::mclapply()`, `future`'s multicore
#' plan) starts its own the first time it needs them. Ctrl-C is seen
#' within a tenth of a second, inline or not.
#'
#' @section Options:
#' * `rwbridge.threads`: the number of threads when `threads = NULL`, a
#'   whole number from 1 to 1024, read at every call. Unset, rwbridge uses
#'   every core the process may run on, or 2 when the environment variable
#'   `_R_CHECK_LIMIT_CORES_` is set (as `R CMD check --as-cran` does). Any
#'   other value is an error naming the option.
#'
#' @keywords internal
#' @useDynLib rwbridge, .registration = TRUE
"_PACKAGE"
