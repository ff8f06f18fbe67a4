//! How every entry point runs: errors and panics turned into values of
//! class `rwbridge_failure` (`guarded()`), the runtime whose hook polls for
//! Ctrl-C and draws progress on the R thread (`with_runtime()`), and the
//! error for an argument that R should have checked.

use super::convert::{name, text, unchecked};
use super::ffi;
use crate::errors::RwError;
use crate::runtime::{panic_message, Meter, Progress, Runtime};
use extendr_api::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The thread count R resolved (0: every core); R never passes a negative.
pub fn thread_count(threads: i32) -> Result<usize, RwError> {
    usize::try_from(threads).map_err(|_| unchecked("threads"))
}

/// Runs `work` with a runtime whose hook, on this (the R) thread, polls
/// for Ctrl-C and, given a label, draws a progress line from the counters
/// `work` is handed.
pub fn with_runtime<T>(
    threads: i32,
    progress: Option<&str>,
    work: impl FnOnce(&Runtime, Option<&Progress>) -> Result<T, RwError>,
) -> Result<T, RwError> {
    let counters = Progress::default();
    let meter = progress.map(|label| Meter::new(label, &counters));
    let hook = || {
        if let Some(line) = meter.as_ref().and_then(|m| m.line(false)) {
            ffi::print_stderr(&line);
        }
        ffi::interrupt_pending()
    };
    let shown = progress.map(|_| &counters);
    let result = work(&Runtime::new(thread_count(threads)?, Some(&hook)), shown);
    if let Some(line) = meter.as_ref().and_then(|m| m.line(true)) {
        ffi::print_stderr(&line);
        ffi::print_stderr("\n");
    }
    result
}

pub fn internal(e: extendr_api::Error) -> RwError {
    RwError::Internal(e.to_string())
}

pub fn named_list<const N: usize>(items: [(&str, Robj); N]) -> Result<Robj, RwError> {
    let (names, values): (Vec<&str>, Vec<Robj>) = items.into_iter().unzip();
    List::from_names_and_values(names, values)
        .map(Into::into)
        .map_err(internal)
}

/// Runs `f`, turning an error or a panic into an `rwbridge_failure` value.
pub fn guarded(f: impl FnOnce() -> Result<Robj, RwError>) -> Robj {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(RwError::Internal(panic_message(&*payload))))
        .unwrap_or_else(|e| failure(&e))
}

/// `list(kind, message, path)` of class `rwbridge_failure`. The message goes
/// back as data, never through `Rf_error()`'s format string, so a `%` in a
/// path is harmless here (extendr issue 1058); `path` is the path's exact
/// bytes (see `convert::name_column()`).
pub fn failure(err: &RwError) -> Robj {
    let path = err.path().map(|p| p.as_os_str().as_encoded_bytes());
    let items = [
        ("kind", Robj::from(err.kind())),
        ("message", text(&err.to_string())),
        ("path", path.map_or_else(|| Robj::from(()), name)),
    ];
    match named_list(items) {
        Ok(mut list) => {
            // Setting a class on a fresh list cannot fail; if it ever did,
            // R would see a plain list and report an internal error.
            let _ = list.set_class(["rwbridge_failure"]);
            list
        }
        Err(_) => Robj::from(()),
    }
}
