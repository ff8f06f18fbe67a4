//! `detect_outliers()`, `plot_outliers()` and `outlier_stats()`: outliers
//! found in R's numeric vectors, read in place, with the statistics used
//! set as attributes.

use super::call::{guarded, internal, named_list, with_runtime};
use super::convert::{
    column, grouping, index_vector, na_if_nan, numeric, positions, unchecked, window_size,
};
use super::ffi::{
    addresses, alloc_vector, na_string, set_attributes, string_bytes, string_elements, strings_at,
    Scalar,
};
use crate::errors::try_vec;
use crate::errors::RwError;
use crate::outliers::hampel::Hampel;
use crate::outliers::{self, groups, medcouple, Gesd, Grouping, Method, Request, Stats};
use crate::runtime::{Cancel, Par, Runtime};
use extendr_api::prelude::*;
use extendr_ffi::SEXP;
use extendr_ffi::SEXPTYPE;

/// Outlier indices (1-based) of class `rwbridge_outliers`, with attributes
/// `center`, `scale`, `lower`, `upper`, `threshold`, `method` and `n`, for
/// the whole of `x` by the rules that need no more arguments. `spec` is
/// `c(threshold, method, threads)`, the method as its 1-based position in
/// the names `code_names_()` gives: two arguments, not four, since each
/// costs the call a conversion, and this call runs 10,000 times in a loop.
/// @noRd
#[extendr]
fn detect_outliers_(x: Robj, spec: Robj) -> Robj {
    guarded(|| {
        let Some(&[threshold, method, threads]) = spec.as_real_slice() else {
            return Err(unchecked("spec"));
        };
        let method = (method as usize)
            .checked_sub(1)
            .and_then(|m| Method::ALL.get(m))
            .ok_or_else(|| unchecked("method"))?;
        let request = Request::new(*method, threshold);
        detect_outliers(&x, &request, threads as i32, None, None)
    })
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
        let method = Method::from_name(method).ok_or_else(|| unchecked("method"))?;
        let request = Request {
            given: Some((center, scale)),
            ..Request::new(method, threshold)
        };
        detect_outliers(&x, &request, threads, None, None)
    })
}

/// As `detect_outliers_()`, within groups when `codes` (1-based, as long as
/// `x`) and their names `groups` are given, with a `window` for "hampel"
/// and the test's parameters for "gesd" (then also attributes); with
/// groups, `center`, `scale`, `lower` and `upper` are named by group. A
/// separate entry point keeps the common call free of arguments it does
/// not use. `strict`: a `max_outliers` beyond what the finite values allow
/// is an error rather than lowered to fit.
/// @noRd
#[extendr]
#[allow(clippy::too_many_arguments)]
fn detect_outliers_by_(
    x: Robj,
    threshold: f64,
    method: &str,
    threads: i32,
    codes: Robj,
    groups: Robj,
    window: i32,
    max_outliers: f64,
    alpha: f64,
    strict: bool,
) -> Robj {
    guarded(|| {
        let method = Method::from_name(method).ok_or_else(|| unchecked("method"))?;
        let window = window_size(window)?;
        // A character `by` comes as it is, and is coded here: its codes
        // never become an R vector (no garbage for R's collector), and
        // the group names are its own strings.
        let coded = match string_elements(&codes) {
            Some(strings) => Some(code_strings(strings, threads)?),
            None => None,
        };
        let grouping = match &coded {
            Some(strings) => Some((
                Grouping {
                    codes: &strings.codes,
                    count: strings.order.len(),
                },
                &strings.names,
            )),
            None => grouping(&codes, &groups)?.map(|g| (g, &groups)),
        };
        let order = coded.as_ref().map(|strings| &strings.order[..]);
        let max_outliers = whole_count(max_outliers).ok_or_else(|| unchecked("max_outliers"))?;
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(unchecked("alpha"));
        }
        let request = Request {
            window,
            gesd: Gesd {
                max_outliers,
                alpha,
                strict,
            },
            ..Request::new(method, threshold)
        };
        detect_outliers(&x, &request, threads, grouping, order)
    })
}

/// A character `by` coded: 1-based codes in order of first appearance,
/// the groups' names in bytewise order (its own strings), and `order`, the
/// codes in that order. The codes are not renumbered (a pass over `x`
/// saved): the statistics are put in order afterwards.
struct Strings {
    codes: Vec<i32>,
    names: Robj,
    order: Vec<usize>,
}

fn code_strings(strings: &[SEXP], threads: i32) -> Result<Strings, RwError> {
    let n = strings.len();
    let mut codes: Vec<i32> = try_vec(n as u64, || RwError::Value {
        arg: "by",
        reason: "is too long: not enough memory for its group codes".into(),
    })?;
    codes.resize(n, 0);
    let (found, order) = with_runtime(threads, None, |rt, _| {
        distinct_strings(strings, &mut codes, rt)
    })?;
    let first: Vec<usize> = order.iter().map(|&id| found.first[id]).collect();
    let names = strings_at(strings, &first).ok_or_else(|| RwError::Value {
        arg: "by",
        reason: "has more groups than memory can hold names for".into(),
    })?;
    Ok(Strings {
        codes,
        names,
        order,
    })
}

/// Codes `strings` into `out` in order of first appearance, by the address
/// of each interned string, on the workers when they are many (reading the
/// vector's pointers only); and the distinct strings' bytewise order,
/// found on this thread (their bytes are R's).
fn distinct_strings(
    strings: &[SEXP],
    out: &mut [i32],
    rt: &Runtime,
) -> Result<(groups::Distinct, Vec<usize>), RwError> {
    let na = na_string() as usize;
    let addresses: &[usize] = addresses(strings);
    let key = |i: usize| (addresses[i] != na).then_some(addresses[i] as u64);
    let n = addresses.len();
    let found = rt.run_on_values(n, |par, cancel| {
        groups::Distinct::find(n, key, out, par, cancel)
    })?;
    let bytes: Vec<&[u8]> = found
        .keys
        .iter()
        .map(|&k| string_bytes(k as usize as SEXP))
        .collect();
    let order = groups::bytewise_order(&bytes);
    Ok((found, order))
}

/// Codes `strings` into `out` from 1 in bytewise order; returns the index
/// of each group's first element.
fn string_codes(strings: &[SEXP], out: &mut [i32], rt: &Runtime) -> Result<Vec<usize>, RwError> {
    let (found, order) = distinct_strings(strings, out, rt)?;
    let n = strings.len();
    rt.run_on_values(n, |par, cancel| found.renumber(&order, out, par, cancel))
}

/// A count R checked (a whole number >= 1).
fn whole_count(v: f64) -> Option<usize> {
    (v >= 1.0 && v == v.trunc() && v < 2f64.powi(53)).then_some(v as usize)
}

/// The detection as R gets it. With `order` (the groups' codes in the
/// order of their names), the statistics are put in that order, and the
/// outliers' groups numbered by it.
fn detect_outliers(
    x: &Robj,
    request: &Request,
    threads: i32,
    grouping: Option<(Grouping, &Robj)>,
    order: Option<&[usize]>,
) -> Result<Robj, RwError> {
    let groups = grouping.map(|(g, _)| g);
    let found = with_runtime(threads, None, |rt, _| {
        numeric!(rt, x, |values, par, cancel| outliers::detect(
            values, groups, request, par, cancel
        ))
    })?;
    let method = request.method;
    let mut out = index_vector(&found.indices)?;
    match (grouping, found.stats.as_slice()) {
        (None, [one]) => set_attributes(
            &mut out,
            &[
                (c"center", Scalar::Real(one.center)),
                (c"scale", Scalar::Real(one.scale)),
                (c"lower", Scalar::Real(one.lower)),
                (c"upper", Scalar::Real(one.upper)),
            ],
        ),
        (Some((grouping, names)), per_group) => {
            // The group of each outlier, for summary().
            let mut group: Vec<i32> = found.indices.iter().map(|i| grouping.codes[i]).collect();
            let ordered: Vec<Stats>;
            let per_group = match order {
                Some(order) => {
                    let mut rank = vec![0i32; order.len()];
                    for (r, &id) in order.iter().enumerate() {
                        rank[id] = r as i32 + 1;
                    }
                    for g in &mut group {
                        *g = rank[*g as usize - 1];
                    }
                    ordered = order.iter().map(|&id| per_group[id]).collect();
                    &ordered[..]
                }
                None => per_group,
            };
            out.set_attrib("group", group).map_err(internal)?;
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
        }
        (None, _) => return Err(RwError::Internal("one set of statistics expected".into())),
    }
    // The threshold is the test's business for "gesd": NA.
    let threshold = if method == Method::Gesd {
        f64::NAN
    } else {
        request.threshold
    };
    set_attributes(
        &mut out,
        &[
            (c"threshold", Scalar::Real(threshold)),
            (c"method", Scalar::Name(method.name())),
        ],
    );
    match method {
        Method::Hampel => set_attributes(
            &mut out,
            &[(c"window", Scalar::Integer(request.window as i32))],
        ),
        Method::Gesd => set_attributes(
            &mut out,
            &[
                (
                    c"max_outliers",
                    Scalar::Real(request.gesd.max_outliers as f64),
                ),
                (c"alpha", Scalar::Real(request.gesd.alpha)),
            ],
        ),
        _ => {}
    }
    set_attributes(
        &mut out,
        &[
            (c"n", Scalar::Real(x.len() as f64)),
            (c"class", Scalar::Name("rwbridge_outliers")),
        ],
    );
    Ok(out)
}

/// Group codes of `by` (an integer, double or character vector):
/// `list(codes, first)`, `codes` numbering the distinct values from 1 in
/// ascending order (strings: bytewise, as `sort(method = "radix")`; NA for
/// NA and NaN), `first` the 1-based index of each group's first element.
/// Strings are told apart by address: R interns them, so equal strings
/// share one; they are coded on this thread, as their bytes are R's.
/// @noRd
#[extendr]
fn group_codes_(by: Robj, threads: i32) -> Robj {
    guarded(|| {
        let n = by.len();
        let ints = by.as_integer_slice();
        let reals = by.as_real_slice();
        let strings = string_elements(&by);
        let mut codes = alloc_vector(SEXPTYPE::INTSXP, n).ok_or_else(|| RwError::Value {
            arg: "by",
            reason: "is too long: not enough memory for its group codes".into(),
        })?;
        let out = codes
            .as_integer_slice_mut()
            .ok_or_else(|| RwError::Internal("an integer vector has no values".into()))?;
        let first = with_runtime(threads, None, |rt, _| {
            if let Some(strings) = strings {
                return string_codes(strings, out, rt);
            }
            rt.run_on_values(n, |_, cancel| match (ints, reals) {
                (Some(by), _) => groups::code_integers(by, out, cancel),
                (_, Some(by)) => groups::code_doubles(by, out, cancel),
                _ => Err(unchecked("by")),
            })
        })?;
        named_list([("codes", codes), ("first", positions(&first))])
    })
}

/// The Hampel band of every element, for plots, scores and cleaning:
/// `list(center, scale, lower, upper)`, NA where a window has no finite
/// value or an element no group.
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
            ("scale", column(band.scale.into_iter().map(na_if_nan))),
            ("lower", column(band.lower.into_iter().map(na_if_nan))),
            ("upper", column(band.upper.into_iter().map(na_if_nan))),
        ])
    })
}

/// Count, shift (the first finite value), mean relative to the shift, sum
/// of squared deviations from the mean of the finite values of `x`, and
/// the unit of the last two (1, or 2^560 for huge values), as
/// `c(n, shift, shifted_mean, m2, unit)`: what `outlier_stats()` keeps and
/// merges.
/// @noRd
#[extendr]
fn outlier_stats_(x: Robj, threads: i32) -> Robj {
    guarded(|| {
        let moments = with_runtime(threads, None, |rt, _| {
            numeric!(rt, x, |values, par, cancel| outliers::moments(
                values, par, cancel
            ))
        })?;
        let fields = [
            moments.n,
            moments.shift,
            moments.shifted_mean,
            moments.m2,
            moments.unit,
        ];
        Ok(Robj::from(&fields[..]))
    })
}

/// The medcouple of the finite values of `x` (a double vector), as the
/// "adjbox" rule scales its fences by: for tests against robustbase's
/// `mc(doReflect = FALSE)`.
/// @noRd
#[extendr]
fn medcouple_(x: &[f64]) -> Robj {
    guarded(|| {
        let mut finite: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
        medcouple::sort_descending(&mut finite, Par::Inline);
        let mc = medcouple::medcouple(&finite, &Cancel::default())?;
        Ok(Robj::from(mc))
    })
}

extendr_module! {
    mod outliers;
    fn medcouple_;
    fn detect_outliers_;
    fn detect_outliers_given_;
    fn outlier_stats_;
    fn detect_outliers_by_;
    fn group_codes_;
    fn hampel_band_;
}
