//! `verify()`, `write_signatures()` and `hash_files()`: manifests checked,
//! audited, planned for shards and written, and files hashed.

use super::call::{guarded, named_list, with_runtime};
use super::convert::{
    algo_named, algo_of_code, code, column, exclude, line_numbers, lossy, names_of, optional_algo,
};
use crate::errors::RwError;
use crate::hash::Algo;
use crate::manifest::{self, Manifest};
use crate::status::Status;
use crate::tree::{list_files, Confined, Exclude};
use crate::verify::Outcome;
use crate::{audit, hash, signatures, verify};
use extendr_api::prelude::*;
use std::path::{Path, PathBuf};

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
    exclude_patterns: Nullable<Strings>,
) -> Robj {
    guarded(|| {
        let dir = PathBuf::from(dir);
        let manifest = Path::new(manifest);
        let named = optional_algo(algo)?;
        let exclude = exclude(&exclude_patterns)?;
        let mut parsed = manifest::read(manifest, named)?;
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
                let confined = Confined::new(&dir, allow_outside)?;
                let mut outcomes = verify::verify_entries(&confined, entries, rt, counters)?;
                let extras = if complete {
                    let algo = audit::report_algo(named, &outcomes);
                    let exclude = exclude.as_ref();
                    audit::audit(&dir, manifest, entries, &mut outcomes, algo, exclude, rt)?
                        .into_iter()
                        .map(|extra| (extra, algo))
                        .collect()
                } else {
                    Vec::new()
                };
                Ok((outcomes, extras))
            })?;
        let listed = entries.iter().zip(outcomes).map(|(e, o)| Row {
            line: e.line as i32,
            file: lossy(&e.name),
            algo: o.algo,
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
        let rows = rows.iter();
        // Statuses and algorithms go as codes (see `code_names_()`): one
        // string per row would cost a lookup in R's string cache each.
        named_list([
            ("line", column(rows.clone().map(|r| r.line))),
            ("file", column(rows.clone().map(|r| r.file.as_str()))),
            (
                "algo",
                column(rows.clone().map(|r| code(&Algo::EVERY, r.algo))),
            ),
            (
                "expected",
                column(rows.clone().map(|r| r.expected.as_deref())),
            ),
            ("actual", column(rows.clone().map(|r| r.actual.as_deref()))),
            (
                "status",
                column(rows.clone().map(|r| code(&Status::ALL, r.status))),
            ),
            ("found_as", column(rows.map(|r| r.found_as.as_deref()))),
            malformed_lines(&parsed),
            malformed_texts(&parsed),
            malformed_reasons(&parsed),
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
        let parsed = manifest::read(Path::new(manifest), optional_algo(algo)?)?;
        let entries = &parsed.entries;
        let sizes = with_runtime(threads, None, |rt, _| {
            let confined = Confined::new(Path::new(dir), allow_outside)?;
            verify::entry_sizes(&confined, entries, rt)
        })?;
        named_list([
            ("line", column(entries.iter().map(|e| e.line as i32))),
            ("size", column(sizes.iter().map(|&s| s as f64))),
            malformed_lines(&parsed),
            malformed_texts(&parsed),
            malformed_reasons(&parsed),
        ])
    })
}

/// The audit of a verification merged from shards: the files the manifest
/// does not list, and which of the `missing` lines moved where. `algos`
/// are the codes of the algorithms each line was found in, in line order.
/// @noRd
#[extendr]
fn audit_(
    dir: &str,
    manifest: &str,
    algo: &str,
    threads: i32,
    missing: Integers,
    algos: Integers,
    exclude_patterns: Nullable<Strings>,
) -> Robj {
    guarded(|| {
        let dir = Path::new(dir);
        let manifest = Path::new(manifest);
        let named = optional_algo(algo)?;
        let exclude = exclude(&exclude_patterns)?;
        let parsed = manifest::read(manifest, named)?;
        let entries = &parsed.entries;
        if algos.len() != entries.len() {
            return Err(super::call::unchecked("algos"));
        }
        let missing = line_numbers(&missing);
        let mut outcomes = entries
            .iter()
            .zip(algos.iter())
            .map(|(e, algo)| {
                let status = if missing.binary_search(&e.line).is_ok() {
                    Status::Missing
                } else {
                    Status::Ok
                };
                Ok(Outcome::unhashed(status, algo_of_code(algo)?))
            })
            .collect::<Result<Vec<Outcome>, RwError>>()?;
        let algo = audit::report_algo(named, &outcomes);
        let extras = with_runtime(threads, None, |rt, _| {
            audit::audit(
                dir,
                manifest,
                entries,
                &mut outcomes,
                algo,
                exclude.as_ref(),
                rt,
            )
        })?;
        let moved: Vec<(i32, i32, String)> = entries
            .iter()
            .zip(&outcomes)
            .filter_map(|(e, o)| {
                let found_as = lossy(o.found_as.as_deref()?);
                Some((e.line as i32, code(&Algo::EVERY, o.algo), found_as))
            })
            .collect();
        named_list([
            ("file", column(extras.iter().map(|x| lossy(&x.name)))),
            ("actual", column(extras.iter().map(|x| x.actual.as_deref()))),
            ("algo", code(&Algo::EVERY, algo).into()),
            ("moved_line", column(moved.iter().map(|m| m.0))),
            ("moved_algo", column(moved.iter().map(|m| m.1))),
            ("found_as", column(moved.iter().map(|m| m.2.as_str()))),
        ])
    })
}

fn malformed_lines(parsed: &Manifest) -> (&'static str, Robj) {
    let lines = parsed.malformed.iter().map(|m| m.line as i32);
    ("malformed_line", column(lines))
}

fn malformed_texts(parsed: &Manifest) -> (&'static str, Robj) {
    let texts = parsed.malformed.iter().map(|m| m.text.as_str());
    ("malformed_text", column(texts))
}

fn malformed_reasons(parsed: &Manifest) -> (&'static str, Robj) {
    let reasons = parsed.malformed.iter().map(|m| m.reason.as_deref());
    ("malformed_reason", column(reasons))
}

/// The files a manifest of `dir` covers: `files` when given (less those
/// `exclude` leaves out), else every regular file under `dir` but the
/// manifest and those `exclude` leaves out.
fn covered(
    dir: &Path,
    manifest: Option<&Path>,
    files: &Nullable<Strings>,
    exclude: Option<&Exclude>,
) -> Result<Vec<Vec<u8>>, RwError> {
    match files {
        Nullable::NotNull(files) => {
            let mut names = names_of(files);
            if let Some(exclude) = exclude {
                names.retain(|n| !exclude.excludes_name(n));
            }
            Ok(names)
        }
        Nullable::Null => list_files(dir, manifest, exclude),
    }
}

/// The files a manifest of `dir` covers, as `write_signatures()` finds
/// them (`manifest` "" skips no file: a listing for `hash_files()`).
/// @noRd
#[extendr]
fn list_files_(
    dir: &str,
    manifest: &str,
    files: Nullable<Strings>,
    exclude_patterns: Nullable<Strings>,
) -> Robj {
    guarded(|| {
        let exclude = exclude(&exclude_patterns)?;
        let skip = (!manifest.is_empty()).then(|| Path::new(manifest));
        let names = covered(Path::new(dir), skip, &files, exclude.as_ref())?;
        Ok(column(names.iter().map(|n| lossy(n))))
    })
}

/// `NULL` when every pattern is a glob; else the failure naming `exclude`.
/// @noRd
#[extendr]
fn check_exclude_(exclude_patterns: Nullable<Strings>) -> Robj {
    guarded(|| exclude(&exclude_patterns).map(|_| Robj::from(())))
}

/// What updating `manifest` to list exactly `names` keeps, adds and drops.
/// @noRd
#[extendr]
fn update_plan_(manifest: &str, names: Strings, algo: &str) -> Robj {
    guarded(|| {
        let algo = algo_named(algo)?;
        let plan = signatures::plan_update(Path::new(manifest), &names_of(&names), algo)?;
        update_columns(&plan, &[])
    })
}

/// The rows of an updated manifest (kept lines, then added files) and the
/// files dropped, as R builds `write_signatures()`'s result from them.
fn update_columns(plan: &signatures::Update, added: &[(Vec<u8>, String)]) -> Result<Robj, RwError> {
    let kept = plan
        .kept
        .iter()
        .map(|e| (e.name.as_slice(), e.expected.as_str()));
    let rows: Vec<(&[u8], &str)> = kept
        .chain(added.iter().map(|(n, d)| (n.as_slice(), d.as_str())))
        .collect();
    named_list([
        ("file", column(rows.iter().map(|r| lossy(r.0)))),
        ("digest", column(rows.iter().map(|r| r.1))),
        (
            "added",
            column((0..rows.len()).map(|i| i >= plan.kept.len())),
        ),
        ("kept_line", column(plan.kept.iter().map(|e| e.line as i32))),
        ("add", column(plan.add.iter().map(|n| lossy(n)))),
        ("dropped", column(plan.dropped.iter().map(|n| lossy(n)))),
    ])
}

/// Writes a manifest of `names` and their digests, atomically; with
/// `keep`, after those lines of the existing manifest.
/// @noRd
#[extendr]
fn write_manifest_(
    manifest: &str,
    names: Strings,
    digests: Strings,
    algo: &str,
    keep: Nullable<Integers>,
) -> Robj {
    guarded(|| {
        let algo = algo_named(algo)?;
        let signed: Vec<(Vec<u8>, String)> = names_of(&names)
            .into_iter()
            .zip(digests.iter().map(|d| d.to_string()))
            .collect();
        let keep = match keep {
            Nullable::NotNull(lines) => Some(line_numbers(&lines)),
            Nullable::Null => None,
        };
        let written =
            signatures::write_manifest(Path::new(manifest), keep.as_deref(), &signed, algo)?;
        Ok(Robj::from(written as f64))
    })
}

/// Hashes the files under `dir` (or the `files` given) and writes the
/// manifest, or with `update` updates it.
/// @noRd
// An entry point takes the R function's arguments, one for one.
#[allow(clippy::too_many_arguments)]
#[extendr]
fn write_signatures_(
    dir: &str,
    manifest: &str,
    files: Nullable<Strings>,
    algo: &str,
    threads: i32,
    progress: bool,
    exclude_patterns: Nullable<Strings>,
    update: bool,
) -> Robj {
    guarded(|| {
        let dir = Path::new(dir);
        let manifest = Path::new(manifest);
        let algo = algo_named(algo)?;
        let exclude = exclude(&exclude_patterns)?;
        let names = covered(dir, Some(manifest), &files, exclude.as_ref())?;
        let label = progress.then_some("write_signatures");
        if update {
            let plan = signatures::plan_update(manifest, &names, algo)?;
            let added = with_runtime(threads, label, |rt, counters| {
                signatures::sign(dir, &plan.add, algo, rt, counters)
            })?;
            signatures::write_manifest(manifest, Some(&plan.kept_lines()), &added, algo)?;
            return update_columns(&plan, &added);
        }
        let signed = with_runtime(threads, label, |rt, counters| {
            signatures::write_signatures(dir, manifest, &names, algo, rt, counters)
        })?;
        let (files, digests): (Vec<String>, Vec<String>) = signed
            .into_iter()
            .map(|(name, digest)| (lossy(&name), digest))
            .unzip();
        named_list([("file", files.into()), ("digest", digests.into())])
    })
}

/// Digests of files, `NA` for those that cannot be read, and why not.
/// @noRd
#[extendr]
fn hash_files_(paths: Strings, algo: &str, threads: i32, progress: bool) -> Robj {
    guarded(|| {
        let algo = algo_named(algo)?;
        // An NA path names no file; an empty one cannot be opened either.
        let paths: Vec<PathBuf> = paths
            .iter()
            .map(|p| PathBuf::from(if p.is_na() { "" } else { p.as_ref() }))
            .collect();
        let results = with_runtime(threads, progress.then_some("hash_files"), |rt, counters| {
            hash::hash_files(&[algo], &paths, rt, counters)
        })?;
        let digests = results
            .iter()
            .map(|r| r.as_ref().ok().and_then(|d| d.first()).map(String::as_str));
        let failure = |describe: fn(&RwError) -> String| -> Robj {
            column(results.iter().map(|r| r.as_ref().err().map(describe)))
        };
        named_list([
            ("digest", column(digests)),
            ("reason", failure(RwError::reason)),
            ("message", failure(|e| e.to_string())),
            ("kind", failure(|e| e.kind().to_string())),
        ])
    })
}

extendr_module! {
    mod checksums;
    fn verify_;
    fn verify_plan_;
    fn audit_;
    fn list_files_;
    fn check_exclude_;
    fn update_plan_;
    fn write_manifest_;
    fn write_signatures_;
    fn hash_files_;
}
