//! `verify()`, `write_signatures()` and `hash_files()`: manifests checked,
//! audited, planned for shards and written, and files hashed.

use super::call::{guarded, named_list, with_runtime};
use super::convert::{algo_named, code, column, line_numbers, lossy, optional_algo};
use crate::errors::RwError;
use crate::hash::Algo;
use crate::manifest::{self, Manifest};
use crate::status::Status;
use crate::tree::{list_files, Confined};
use crate::verify::Outcome;
use crate::{audit, fileio, hash, signatures, verify};
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
) -> Robj {
    guarded(|| {
        let dir = PathBuf::from(dir);
        let manifest = Path::new(manifest);
        let named = optional_algo(algo)?;
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
                    let algo = audit::report_algo(named, entries);
                    audit::audit(&dir, manifest, entries, &mut outcomes, algo, rt)?
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
        let rows = rows.iter();
        // Statuses and algorithms go as codes (see `code_names_()`): one
        // string per row would cost a lookup in R's string cache each.
        named_list([
            ("line", column(rows.clone().map(|r| r.line))),
            ("file", column(rows.clone().map(|r| r.file.as_str()))),
            (
                "algo",
                column(rows.clone().map(|r| code(&Algo::ALL, r.algo))),
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
        let named = optional_algo(algo)?;
        let parsed = manifest::read(manifest, named)?;
        let entries = &parsed.entries;
        let missing = line_numbers(&missing);
        let mut outcomes: Vec<Outcome> = entries
            .iter()
            .map(|e| {
                Outcome::unhashed(if missing.binary_search(&e.line).is_ok() {
                    Status::Missing
                } else {
                    Status::Ok
                })
            })
            .collect();
        let algo = audit::report_algo(named, entries);
        let extras = with_runtime(threads, None, |rt, _| {
            audit::audit(dir, manifest, entries, &mut outcomes, algo, rt)
        })?;
        let moved: Vec<(i32, String)> = entries
            .iter()
            .zip(&outcomes)
            .filter_map(|(e, o)| Some((e.line as i32, lossy(o.found_as.as_deref()?))))
            .collect();
        named_list([
            ("file", column(extras.iter().map(|x| lossy(&x.name)))),
            ("actual", column(extras.iter().map(|x| x.actual.as_deref()))),
            ("algo", code(&Algo::ALL, algo).into()),
            ("moved_line", column(moved.iter().map(|m| m.0))),
            ("found_as", column(moved.iter().map(|m| m.1.as_str()))),
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

/// The regular files under `dir`, as `write_signatures()` lists them.
/// @noRd
#[extendr]
fn list_files_(dir: &str, manifest: &str) -> Robj {
    guarded(|| {
        let names = list_files(Path::new(dir), Some(Path::new(manifest)))?;
        Ok(column(names.iter().map(|n| lossy(n))))
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
        let algo = algo_named(algo)?;
        let names = match files {
            Nullable::NotNull(files) => files.iter().map(|f| f.as_bytes().to_vec()).collect(),
            Nullable::Null => list_files(dir, Some(manifest))?,
        };
        let signed = with_runtime(
            threads,
            progress.then_some("write_signatures"),
            |rt, counters| signatures::write_signatures(dir, manifest, &names, algo, rt, counters),
        )?;
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
    fn write_manifest_;
    fn write_signatures_;
    fn hash_files_;
}
