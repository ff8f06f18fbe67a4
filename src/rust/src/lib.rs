//! The extendr binding: each entry point converts its arguments, calls the
//! core, and converts the result. R checks the arguments before calling
//! (`R/errors.R` says why); an entry point called with anything else fails
//! with an internal error, never with output. Errors and panics come back
//! as values of class `rwbridge_failure`, which R raises as conditions, so
//! R's error longjmp never crosses a Rust frame.

pub mod audit;
pub mod bagit;
pub mod errors;
pub mod fileio;
pub mod groups;
pub mod hampel;
pub mod hash;
pub mod manifest;
pub mod outliers;
mod r_api;
pub mod runtime;
pub mod signatures;
#[cfg(test)]
mod test_support;
pub mod verify;

use errors::RwError;
use extendr_api::prelude::*;
use extendr_ffi::SEXPTYPE;
use hash::Algo;
use outliers::{Grouping, Indices, Method, Request, Stats};
use r_api::{alloc_vector, filled_vector, set_attributes, Scalar};
use runtime::{panic_message, Meter, Progress, Runtime};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use verify::Status;

/// Reads a whole file as a raw vector or one UTF-8 string.
/// @noRd
#[extendr]
fn readit_(path: &str, as_text: bool, threads: i32) -> Robj {
    guarded(|| {
        let path = Path::new(path);
        if as_text {
            let fits = |len: u64| i32::try_from(len).is_ok();
            let file = fileio::open_regular(path)?;
            // Checked before reading too, so a huge file is refused at once.
            if !fits(file.size) {
                return Err(too_long_for_a_string(path));
            }
            let text = file.read_text()?;
            if !fits(text.len() as u64) {
                return Err(too_long_for_a_string(path));
            }
            return Ok(Robj::from(text.as_str()));
        }
        read_raw(path, thread_count(threads)?)
    })
}

/// Reads straight into a freshly allocated R raw vector: no second copy.
fn read_raw(path: &Path, threads: usize) -> Result<Robj, RwError> {
    let mut file = fileio::open_regular(path)?;
    let size = usize::try_from(file.size).map_err(|_| too_big(path))?;
    let mut vector = alloc_vector(SEXPTYPE::RAWSXP, size).ok_or_else(|| too_big(path))?;
    let buf = vector
        .as_raw_slice_mut()
        .ok_or_else(|| RwError::Internal("a raw vector has no bytes".into()))?;
    let readers = if size >= fileio::PARALLEL_READ_MIN {
        runtime::resolve_threads(threads)
    } else {
        1
    };
    let got = file.fill_parallel(buf, readers)?;
    // Read up to the size the file had when opened, as `readBin()` with
    // `file.size()` does; one that reports no size (as /proc files do), or
    // shrank, is read to its end.
    if got == size && size > 0 {
        return Ok(vector);
    }
    let rest = file.rest()?;
    if got == size && rest.is_empty() {
        return Ok(vector);
    }
    let mut bytes = buf[..got].to_vec();
    bytes.extend(rest);
    Ok(Raw::from_bytes(&bytes).into())
}

fn too_long_for_a_string(path: &Path) -> RwError {
    RwError::Value {
        arg: "as",
        reason: format!(
            "is \"text\" but '{}' is over 2 GiB, the limit of one R string: use as = \"raw\"",
            path.display()
        ),
    }
}

fn too_big(path: &Path) -> RwError {
    RwError::io_reason("read", path, "not enough memory for the whole file")
}

/// Replaces (or appends to) a file with the bytes of a raw vector.
/// @noRd
#[extendr]
fn writeit_(data: Robj, path: &str, append: bool) -> Robj {
    guarded(|| {
        let bytes = data.as_raw_slice().ok_or_else(|| unchecked("data"))?;
        let path = Path::new(path);
        let written = if append {
            fileio::append(path, bytes)?
        } else {
            fileio::write_atomic(path, bytes)?
        };
        Ok(Robj::from(written as f64))
    })
}

/// The names of the codes that results carry, from the enums themselves.
/// @noRd
#[extendr]
fn code_names_() -> Robj {
    guarded(|| {
        let status: Vec<&str> = Status::ALL.iter().map(|s| s.name()).collect();
        let algo: Vec<&str> = Algo::ALL.iter().map(|a| a.name()).collect();
        named_list([("status", status.into()), ("algo", algo.into())])
    })
}

/// The 1-based position of `value` in `all`, as R indexes the names that
/// `code_names_()` gives.
fn code<T: PartialEq>(all: &[T], value: T) -> i32 {
    all.iter()
        .position(|v| *v == value)
        .map_or(0, |i| i as i32 + 1)
}

/// A manifest, parsed with the algorithm R named ("" for none).
fn read_manifest(
    manifest: &Path,
    algo: &str,
) -> Result<(manifest::Manifest, Option<Algo>), RwError> {
    let named = optional_algo(algo)?;
    Ok((
        manifest::parse(&fileio::read_bytes(manifest)?, named),
        named,
    ))
}

/// The algorithm R named, or `None` for "" (R's `NULL`).
fn optional_algo(name: &str) -> Result<Option<Algo>, RwError> {
    if name.is_empty() {
        return Ok(None);
    }
    Algo::from_name(name)
        .map(Some)
        .ok_or_else(|| unchecked("algo"))
}

/// Checks every entry of a manifest, and with `complete` audits the
/// directory too; a list of columns for R to assemble.
/// @noRd
// An entry point takes the R function's arguments, one for one.
#[allow(clippy::too_many_arguments)]
#[extendr]
fn verify_(
    dir: &str,
    manifest: &str,
    algo: &str,
    threads: i32,
    progress: bool,
    allow_outside: bool,
    complete: bool,
    lines: Nullable<Integers>,
) -> Robj {
    guarded(|| {
        let dir = PathBuf::from(dir);
        let manifest = Path::new(manifest);
        let (mut parsed, named) = read_manifest(manifest, algo)?;
        // A shard checks only its own lines.
        if let Nullable::NotNull(lines) = lines {
            let wanted = line_numbers(&lines);
            parsed
                .entries
                .retain(|e| wanted.binary_search(&e.line).is_ok());
        }
        let entries = &parsed.entries;
        let (outcomes, extras) =
            with_runtime(threads, progress.then_some("verify"), |rt, counters| {
                let mut outcomes =
                    verify::verify_entries(&dir, entries, allow_outside, rt, counters)?;
                let extras = if complete {
                    let algo = report_algo(named, entries);
                    audit::audit(&dir, manifest, entries, &mut outcomes, algo, rt)?
                        .into_iter()
                        .map(|extra| (extra, algo))
                        .collect()
                } else {
                    Vec::new()
                };
                Ok((outcomes, extras))
            })?;
        let lossy = |name: &[u8]| String::from_utf8_lossy(name).into_owned();
        let listed = entries.iter().zip(outcomes).map(|(e, o)| Row {
            line: e.line as i32,
            file: lossy(&e.name),
            algo: e.algo,
            expected: Some(e.expected.clone()),
            actual: o.actual,
            status: o.status,
            found_as: o.found_as.as_deref().map(lossy),
        });
        let unlisted = extras.into_iter().map(|(x, algo)| Row {
            line: i32::MIN,
            file: lossy(&x.name),
            algo,
            expected: None,
            actual: x.actual,
            status: Status::Extra,
            found_as: None,
        });
        let rows: Vec<Row> = listed.chain(unlisted).collect();
        let ints = |f: fn(&Row) -> i32| -> Robj { rows.iter().map(f).collect::<Vec<_>>().into() };
        let strings =
            |f: fn(&Row) -> Option<&str>| -> Robj { rows.iter().map(f).collect::<Vec<_>>().into() };
        // Statuses and algorithms go as codes (see `code_names_()`): one
        // string per row would cost a lookup in R's string cache each.
        named_list([
            ("line", ints(|r| r.line)),
            ("file", strings(|r| Some(&r.file))),
            ("algo", ints(|r| code(&Algo::ALL, r.algo))),
            ("expected", strings(|r| r.expected.as_deref())),
            ("actual", strings(|r| r.actual.as_deref())),
            ("status", ints(|r| code(&Status::ALL, r.status))),
            ("found_as", strings(|r| r.found_as.as_deref())),
            malformed_lines(&parsed),
            malformed_texts(&parsed),
        ])
    })
}

/// One row of a verification: a manifest entry, or an unlisted file.
struct Row {
    /// R's integer `NA` for an unlisted file.
    line: i32,
    file: String,
    algo: Algo,
    expected: Option<String>,
    actual: Option<String>,
    status: Status,
    found_as: Option<String>,
}

/// The line and the size of the file of every entry, and the malformed
/// lines: what R needs to split a verification into shards.
/// @noRd
#[extendr]
fn verify_plan_(dir: &str, manifest: &str, algo: &str, threads: i32, allow_outside: bool) -> Robj {
    guarded(|| {
        let (parsed, _) = read_manifest(Path::new(manifest), algo)?;
        let entries = &parsed.entries;
        let sizes = with_runtime(threads, None, |rt, _| {
            verify::entry_sizes(Path::new(dir), entries, allow_outside, rt)
        })?;
        named_list([
            (
                "line",
                entries
                    .iter()
                    .map(|e| e.line as i32)
                    .collect::<Vec<_>>()
                    .into(),
            ),
            (
                "size",
                sizes.iter().map(|&s| s as f64).collect::<Vec<_>>().into(),
            ),
            malformed_lines(&parsed),
            malformed_texts(&parsed),
        ])
    })
}

/// The audit of a verification merged from shards: the files the manifest
/// does not list, and which of the `missing` lines moved where.
/// @noRd
#[extendr]
fn audit_(dir: &str, manifest: &str, algo: &str, threads: i32, missing: Integers) -> Robj {
    guarded(|| {
        let dir = Path::new(dir);
        let manifest = Path::new(manifest);
        let (parsed, named) = read_manifest(manifest, algo)?;
        let entries = &parsed.entries;
        let missing = line_numbers(&missing);
        let mut outcomes: Vec<verify::Outcome> = entries
            .iter()
            .map(|e| {
                verify::Outcome::unhashed(if missing.binary_search(&e.line).is_ok() {
                    Status::Missing
                } else {
                    Status::Ok
                })
            })
            .collect();
        let algo = report_algo(named, entries);
        let extras = with_runtime(threads, None, |rt, _| {
            audit::audit(dir, manifest, entries, &mut outcomes, algo, rt)
        })?;
        let lossy = |name: &[u8]| String::from_utf8_lossy(name).into_owned();
        let moved: Vec<(i32, String)> = entries
            .iter()
            .zip(&outcomes)
            .filter_map(|(e, o)| Some((e.line as i32, lossy(o.found_as.as_deref()?))))
            .collect();
        named_list([
            (
                "file",
                extras
                    .iter()
                    .map(|x| lossy(&x.name))
                    .collect::<Vec<_>>()
                    .into(),
            ),
            (
                "actual",
                extras
                    .iter()
                    .map(|x| x.actual.as_deref())
                    .collect::<Vec<_>>()
                    .into(),
            ),
            ("algo", code(&Algo::ALL, algo).into()),
            (
                "moved_line",
                moved.iter().map(|m| m.0).collect::<Vec<_>>().into(),
            ),
            (
                "found_as",
                moved
                    .iter()
                    .map(|m| m.1.as_str())
                    .collect::<Vec<_>>()
                    .into(),
            ),
        ])
    })
}

/// Manifest line numbers from R, sorted for binary search; NA is none.
fn line_numbers(lines: &Integers) -> Vec<usize> {
    let mut numbers: Vec<usize> = lines
        .iter()
        .filter_map(|l| Option::<i32>::from(l).and_then(|l| usize::try_from(l).ok()))
        .collect();
    numbers.sort_unstable();
    numbers
}

/// Unlisted files are reported in the named algorithm, else in the
/// manifest's first, else in SHA-1.
fn report_algo(named: Option<Algo>, entries: &[manifest::Entry]) -> Algo {
    named
        .or(entries.first().map(|e| e.algo))
        .unwrap_or(Algo::Sha1)
}

fn malformed_lines(parsed: &manifest::Manifest) -> (&'static str, Robj) {
    let lines: Vec<i32> = parsed.malformed.iter().map(|m| m.line as i32).collect();
    ("malformed_line", lines.into())
}

fn malformed_texts(parsed: &manifest::Manifest) -> (&'static str, Robj) {
    let texts: Vec<&str> = parsed.malformed.iter().map(|m| m.text.as_str()).collect();
    ("malformed_text", texts.into())
}

/// The regular files under `dir`, as `write_signatures()` lists them.
/// @noRd
#[extendr]
fn list_files_(dir: &str, manifest: &str) -> Robj {
    guarded(|| {
        let names = signatures::list_files(Path::new(dir), Some(Path::new(manifest)))?;
        let names: Vec<String> = names
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        Ok(names.into())
    })
}

/// Writes a manifest of `names` and their digests, atomically.
/// @noRd
#[extendr]
fn write_manifest_(manifest: &str, names: Strings, digests: Strings) -> Robj {
    guarded(|| {
        let text: Vec<u8> = names
            .iter()
            .zip(digests.iter())
            .flat_map(|(name, digest)| manifest::format_line(digest.as_ref(), name.as_bytes()))
            .collect();
        let written = fileio::write_atomic(Path::new(manifest), &text)?;
        Ok(Robj::from(written as f64))
    })
}

/// Hashes the files under `dir` (or the `files` given) and writes the manifest.
/// @noRd
#[extendr]
fn write_signatures_(
    dir: &str,
    manifest: &str,
    files: Nullable<Strings>,
    algo: &str,
    threads: i32,
    progress: bool,
) -> Robj {
    guarded(|| {
        let dir = Path::new(dir);
        let manifest = Path::new(manifest);
        let algo = Algo::from_name(algo).ok_or_else(|| unchecked("algo"))?;
        let names = match files {
            Nullable::NotNull(files) => files.iter().map(|f| f.as_bytes().to_vec()).collect(),
            Nullable::Null => signatures::list_files(dir, Some(manifest))?,
        };
        let signed = with_runtime(
            threads,
            progress.then_some("write_signatures"),
            |rt, counters| signatures::write_signatures(dir, manifest, &names, algo, rt, counters),
        )?;
        let (files, digests): (Vec<String>, Vec<String>) = signed
            .into_iter()
            .map(|(name, digest)| (String::from_utf8_lossy(&name).into_owned(), digest))
            .unzip();
        named_list([("file", files.into()), ("digest", digests.into())])
    })
}

/// Digests of files, `NA` for those that cannot be read, and why not.
/// @noRd
#[extendr]
fn hash_files_(paths: Strings, algo: &str, threads: i32, progress: bool) -> Robj {
    guarded(|| {
        let algo = Algo::from_name(algo).ok_or_else(|| unchecked("algo"))?;
        // An NA path names no file; an empty one cannot be opened either.
        let paths: Vec<PathBuf> = paths
            .iter()
            .map(|p| PathBuf::from(if p.is_na() { "" } else { p.as_ref() }))
            .collect();
        let results = with_runtime(threads, progress.then_some("hash_files"), |rt, counters| {
            hash::hash_files(&[algo], &paths, rt, counters)
        })?;
        let digests: Vec<Option<&str>> = results
            .iter()
            .map(|r| r.as_ref().ok().and_then(|d| d.first()).map(String::as_str))
            .collect();
        let failure = |describe: fn(&RwError) -> String| -> Robj {
            let values: Vec<Option<String>> = results
                .iter()
                .map(|r| r.as_ref().err().map(describe))
                .collect();
            values.into()
        };
        named_list([
            ("digest", digests.into()),
            ("reason", failure(RwError::reason)),
            ("message", failure(|e| e.to_string())),
            ("kind", failure(|e| e.kind().to_string())),
        ])
    })
}

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
        if let Some(values) = x.as_real_slice() {
            rt.run_on_values(values.len(), |par, cancel| {
                outliers::detect(values, groups, &request, par, cancel)
            })
        } else if let Some(values) = x.as_integer_slice() {
            rt.run_on_values(values.len(), |par, cancel| {
                outliers::detect(values, groups, &request, par, cancel)
            })
        } else {
            Err(unchecked("x"))
        }
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

/// The groups R passed: `NULL`, or 1-based codes as long as `x` (R checked
/// that) with one name per group.
fn grouping<'a>(codes: &'a Robj, groups: &Robj) -> Result<Option<Grouping<'a>>, RwError> {
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

/// 1-based indices: an integer vector, or a double one past `i32::MAX`.
fn index_vector(indices: &Indices) -> Result<Robj, RwError> {
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

/// R's `NA` for an undefined statistic.
fn na_if_nan(v: f64) -> f64 {
    if v.is_nan() {
        <f64 as CanBeNA>::na()
    } else {
        v
    }
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
        let fits_integer = first.iter().all(|&i| i < i32::MAX as usize);
        let first: Robj = if fits_integer {
            first
                .iter()
                .map(|&i| i as i32 + 1)
                .collect::<Vec<i32>>()
                .into()
        } else {
            first
                .iter()
                .map(|&i| i as f64 + 1.0)
                .collect::<Vec<f64>>()
                .into()
        };
        named_list([("codes", codes), ("first", first)])
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
            if let Some(values) = x.as_real_slice() {
                rt.run_on_values(values.len(), |par, cancel| {
                    hampel::band_of(values, grouping, window, threshold, par, cancel)
                })
            } else if let Some(values) = x.as_integer_slice() {
                rt.run_on_values(values.len(), |par, cancel| {
                    hampel::band_of(values, grouping, window, threshold, par, cancel)
                })
            } else {
                Err(unchecked("x"))
            }
        })?;
        let column =
            |v: Vec<f64>| -> Robj { v.into_iter().map(na_if_nan).collect::<Vec<f64>>().into() };
        named_list([
            ("center", column(band.center)),
            ("lower", column(band.lower)),
            ("upper", column(band.upper)),
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
            if let Some(values) = x.as_real_slice() {
                rt.run_on_values(values.len(), |par, cancel| {
                    outliers::moments(values, par, cancel)
                })
            } else if let Some(values) = x.as_integer_slice() {
                rt.run_on_values(values.len(), |par, cancel| {
                    outliers::moments(values, par, cancel)
                })
            } else {
                Err(unchecked("x"))
            }
        })?;
        let fields = [moments.n, moments.shift, moments.shifted_mean, moments.m2];
        Ok(Robj::from(&fields[..]))
    })
}

/// Validates a BagIt bag: the rows of every manifest as columns, with the
/// names their codes index, and the problems, doubts and metadata found.
/// @noRd
#[extendr]
fn verify_bag_(bag: &str, fast: bool, threads: i32, progress: bool) -> Robj {
    guarded(|| {
        let check = with_runtime(threads, progress.then_some("verify_bag"), |rt, counters| {
            bagit::validate::check_bag(Path::new(bag), fast, rt, counters)
        })?;
        bag_columns(&check)
    })
}

/// The files a check of the bag hashes, but for the tag files it reads
/// anyway, for shards to share out: `path` (raw, relative to the bag),
/// `size` and `algos` (a bit mask over the algorithm codes).
/// @noRd
#[extendr]
fn bag_plan_(bag: &str) -> Robj {
    guarded(|| {
        let pending = bagit::validate::prepare(Path::new(bag), false)?;
        let jobs: Vec<_> = pending
            .jobs()
            .iter()
            .filter(|j| !pending.in_memory(j))
            .collect();
        named_list([
            (
                "path",
                List::from_values(jobs.iter().map(|j| Raw::from_bytes(&j.path))).into(),
            ),
            (
                "size",
                jobs.iter()
                    .map(|j| j.size as f64)
                    .collect::<Vec<_>>()
                    .into(),
            ),
            (
                "algos",
                jobs.iter()
                    .map(|j| algo_mask(&j.algos))
                    .collect::<Vec<_>>()
                    .into(),
            ),
        ])
    })
}

/// One shard of a bag's check: the digests of `paths` for the algorithms
/// of each mask, as `status` (a status code; 1 for read) and `digest` (the
/// digests of the files read, each file's in code order).
/// @noRd
#[extendr]
fn bag_hash_part_(bag: &str, paths: List, algos: Integers, threads: i32) -> Robj {
    guarded(|| {
        let jobs = bag_jobs(&paths, &algos)?;
        let digests = with_runtime(threads, None, |rt, _| {
            bagit::validate::hash_part(Path::new(bag), &jobs, rt, None)
        })?;
        let mut status = Vec::with_capacity(jobs.len());
        let mut flat: Vec<String> = Vec::new();
        for found in digests {
            match found {
                Ok(d) => {
                    status.push(code(&Status::ALL, Status::Ok));
                    flat.extend(d);
                }
                Err(s) => status.push(code(&Status::ALL, s)),
            }
        }
        named_list([("status", status.into()), ("digest", flat.into())])
    })
}

/// A check of the bag with what shards found: each file's `status` (`NA`
/// when its part failed: its rows are left out) and the `digest`s of the
/// files read, as `bag_hash_part_()` gives them; the other files hashed
/// here. Returns what `verify_bag_()` does.
/// @noRd
#[extendr]
fn verify_bag_merge_(
    bag: &str,
    threads: i32,
    paths: List,
    algos: Integers,
    status: Integers,
    digest: Strings,
) -> Robj {
    guarded(|| {
        let jobs = bag_jobs(&paths, &algos)?;
        if status.len() != jobs.len() {
            return Err(unchecked("status"));
        }
        let mut digest = digest.iter();
        let mut parts = Vec::with_capacity(jobs.len());
        for (job, s) in jobs.into_iter().zip(status.iter()) {
            let status =
                Option::<i32>::from(s).map(|s| Status::ALL.get((s as usize).wrapping_sub(1)));
            let result = match status {
                None => None,
                Some(Some(Status::Ok)) => {
                    let texts: Vec<String> = digest
                        .by_ref()
                        .take(job.algos.len())
                        .map(|t| t.to_string())
                        .collect();
                    if texts.len() != job.algos.len() {
                        return Err(unchecked("digest"));
                    }
                    Some(Ok(texts))
                }
                Some(Some(&other)) => Some(Err(other)),
                Some(None) => return Err(unchecked("status")),
            };
            parts.push((job, result));
        }
        if digest.next().is_some() {
            return Err(unchecked("digest"));
        }
        let pending = bagit::validate::prepare(Path::new(bag), false)?;
        let digests = with_runtime(threads, None, |rt, _| pending.merge_parts(parts, rt))?;
        bag_columns(&pending.finish(digests))
    })
}

/// The jobs R sent back: paths as raw vectors, algorithms as masks.
fn bag_jobs(paths: &List, algos: &Integers) -> Result<Vec<bagit::validate::Job>, RwError> {
    paths
        .values()
        .zip(algos.iter())
        .map(|(path, mask)| {
            let path = path.as_raw_slice().ok_or_else(|| unchecked("paths"))?;
            let algos = Algo::ALL
                .iter()
                .enumerate()
                .filter(|(k, _)| Option::<i32>::from(mask).unwrap_or(0) & (1 << k) != 0)
                .map(|(_, a)| *a)
                .collect();
            Ok(bagit::validate::Job {
                path: path.to_vec(),
                size: 0,
                algos,
            })
        })
        .collect()
}

fn algo_mask(algos: &[Algo]) -> i32 {
    algos.iter().map(|&a| 1 << (code(&Algo::ALL, a) - 1)).sum()
}

/// A bag check as the columns and names `verify_bag()` builds its result from.
fn bag_columns(check: &bagit::validate::BagCheck) -> Result<Robj, RwError> {
    let rows = &check.rows;
    let ints = |f: fn(&bagit::validate::Row) -> i32| -> Robj {
        rows.iter().map(f).collect::<Vec<_>>().into()
    };
    let strings = |f: fn(&bagit::validate::Row) -> Option<&str>| -> Robj {
        rows.iter().map(f).collect::<Vec<_>>().into()
    };
    let texts = |items: Vec<&str>| -> Robj { items.into() };
    let (problem_code, problem_message) = codes_and_messages(&check.problems);
    let (doubt_code, doubt_message) = codes_and_messages(&check.doubts);
    let (info_label, info_value): (Vec<&str>, Vec<&str>) = check
        .info
        .iter()
        .map(|(l, v)| (l.as_str(), v.as_str()))
        .unzip();
    named_list([
        (
            "line",
            ints(|r| {
                r.line
                    .and_then(|l| i32::try_from(l).ok())
                    .unwrap_or(i32::MIN)
            }),
        ),
        ("file", strings(|r| Some(&r.file))),
        ("manifest", ints(|r| r.manifest as i32 + 1)),
        ("expected", strings(|r| r.expected.as_deref())),
        ("actual", strings(|r| r.actual.as_deref())),
        ("status", ints(|r| code(&Status::ALL, r.status))),
        (
            "manifest_files",
            texts(check.manifests.iter().map(|m| m.file.as_str()).collect()),
        ),
        (
            "manifest_algos",
            texts(
                check
                    .manifests
                    .iter()
                    .map(|m| m.algo_name.as_str())
                    .collect(),
            ),
        ),
        ("problem_code", texts(problem_code)),
        ("problem_message", texts(problem_message)),
        ("doubt_code", texts(doubt_code)),
        ("doubt_message", texts(doubt_message)),
        ("info_label", texts(info_label)),
        ("info_value", texts(info_value)),
        ("version", check.version.as_deref().into()),
        ("encoding", check.encoding.as_deref().into()),
    ])
}

/// Turns a directory into a BagIt 1.0 bag in place, all or nothing.
/// `fail_at` (0 but in tests) fails that step of the moves and writes.
/// @noRd
#[extendr]
fn write_bag_(
    dir: &str,
    algos: Strings,
    labels: Strings,
    values: Strings,
    threads: i32,
    progress: bool,
    fail_at: i32,
) -> Robj {
    guarded(|| {
        let algos = algos
            .iter()
            .map(|a| Algo::from_name(a.as_ref()).ok_or_else(|| unchecked("algo")))
            .collect::<Result<Vec<Algo>, RwError>>()?;
        let text = |s: &Rstr| (!s.is_na()).then(|| s.to_string());
        let info = labels
            .iter()
            .zip(values.iter())
            .map(|(l, v)| text(l).zip(text(v)).ok_or_else(|| unchecked("info")))
            .collect::<Result<Vec<(String, String)>, RwError>>()?;
        if algos.is_empty() || labels.len() != values.len() {
            return Err(unchecked("algo"));
        }
        let fail_at = usize::try_from(fail_at).map_err(|_| unchecked("fail_at"))?;
        let made = with_runtime(threads, progress.then_some("write_bag"), |rt, counters| {
            bagit::make::make_bag(Path::new(dir), &algos, &info, rt, counters, fail_at)
        })?;
        named_list([
            ("files", Robj::from(made.files as f64)),
            ("octets", Robj::from(made.octets as f64)),
        ])
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

/// The codes and the messages of a bag's problems or doubts, as columns.
fn codes_and_messages(found: &[bagit::validate::Finding]) -> (Vec<&str>, Vec<&str>) {
    found
        .iter()
        .map(|f| (f.code.name(), f.message.as_str()))
        .unzip()
}

/// The Hampel half-width R checked (a whole number >= 1).
fn window_size(window: i32) -> Result<usize, RwError> {
    usize::try_from(window)
        .ok()
        .filter(|&w| w >= 1)
        .ok_or_else(|| unchecked("window"))
}

/// The thread count R resolved (0: every core); R never passes a negative.
fn thread_count(threads: i32) -> Result<usize, RwError> {
    usize::try_from(threads).map_err(|_| unchecked("threads"))
}

/// Runs `work` with a runtime whose hook, on this (the R) thread, polls
/// for Ctrl-C and, given a label, draws a progress line from the counters
/// `work` is handed.
fn with_runtime<T>(
    threads: i32,
    progress: Option<&str>,
    work: impl FnOnce(&Runtime, Option<&Progress>) -> Result<T, RwError>,
) -> Result<T, RwError> {
    let counters = Progress::default();
    let meter = progress.map(|label| Meter::new(label, &counters));
    let hook = || {
        if let Some(line) = meter.as_ref().and_then(|m| m.line(false)) {
            r_api::print_stderr(&line);
        }
        r_api::interrupt_pending()
    };
    let shown = progress.map(|_| &counters);
    let result = work(&Runtime::new(thread_count(threads)?, Some(&hook)), shown);
    if let Some(line) = meter.as_ref().and_then(|m| m.line(true)) {
        r_api::print_stderr(&line);
        r_api::print_stderr("\n");
    }
    result
}

/// An argument that R should have checked was not: the entry point was
/// called directly, or the R wrapper has a bug.
fn unchecked(arg: &str) -> RwError {
    RwError::Internal(format!(
        "`{arg}` reached Rust unchecked; call the exported R function"
    ))
}

fn internal(e: extendr_api::Error) -> RwError {
    RwError::Internal(e.to_string())
}

fn named_list<const N: usize>(items: [(&str, Robj); N]) -> Result<Robj, RwError> {
    let (names, values): (Vec<&str>, Vec<Robj>) = items.into_iter().unzip();
    List::from_names_and_values(names, values)
        .map(Into::into)
        .map_err(internal)
}

/// Runs `f`, turning an error or a panic into an `rwbridge_failure` value.
fn guarded(f: impl FnOnce() -> Result<Robj, RwError>) -> Robj {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(RwError::Internal(panic_message(&*payload))))
        .unwrap_or_else(|e| failure(&e))
}

/// `list(kind, message, path)` of class `rwbridge_failure`. The message goes
/// back as data, never through `Rf_error()`'s format string, so a `%` in a
/// path is harmless here (extendr issue 1058).
fn failure(err: &RwError) -> Robj {
    let items = [
        ("kind", Robj::from(err.kind())),
        ("message", Robj::from(err.to_string())),
        (
            "path",
            err.path().map_or_else(|| Robj::from(()), Robj::from),
        ),
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

extendr_module! {
    mod rwbridge;
    fn readit_;
    fn writeit_;
    fn code_names_;
    fn verify_;
    fn verify_plan_;
    fn audit_;
    fn list_files_;
    fn write_manifest_;
    fn write_signatures_;
    fn hash_files_;
    fn verify_bag_;
    fn bag_plan_;
    fn bag_hash_part_;
    fn verify_bag_merge_;
    fn write_bag_;
    fn detect_outliers_;
    fn detect_outliers_given_;
    fn outlier_stats_;
    fn detect_outliers_by_;
    fn group_codes_;
    fn hampel_band_;
    fn noop_;
    fn panic_for_test_;
}
