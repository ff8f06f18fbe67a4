//! Conversions between R's values and the core's, written once for every
//! entry point: columns out, names and codes, indices, and the arguments
//! that R checked but Rust must still not trust. On the R thread only.

use super::call::unchecked;
use super::ffi::filled_vector;
use crate::errors::RwError;
use crate::hash::Algo;
use crate::outliers::{Grouping, Indices};
use crate::tree::Exclude;
use extendr_api::prelude::*;
use extendr_ffi::SEXPTYPE;

/// An R vector of `values`: a column of a result.
pub fn column<T>(values: impl IntoIterator<Item = T>) -> Robj
where
    Vec<T>: Into<Robj>,
{
    values.into_iter().collect::<Vec<T>>().into()
}

/// A file name for R: bytes that are not UTF-8 become U+FFFD.
pub fn lossy(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

/// The 1-based position of `value` in `all`, as R indexes the names that
/// `code_names_()` gives.
pub fn code<T: PartialEq>(all: &[T], value: T) -> i32 {
    all.iter()
        .position(|v| *v == value)
        .map_or(0, |i| i as i32 + 1)
}

/// The algorithm R named.
pub fn algo_named(name: &str) -> Result<Algo, RwError> {
    Algo::from_name(name).ok_or_else(|| unchecked("algo"))
}

/// The algorithm R named, or `None` for "" (R's `NULL`).
pub fn optional_algo(name: &str) -> Result<Option<Algo>, RwError> {
    if name.is_empty() {
        return Ok(None);
    }
    algo_named(name).map(Some)
}

/// The algorithm of a code in a result (see `code_names_()`).
pub fn algo_of_code(code: Rint) -> Result<Algo, RwError> {
    Option::<i32>::from(code)
        .and_then(|c| usize::try_from(c).ok()?.checked_sub(1))
        .and_then(|i| Algo::EVERY.get(i).copied())
        .ok_or_else(|| unchecked("algo"))
}

/// The patterns R checked (`NULL`: none), as the listing's matcher; a
/// pattern that is not a glob is a `Value` error naming `exclude`.
pub fn exclude(patterns: &Nullable<Strings>) -> Result<Option<Exclude>, RwError> {
    match patterns {
        Nullable::Null => Ok(None),
        Nullable::NotNull(patterns) => {
            let patterns: Vec<&str> = patterns.iter().map(|p| p.as_ref()).collect();
            Exclude::new(&patterns).map(Some)
        }
    }
}

/// File names from R, as bytes (UTF-8, as R sends them).
pub fn names_of(strings: &Strings) -> Vec<Vec<u8>> {
    strings.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// Manifest line numbers from R, sorted for binary search; NA is none.
pub fn line_numbers(lines: &Integers) -> Vec<usize> {
    let mut numbers: Vec<usize> = lines
        .iter()
        .filter_map(|l| Option::<i32>::from(l).and_then(|l| usize::try_from(l).ok()))
        .collect();
    numbers.sort_unstable();
    numbers
}

/// 1-based indices: an integer vector, or a double one past `i32::MAX`.
pub fn index_vector(indices: &Indices) -> Result<Robj, RwError> {
    let fits_integer = indices.last().map_or(true, |i| i < i32::MAX as usize);
    let one_based = indices.iter().map(|i| i + 1);
    if fits_integer {
        filled_vector(
            SEXPTYPE::INTSXP,
            indices.len(),
            Robj::as_integer_slice_mut,
            one_based.map(|i| i as i32),
        )
    } else {
        filled_vector(
            SEXPTYPE::REALSXP,
            indices.len(),
            Robj::as_real_slice_mut,
            one_based.map(|i| i as f64),
        )
    }
    .ok_or_else(|| RwError::Value {
        arg: "x",
        reason: "has more outliers than memory can hold".into(),
    })
}

/// 1-based positions of 0-based ones: an integer vector, or a double one
/// past `i32::MAX`.
pub fn positions(zero_based: &[usize]) -> Robj {
    if zero_based.iter().all(|&i| i < i32::MAX as usize) {
        column(zero_based.iter().map(|&i| i as i32 + 1))
    } else {
        column(zero_based.iter().map(|&i| i as f64 + 1.0))
    }
}

/// R's `NA` for an undefined statistic.
pub fn na_if_nan(v: f64) -> f64 {
    if v.is_nan() {
        <f64 as CanBeNA>::na()
    } else {
        v
    }
}

/// The Hampel half-width R checked (a whole number >= 1).
pub fn window_size(window: i32) -> Result<usize, RwError> {
    usize::try_from(window)
        .ok()
        .filter(|&w| w >= 1)
        .ok_or_else(|| unchecked("window"))
}

/// The groups R passed: `NULL`, or 1-based codes as long as `x` (R checked
/// that) with one name per group.
pub fn grouping<'a>(codes: &'a Robj, groups: &Robj) -> Result<Option<Grouping<'a>>, RwError> {
    if codes.is_null() {
        return Ok(None);
    }
    let codes = codes.as_integer_slice().ok_or_else(|| unchecked("by"))?;
    if !groups.is_string() {
        return Err(unchecked("by"));
    }
    Ok(Some(Grouping {
        codes,
        count: groups.len(),
    }))
}

/// `$body` with `$values` bound to the doubles or the integers of `$x`
/// (the core is generic over both), run on the runtime `$rt` as the
/// vector's length says, with `$par` and `$cancel` in scope; anything but
/// a double or integer vector is an argument R should have refused.
macro_rules! numeric {
    ($rt:expr, $x:expr, |$values:ident, $par:ident, $cancel:ident| $body:expr) => {
        if let Some($values) = $x.as_real_slice() {
            $rt.run_on_values($values.len(), |$par, $cancel| $body)
        } else if let Some($values) = $x.as_integer_slice() {
            $rt.run_on_values($values.len(), |$par, $cancel| $body)
        } else {
            Err($crate::binding::call::unchecked("x"))
        }
    };
}
pub(super) use numeric;
