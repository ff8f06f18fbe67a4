//! Conversions between R's values and the core's, written once for every
//! entry point: paths and names in (as bytes), names and text out, columns,
//! codes, indices, and the arguments that R checked but Rust must still
//! not trust. On the R thread only.

use super::ffi::{filled_vector, string_at, string_vector, translated, utf8_locale, Declared};
use crate::errors::{quoted, shown, RwError};
use crate::hash::Algo;
use crate::outliers::{Grouping, Indices};
use crate::tree::{name_to_path, Exclude};
use extendr_api::prelude::*;
use extendr_ffi::SEXPTYPE;
use std::borrow::Cow;
use std::path::PathBuf;

/// An R vector of `values`: a column of a result.
pub fn column<T>(values: impl IntoIterator<Item = T>) -> Robj
where
    Vec<T>: Into<Robj>,
{
    values.into_iter().collect::<Vec<T>>().into()
}

/// An argument that R should have checked was not: the entry point was
/// called directly, or the R wrapper has a bug.
pub fn unchecked(arg: &str) -> RwError {
    RwError::Internal(format!(
        "`{arg}` reached Rust unchecked; call the exported R function"
    ))
}

/// Element `i` of a character vector as R's file functions use it: the
/// bytes of a native or `"bytes"` string as they are (valid in the
/// locale's encoding or not), a UTF-8 or latin1 string in the native
/// encoding (converted by R unless the locale is UTF-8). `None` for `NA`.
fn native_at(x: &Robj, i: usize) -> Option<Cow<'_, [u8]>> {
    let (bytes, declared) = string_at(x, i)?;
    let utf8 = || utf8_locale() && declared != Declared::Latin1;
    Some(match declared {
        Declared::Native | Declared::Bytes => Cow::Borrowed(bytes),
        Declared::Utf8 if utf8() => Cow::Borrowed(bytes),
        Declared::Latin1 if utf8_locale() => Cow::Owned(latin1_to_utf8(bytes)),
        _ => Cow::Owned(translated(x, i, false)?),
    })
}

fn latin1_to_utf8(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|&b| char::from(b))
        .collect::<String>()
        .into_bytes()
}

/// The paths (or names) in the character vector `x`, as bytes in the
/// native encoding (see [`native_at`]); `None` for `NA`. `arg` is named
/// when `x` is no character vector.
pub fn paths(x: &Robj, arg: &str) -> Result<Vec<Option<PathBuf>>, RwError> {
    names(x, arg).map(|names| {
        names
            .into_iter()
            .map(|n| n.map(|n| name_to_path(&n)))
            .collect()
    })
}

/// The one path R passed (a single non-`NA` string).
pub fn path(x: &Robj, arg: &str) -> Result<PathBuf, RwError> {
    match paths(x, arg)?.into_iter().next() {
        Some(Some(path)) if x.len() == 1 => Ok(path),
        _ => Err(unchecked(arg)),
    }
}

/// The names in the character vector `x`, as bytes in the native
/// encoding; `None` for `NA`.
pub fn names(x: &Robj, arg: &str) -> Result<Vec<Option<Vec<u8>>>, RwError> {
    if !x.is_string() {
        return Err(unchecked(arg));
    }
    Ok((0..x.len())
        .map(|i| native_at(x, i).map(Cow::into_owned))
        .collect())
}

/// The names in `x`, none of them `NA` (R checked).
pub fn names_not_na(x: &Robj, arg: &str) -> Result<Vec<Vec<u8>>, RwError> {
    names(x, arg)?
        .into_iter()
        .map(|n| n.ok_or_else(|| unchecked(arg)))
        .collect()
}

/// The one string R passed as the bytes `writeit()` writes: a string whose
/// bytes are valid in the encoding it declares as UTF-8 (a latin1 string,
/// or a native one in a locale that is not UTF-8, converted), any other
/// (`"bytes"`, or not valid in its encoding) byte for byte.
pub fn text_bytes(x: &Robj, arg: &str) -> Result<Vec<u8>, RwError> {
    let (bytes, declared) = string_at(x, 0).ok_or_else(|| unchecked(arg))?;
    Ok(match declared {
        Declared::Latin1 => latin1_to_utf8(bytes),
        Declared::Native if !utf8_locale() && !bytes.is_ascii() => {
            translated(x, 0, true).unwrap_or_else(|| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    })
}

/// Element `i` of a character vector as text to show: its bytes, a
/// latin1 string's in UTF-8. `None` for `NA`.
pub fn string_bytes(x: &Robj, i: usize) -> Option<Cow<'_, [u8]>> {
    let (bytes, declared) = string_at(x, i)?;
    Some(match declared {
        Declared::Latin1 => Cow::Owned(latin1_to_utf8(bytes)),
        _ => Cow::Borrowed(bytes),
    })
}

/// Strings R checked to be valid UTF-8, as Rust strings.
pub fn utf8_strings(x: &Robj, arg: &str) -> Result<Vec<String>, RwError> {
    (0..x.len())
        .map(|i| {
            let bytes = string_bytes(x, i).ok_or_else(|| unchecked(arg))?;
            String::from_utf8(bytes.into_owned()).map_err(|_| unchecked(arg))
        })
        .collect()
}

/// A character vector of names (file names, manifest names) for R, so
/// that two different names never look the same and each reaches the same
/// file again: valid UTF-8 as UTF-8, any other name with its exact bytes
/// as a native string (as `list.files()` returns it). `None` is `NA`.
pub fn name_column<'a>(names: impl ExactSizeIterator<Item = Option<&'a [u8]>>) -> Robj {
    let len = names.len();
    strings(len, names.map(|n| n.map(|n| (n, false))))
}

/// A character vector of text for R (messages, lines quoted, metadata):
/// UTF-8. `None` is `NA`.
pub fn text_column<'a>(texts: impl ExactSizeIterator<Item = Option<&'a str>>) -> Robj {
    let len = texts.len();
    strings(len, texts.map(|t| t.map(|t| (t.as_bytes(), true))))
}

/// One string of text for R (see [`text_column`]).
pub fn text(text: &str) -> Robj {
    text_column(std::iter::once(Some(text)))
}

/// One name for R (see [`name_column`]).
pub fn name(name: &[u8]) -> Robj {
    name_column(std::iter::once(Some(name)))
}

/// The strings R makes of `bytes`: those that R would refuse (a NUL byte
/// inside, over 2^31 - 1 bytes) shown instead, NUL as `\0`, so that no
/// input raises R's error; valid UTF-8 declared so (always for text),
/// else native.
fn strings<'a>(len: usize, items: impl Iterator<Item = Option<(&'a [u8], bool)>>) -> Robj {
    let mut kept: Vec<Option<(Cow<'a, [u8]>, bool)>> = Vec::with_capacity(len);
    for item in items {
        kept.push(item.map(|(bytes, text)| {
            if bytes.contains(&0) || i32::try_from(bytes.len()).is_err() {
                let visible = if bytes.len() > i32::MAX as usize {
                    shown(bytes)
                } else {
                    shown_nul(bytes)
                };
                (Cow::Owned(visible.into_bytes()), true)
            } else {
                let utf8 = text || std::str::from_utf8(bytes).is_ok();
                (Cow::Borrowed(bytes), utf8)
            }
        }));
    }
    let view = kept
        .iter()
        .map(|k| k.as_ref().map(|(bytes, utf8)| (bytes.as_ref(), *utf8)));
    string_vector(len, view).unwrap_or_else(|| Robj::from(()))
}

/// `bytes` with each NUL written `\0`, the rest as UTF-8 where it is.
fn shown_nul(bytes: &[u8]) -> String {
    bytes
        .split(|&b| b == 0)
        .map(|part| String::from_utf8_lossy(part))
        .collect::<Vec<_>>()
        .join("\\0")
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

/// The patterns (`NULL`: none) as the listing's matcher; a pattern that
/// is not a glob, or not UTF-8, is a `Value` error naming `exclude`.
pub fn exclude(patterns: &Robj) -> Result<Option<Exclude>, RwError> {
    if patterns.is_null() {
        return Ok(None);
    }
    let patterns = names_not_na(patterns, "exclude")?
        .into_iter()
        .map(|p| {
            String::from_utf8(p).map_err(|e| RwError::Value {
                arg: "exclude",
                reason: format!("holds {}, which is not UTF-8", quoted(e.as_bytes())),
            })
        })
        .collect::<Result<Vec<String>, RwError>>()?;
    Exclude::new(&patterns).map(Some)
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
            Err($crate::binding::convert::unchecked("x"))
        }
    };
}
pub(super) use numeric;
