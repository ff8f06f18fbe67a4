//! `detect_outliers()`, `plot_outliers()` and `outlier_stats()`: outliers
//! found in R's numeric vectors, read in place, with the statistics used
//! set as attributes.

use super::call::{guarded, internal, named_list, with_runtime};
use super::convert::{
    column, grouping, index_vector, na_if_nan, numeric, positions, unchecked, window_size,
};
use super::ffi::{alloc_vector, set_attributes, Scalar};
use crate::errors::RwError;
use crate::outliers::hampel::Hampel;
use crate::outliers::{self, groups, Grouping, Method, Request, Stats};
use extendr_api::prelude::*;
use extendr_ffi::SEXPTYPE;

/// Outlier indices (1-based) with attributes `center`, `scale`, `lower`,
/// `upper`, `threshold` and `method`, for the whole of `x` (for "hampel",
/// with the default window, 3).
/// @noRd
#[extendr]
fn detect_outliers_(x: Robj, threshold: f64, method: &str, threads: i32) -> Robj {
    guarded(|| detect_outliers(&x, threshold, method, threads, None, 3, None))
}

/// As `detect_outliers_()`, with the centre and scale given (a baseline,
/// or `outlier_stats()` merged from chunks) for "zscore" and "mad".
/// @noRd
#[extendr]
fn detect_outliers_given_(
    x: Robj,
    threshold: f64,
    method: &str,
    threads: i32,
    center: f64,
    scale: f64,
) -> Robj {
    guarded(|| {
        let given = Some((center, scale));
        detect_outliers(&x, threshold, method, threads, None, 3, given)
    })
}

/// As `detect_outliers_()`, within groups when `codes` (1-based, as long as
/// `x`) and their names `groups` are given, and with a `window` for
/// "hampel" (then also an attribute); with groups, `center`, `scale`,
/// `lower` and `upper` are named by group. A separate entry point keeps
/// the common call free of arguments it does not use.
/// @noRd
#[extendr]
fn detect_outliers_by_(
    x: Robj,
    threshold: f64,
    method: &str,
    threads: i32,
    codes: Robj,
    groups: Robj,
    window: i32,
) -> Robj {
    guarded(|| {
        let window = window_size(window)?;
        let grouping = grouping(&codes, &groups)?.map(|g| (g, &groups));
        detect_outliers(&x, threshold, method, threads, grouping, window, None)
    })
}

fn detect_outliers(
    x: &Robj,
    threshold: f64,
    method: &str,
    threads: i32,
    grouping: Option<(Grouping, &Robj)>,
    window: usize,
    given: Option<(f64, f64)>,
) -> Result<Robj, RwError> {
    let method_kind = Method::from_name(method).ok_or_else(|| unchecked("method"))?;
    let request = Request {
        method: method_kind,
        threshold,
        window,
        given,
    };
    let groups = grouping.map(|(g, _)| g);
    let found = with_runtime(threads, None, |rt, _| {
        numeric!(rt, x, |values, par, cancel| outliers::detect(
            values, groups, &request, par, cancel
        ))
    })?;
    let mut out = index_vector(&found.indices)?;
    match (grouping, found.stats.as_slice()) {
        (None, [one]) => set_attributes(
            &mut out,
            &[
                (c"center", Scalar::Real(one.center)),
                (c"scale", Scalar::Real(one.scale)),
                (c"lower", Scalar::Real(one.lower)),
                (c"upper", Scalar::Real(one.upper)),
                (c"threshold", Scalar::Real(threshold)),
                (c"method", Scalar::Name(method_kind.name())),
            ],
        ),
        (Some((_, names)), per_group) => {
            type Field = fn(&Stats) -> f64;
            let fields: [(&str, Field); 4] = [
                ("center", |s| s.center),
                ("scale", |s| s.scale),
                ("lower", |s| s.lower),
                ("upper", |s| s.upper),
            ];
            for (name, field) in fields {
                let mut values = Robj::from(
                    per_group
                        .iter()
                        .map(|s| na_if_nan(field(s)))
                        .collect::<Vec<f64>>(),
                );
                values.set_attrib("names", names).map_err(internal)?;
                out.set_attrib(name, values).map_err(internal)?;
            }
            out.set_attrib("threshold", threshold).map_err(internal)?;
            out.set_attrib("method", method_kind.name())
                .map_err(internal)?;
        }
        (None, _) => return Err(RwError::Internal("one set of statistics expected".into())),
    }
    if method_kind == Method::Hampel {
        out.set_attrib("window", window as i32).map_err(internal)?;
    }
    Ok(out)
}

/// Group codes of `by` (an integer or double vector): `list(codes, first)`,
/// `codes` numbering the distinct values from 1 in ascending order (NA for
/// NA and NaN), `first` the 1-based index of each group's first element.
/// @noRd
#[extendr]
fn group_codes_(by: Robj, threads: i32) -> Robj {
    guarded(|| {
        let n = by.len();
        let ints = by.as_integer_slice();
        let reals = by.as_real_slice();
        let mut codes = alloc_vector(SEXPTYPE::INTSXP, n).ok_or_else(|| RwError::Value {
            arg: "by",
            reason: "is too long: not enough memory for its group codes".into(),
        })?;
        let out = codes
            .as_integer_slice_mut()
            .ok_or_else(|| RwError::Internal("an integer vector has no values".into()))?;
        let first = with_runtime(threads, None, |rt, _| {
            rt.run_on_values(n, |_, cancel| match (ints, reals) {
                (Some(by), _) => groups::code_integers(by, out, cancel),
                (_, Some(by)) => groups::code_doubles(by, out, cancel),
                _ => Err(unchecked("by")),
            })
        })?;
        named_list([("codes", codes), ("first", positions(&first))])
    })
}

/// The Hampel band of every element, for plots: `list(center, lower,
/// upper)`, NA where a window has no finite value or an element no group.
/// @noRd
#[extendr]
fn hampel_band_(
    x: Robj,
    threshold: f64,
    window: i32,
    threads: i32,
    codes: Robj,
    groups: Robj,
) -> Robj {
    guarded(|| {
        let window = window_size(window)?;
        let grouping = grouping(&codes, &groups)?;
        let band = with_runtime(threads, None, |rt, _| {
            numeric!(rt, x, |values, par, cancel| {
                let rule = Hampel {
                    x: values,
                    grouping,
                    window,
                    threshold,
                };
                rule.band(par, cancel)
            })
        })?;
        named_list([
            ("center", column(band.center.into_iter().map(na_if_nan))),
            ("lower", column(band.lower.into_iter().map(na_if_nan))),
            ("upper", column(band.upper.into_iter().map(na_if_nan))),
        ])
    })
}

/// Count, shift (the first finite value), mean relative to the shift and
/// sum of squared deviations from the mean of the finite values of `x`, as
/// `c(n, shift, shifted_mean, m2)`: what `outlier_stats()` keeps and merges.
/// @noRd
#[extendr]
fn outlier_stats_(x: Robj, threads: i32) -> Robj {
    guarded(|| {
        let moments = with_runtime(threads, None, |rt, _| {
            numeric!(rt, x, |values, par, cancel| outliers::moments(
                values, par, cancel
            ))
        })?;
        let fields = [moments.n, moments.shift, moments.shifted_mean, moments.m2];
        Ok(Robj::from(&fields[..]))
    })
}

extendr_module! {
    mod outliers;
    fn detect_outliers_;
    fn detect_outliers_given_;
    fn outlier_stats_;
    fn detect_outliers_by_;
    fn group_codes_;
    fn hampel_band_;
}
