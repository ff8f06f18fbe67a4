//! What R asks of the binding itself: the names of the codes results
//! carry, the cost of a call, and what a panic becomes.

use super::call::{guarded, named_list};
use super::convert::{column, string_bytes, text_column};
use crate::errors::{quoted_in, RwError};
use crate::hash::Algo;
use crate::outliers::Method;
use crate::runtime::Runtime;
use crate::status::Status;
use extendr_api::prelude::*;

/// The names of the codes that results carry, from the enums themselves.
/// @noRd
#[extendr]
fn code_names_() -> Robj {
    guarded(|| {
        named_list([
            ("status", column(Status::ALL.iter().map(|s| s.name()))),
            ("algo", column(Algo::EVERY.iter().map(|a| a.name()))),
            ("method", column(Method::ALL.iter().map(|m| m.name()))),
        ])
    })
}

/// Each string of `x` quoted for a message, by the one rule Rust's
/// messages follow (see `errors::quoted()`): cut after 200 bytes, NUL and
/// bytes that are not UTF-8 made visible. `NA` stays `NA`.
/// @noRd
#[extendr]
fn quoted_(x: Robj, mark: &str) -> Robj {
    guarded(|| {
        let quoted: Vec<Option<String>> = (0..x.len())
            .map(|i| string_bytes(&x, i).map(|bytes| quoted_in(bytes, mark)))
            .collect();
        Ok(text_column(quoted.iter().map(Option::as_deref)))
    })
}

/// Does nothing: the per-call cost of an extendr entry point, for `bench/`.
/// @noRd
#[extendr]
fn noop_() -> Robj {
    guarded(|| Ok(Robj::from(())))
}

/// Panics, on this thread or on a worker, so tests can check that a panic
/// becomes an `rwbridge_internal_error` and never takes R down.
/// @noRd
#[extendr]
fn panic_for_test_(on_worker: bool) -> Robj {
    guarded(|| {
        if on_worker {
            Runtime::new(2, None).run_on_values(usize::MAX, |_, _| -> Result<(), RwError> {
                panic!("deliberate panic on a worker, 100% certain")
            })?;
        }
        panic!("deliberate panic with 100% certainty")
    })
}

extendr_module! {
    mod diag;
    fn code_names_;
    fn quoted_;
    fn noop_;
    fn panic_for_test_;
}
