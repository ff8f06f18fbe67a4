//! `verify()`, `write_signatures()` and `hash_files()`: manifests checked,
//! audited, planned for shards and written, and files hashed.

use super::call::{guarded, named_list, with_runtime};
use super::convert::{
    self, algo_named, algo_of_code, code, column, exclude, line_numbers, name_column, names_not_na,
    optional_algo, path, text_column, unchecked,
};
use crate::errors::{shown, RwError};
use crate::hash::Algo;
use crate::manifest::{self, Manifest};
use crate::status::Status;
use crate::tree::{list_files, Confined, Exclude};
use crate::verify::Outcome;
use crate::{audit, hash, signatures, verify};
use extendr_api::prelude::*;
use std::path::{Path, PathBuf};

/// The directory and the manifest R passed: the manifest's path is
/// relative to the directory unless it is absolute.
fn dir_and_manifest(dir: &Robj, manifest: &Robj) -> Result<(PathBuf, PathBuf), RwError> {
    let dir = path(dir, "dir")?;
    let manifest = dir.join(path(manifest, "manifest")?);
    Ok((dir, manifest))
}

/// Checks every entry of a manifest, and with `complete` audits the
/// directory too; a list of columns for R to assemble.
/// @noRd
// An entry point takes the R function's arguments, one for one.
#[allow(clippy::too_many_arguments)]
#[extendr]
fn verify_(
    dir: Robj,
    manifest: Robj,
    algo: &str,
    threads: i32,
    progress: bool,
    allow_outside: bool,
    complete: bool,
    lines: Nullable<Integers>,
    exclude_patterns: Robj,
) -> Robj {
    guarded(|| {
        let (dir, manifest) = dir_and_manifest(&dir, &manifest)?;
        let manifest = manifest.as_path();
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
                    audit::audit(
                        &confined,
                        manifest,
                        entries,
                        &mut outcomes,
                        algo,
                        exclude,
                        rt,
                    )?
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
            file: e.name.clone(),
            algo: o.algo,
            expected: Some(e.expected.clone()),
            actual: o.actual,
            status: o.status,
            found_as: o.found_as,
        });
        let unlisted = extras.into_iter().map(|(x, algo)| Row {
            line: i32::MIN,
            file: x.name,
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
            (
                "file",
                name_column(rows.clone().map(|r| Some(r.file.as_slice()))),
            ),
            (
                "algo",
                column(rows.clone().map(|r| code(&Algo::EVERY, r.algo))),
            ),
            (
                "expected",
                text_column(rows.clone().map(|r| r.expected.as_deref())),
            ),
            (
                "actual",
                text_column(rows.clone().map(|r| r.actual.as_deref())),
            ),
            (
                "status",
                column(rows.clone().map(|r| code(&Status::ALL, r.status))),
            ),
            ("found_as", name_column(rows.map(|r| r.found_as.as_deref()))),
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
    file: Vec<u8>,
    algo: Algo,
    expected: Option<String>,
    actual: Option<String>,
    status: Status,
    found_as: Option<Vec<u8>>,
}

/// The line and the size of the file of every entry, and the malformed
/// lines: what R needs to split a verification into shards.
/// @noRd
#[extendr]
fn verify_plan_(dir: Robj, manifest: Robj, algo: &str, threads: i32, allow_outside: bool) -> Robj {
    guarded(|| {
        let (dir, manifest) = dir_and_manifest(&dir, &manifest)?;
        let parsed = manifest::read(&manifest, optional_algo(algo)?)?;
        let entries = &parsed.entries;
        let sizes = with_runtime(threads, None, |rt, _| {
            let confined = Confined::new(&dir, allow_outside)?;
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
    dir: Robj,
    manifest: Robj,
    algo: &str,
    threads: i32,
    missing: Integers,
    algos: Integers,
    exclude_patterns: Robj,
) -> Robj {
    guarded(|| {
        let (dir, manifest) = dir_and_manifest(&dir, &manifest)?;
        let named = optional_algo(algo)?;
        let exclude = exclude(&exclude_patterns)?;
        let parsed = manifest::read(&manifest, named)?;
        let entries = &parsed.entries;
        if algos.len() != entries.len() {
            return Err(unchecked("algos"));
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
            let confined = Confined::new(&dir, false)?;
            let exclude = exclude.as_ref();
            audit::audit(
                &confined,
                &manifest,
                entries,
                &mut outcomes,
                algo,
                exclude,
                rt,
            )
        })?;
        let moved: Vec<(i32, i32, &[u8])> = entries
            .iter()
            .zip(&outcomes)
            .filter_map(|(e, o)| {
                let found_as = o.found_as.as_deref()?;
                Some((e.line as i32, code(&Algo::EVERY, o.algo), found_as))
            })
            .collect();
        named_list([
            (
                "file",
                name_column(extras.iter().map(|x| Some(x.name.as_slice()))),
            ),
            (
                "actual",
                text_column(extras.iter().map(|x| x.actual.as_deref())),
            ),
            ("algo", code(&Algo::EVERY, algo).into()),
            ("moved_line", column(moved.iter().map(|m| m.0))),
            ("moved_algo", column(moved.iter().map(|m| m.1))),
            ("found_as", name_column(moved.iter().map(|m| Some(m.2)))),
        ])
    })
}

fn malformed_lines(parsed: &Manifest) -> (&'static str, Robj) {
    let lines = parsed.malformed.iter().map(|m| m.line as i32);
    ("malformed_line", column(lines))
}

/// The malformed lines as shown: NUL bytes visible, a long line cut.
fn malformed_texts(parsed: &Manifest) -> (&'static str, Robj) {
    let texts: Vec<String> = parsed.malformed.iter().map(|m| shown(&m.text)).collect();
    (
        "malformed_text",
        text_column(texts.iter().map(|t| Some(t.as_str()))),
    )
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
    files: &Robj,
    exclude: Option<&Exclude>,
) -> Result<Vec<Vec<u8>>, RwError> {
    if files.is_null() {
        return list_files(dir, manifest, exclude);
    }
    let mut names = names_not_na(files, "files")?;
    if let Some(exclude) = exclude {
        names.retain(|n| !exclude.excludes_name(n));
    }
    Ok(names)
}

/// The files a manifest of `dir` covers, as `write_signatures()` finds
/// them (`manifest` `NULL` skips no file: a listing for `hash_files()`).
/// @noRd
#[extendr]
fn list_files_(dir: Robj, manifest: Robj, files: Robj, exclude_patterns: Robj) -> Robj {
    guarded(|| {
        let exclude = exclude(&exclude_patterns)?;
        let dir = path(&dir, "dir")?;
        let skip = if manifest.is_null() {
            None
        } else {
            Some(dir.join(path(&manifest, "manifest")?))
        };
        let names = covered(&dir, skip.as_deref(), &files, exclude.as_ref())?;
        Ok(name_column(names.iter().map(|n| Some(n.as_slice()))))
    })
}

/// The size of each of `names` under `dir` (0 for none), for shards to
/// share out; an error when a name leads outside `dir` on its face.
/// @noRd
#[extendr]
fn name_sizes_(dir: Robj, names: Robj) -> Robj {
    guarded(|| {
        let dir = path(&dir, "dir")?;
        let names = names_not_na(&names, "files")?;
        signatures::check_names(&names)?;
        let confined = Confined::new(&dir, false)?;
        let sizes = names.iter().map(|n| {
            let size = confined.size(&crate::tree::name_to_path(n));
            size.map_or(0.0, |s| s as f64)
        });
        Ok(column(sizes))
    })
}

/// `NULL` when every pattern is a glob; else the failure naming `exclude`.
/// @noRd
#[extendr]
fn check_exclude_(exclude_patterns: Robj) -> Robj {
    guarded(|| exclude(&exclude_patterns).map(|_| Robj::from(())))
}

/// What updating the manifest to list exactly `names` keeps, adds and
/// drops.
/// @noRd
#[extendr]
fn update_plan_(dir: Robj, manifest: Robj, names: Robj, algo: &str) -> Robj {
    guarded(|| {
        let (_, manifest) = dir_and_manifest(&dir, &manifest)?;
        let algo = algo_named(algo)?;
        let names = names_not_na(&names, "names")?;
        let plan = signatures::plan_update(&manifest, &names, algo)?;
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
    let names = |names: &[Vec<u8>]| name_column(names.iter().map(|n| Some(n.as_slice())));
    named_list([
        ("file", name_column(rows.iter().map(|r| Some(r.0)))),
        ("digest", text_column(rows.iter().map(|r| Some(r.1)))),
        (
            "added",
            column((0..rows.len()).map(|i| i >= plan.kept.len())),
        ),
        ("kept_line", column(plan.kept.iter().map(|e| e.line as i32))),
        ("add", names(&plan.add)),
        ("dropped", names(&plan.dropped)),
    ])
}

/// Writes a manifest of `names` and their digests, atomically; with
/// `keep`, after those lines of the existing manifest.
/// @noRd
#[extendr]
fn write_manifest_(
    dir: Robj,
    manifest: Robj,
    names: Robj,
    digests: Strings,
    algo: &str,
    keep: Nullable<Integers>,
) -> Robj {
    guarded(|| {
        let (_, manifest) = dir_and_manifest(&dir, &manifest)?;
        let algo = algo_named(algo)?;
        let names = names_not_na(&names, "names")?;
        if names.len() != digests.len() {
            return Err(unchecked("digests"));
        }
        let signed: Vec<(Vec<u8>, String)> = names
            .into_iter()
            .zip(digests.iter().map(|d| d.to_string()))
            .collect();
        let keep = match keep {
            Nullable::NotNull(lines) => Some(line_numbers(&lines)),
            Nullable::Null => None,
        };
        let written = signatures::write_manifest(&manifest, keep.as_deref(), &signed, algo)?;
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
    dir: Robj,
    manifest: Robj,
    files: Robj,
    algo: &str,
    threads: i32,
    progress: bool,
    exclude_patterns: Robj,
    update: bool,
) -> Robj {
    guarded(|| {
        let (dir, manifest) = dir_and_manifest(&dir, &manifest)?;
        let algo = algo_named(algo)?;
        let exclude = exclude(&exclude_patterns)?;
        let names = covered(&dir, Some(&manifest), &files, exclude.as_ref())?;
        let label = progress.then_some("write_signatures");
        if update {
            let plan = signatures::plan_update(&manifest, &names, algo)?;
            let added = with_runtime(threads, label, |rt, counters| {
                signatures::sign(&dir, &plan.add, algo, rt, counters)
            })?;
            signatures::write_manifest(&manifest, Some(&plan.kept_lines()), &added, algo)?;
            return update_columns(&plan, &added);
        }
        let signed = with_runtime(threads, label, |rt, counters| {
            signatures::write_signatures(&dir, &manifest, &names, algo, rt, counters)
        })?;
        named_list([
            (
                "file",
                name_column(signed.iter().map(|s| Some(s.0.as_slice()))),
            ),
            (
                "digest",
                text_column(signed.iter().map(|s| Some(s.1.as_str()))),
            ),
        ])
    })
}

/// Digests of files, `NA` for those that cannot be read, and why not.
/// @noRd
#[extendr]
fn hash_files_(paths: Robj, algo: &str, threads: i32, progress: bool) -> Robj {
    guarded(|| {
        let algo = algo_named(algo)?;
        // An NA path names no file; an empty one cannot be opened either.
        let paths: Vec<PathBuf> = convert::paths(&paths, "paths")?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
        let results = with_runtime(threads, progress.then_some("hash_files"), |rt, counters| {
            hash::hash_files(&[algo], &paths, rt, counters)
        })?;
        hash_columns(&results)
    })
}

/// As `hash_files_()`, for `names` under `dir`, each opened without
/// leaving it: a part of `write_signatures()` run in shards.
/// @noRd
#[extendr]
fn hash_names_(dir: Robj, names: Robj, algo: &str, threads: i32) -> Robj {
    guarded(|| {
        let dir = path(&dir, "dir")?;
        let names = names_not_na(&names, "files")?;
        let algo = algo_named(algo)?;
        let results = with_runtime(threads, None, |rt, _| {
            let confined = Confined::new(&dir, false)?;
            signatures::hash_names(&confined, &names, algo, rt, None)
        })?;
        hash_columns(&results)
    })
}

/// Each file's digest (`NA` when it could not be read), and for those
/// that could not be, the reason, the message and the kind of error.
fn hash_columns(results: &[Result<Vec<String>, RwError>]) -> Result<Robj, RwError> {
    let digests = results
        .iter()
        .map(|r| r.as_ref().ok().and_then(|d| d.first()).map(String::as_str));
    let failure = |describe: fn(&RwError) -> String| -> Robj {
        let texts: Vec<Option<String>> = results
            .iter()
            .map(|r| r.as_ref().err().map(describe))
            .collect();
        text_column(texts.iter().map(Option::as_deref))
    };
    named_list([
        ("digest", text_column(digests)),
        ("reason", failure(RwError::reason)),
        ("message", failure(|e| e.to_string())),
        ("kind", failure(|e| e.kind().to_string())),
    ])
}

/// The paths made absolute against the working directory, as bytes: for
/// shards, whose workers have working directories of their own.
/// @noRd
#[extendr]
fn absolute_(paths: Robj) -> Robj {
    guarded(|| {
        let here = std::env::current_dir().map_err(|e| RwError::io("find", Path::new("."), e))?;
        let absolute: Vec<Option<PathBuf>> = convert::paths(&paths, "paths")?
            .into_iter()
            .map(|p| p.map(|p| here.join(p)))
            .collect();
        Ok(name_column(absolute.iter().map(|p| {
            p.as_ref().map(|p| p.as_os_str().as_encoded_bytes())
        })))
    })
}

extendr_module! {
    mod checksums;
    fn verify_;
    fn verify_plan_;
    fn audit_;
    fn list_files_;
    fn name_sizes_;
    fn check_exclude_;
    fn update_plan_;
    fn write_manifest_;
    fn write_signatures_;
    fn hash_files_;
    fn hash_names_;
    fn absolute_;
}
