//! `verify_bag()` and `write_bag()`: BagIt bags checked (here or in
//! shards) and made.

use super::call::{guarded, named_list, unchecked, with_runtime};
use super::convert::{algo_named, code, column};
use crate::bagit::make::copy::make_bag_at;
use crate::bagit::make::update::update_bag;
use crate::bagit::make::{make_bag, Hooks, MadeBag, Request};
use crate::bagit::validate::{check_bag, hash_part, prepare, BagCheck, Finding, Job};
use crate::errors::RwError;
use crate::hash::Algo;
use crate::status::Status;
use extendr_api::prelude::*;
use std::path::Path;

/// Validates a BagIt bag: the rows of every manifest as columns, with the
/// names their codes index, and the problems, doubts and metadata found.
/// @noRd
#[extendr]
fn verify_bag_(bag: &str, fast: bool, threads: i32, progress: bool) -> Robj {
    guarded(|| {
        let check = with_runtime(threads, progress.then_some("verify_bag"), |rt, counters| {
            check_bag(Path::new(bag), fast, rt, counters)
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
        let pending = prepare(Path::new(bag), false)?;
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
            ("size", column(jobs.iter().map(|j| j.size as f64))),
            ("algos", column(jobs.iter().map(|j| algo_mask(&j.algos)))),
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
            hash_part(Path::new(bag), &jobs, rt, None)
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
        let pending = prepare(Path::new(bag), false)?;
        let digests = with_runtime(threads, None, |rt, _| pending.merge_parts(parts, rt))?;
        bag_columns(&pending.finish(digests))
    })
}

/// The jobs R sent back: paths as raw vectors, algorithms as masks.
fn bag_jobs(paths: &List, algos: &Integers) -> Result<Vec<Job>, RwError> {
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
            Ok(Job {
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
fn bag_columns(check: &BagCheck) -> Result<Robj, RwError> {
    let rows = check.rows.iter();
    let (problem_code, problem_message) = codes_and_messages(&check.problems);
    let (doubt_code, doubt_message) = codes_and_messages(&check.doubts);
    let (info_label, info_value): (Vec<&str>, Vec<&str>) = check
        .info
        .iter()
        .map(|(l, v)| (l.as_str(), v.as_str()))
        .unzip();
    let line = |l: Option<usize>| l.and_then(|l| i32::try_from(l).ok()).unwrap_or(i32::MIN);
    let manifests = check.manifests.iter();
    named_list([
        ("line", column(rows.clone().map(|r| line(r.line)))),
        ("file", column(rows.clone().map(|r| r.file.as_str()))),
        (
            "manifest",
            column(rows.clone().map(|r| r.manifest as i32 + 1)),
        ),
        (
            "expected",
            column(rows.clone().map(|r| r.expected.as_deref())),
        ),
        ("actual", column(rows.clone().map(|r| r.actual.as_deref()))),
        ("status", column(rows.map(|r| code(&Status::ALL, r.status)))),
        (
            "manifest_files",
            column(manifests.clone().map(|m| m.file.as_str())),
        ),
        (
            "manifest_algos",
            // R's name where rwbridge knows the algorithm.
            column(manifests.map(|m| m.algo.map_or(m.algo_name.as_str(), |a| a.name()))),
        ),
        ("problem_code", column(problem_code)),
        ("problem_message", column(problem_message)),
        ("doubt_code", column(doubt_code)),
        ("doubt_message", column(doubt_message)),
        ("info_label", column(info_label)),
        ("info_value", column(info_value)),
        ("version", check.version.as_deref().into()),
        ("encoding", check.encoding.as_deref().into()),
    ])
}

/// The codes and the messages of a bag's problems or doubts, as columns.
fn codes_and_messages(found: &[Finding]) -> (Vec<&str>, Vec<&str>) {
    found
        .iter()
        .map(|f| (f.code.name(), f.message.as_str()))
        .unzip()
}

/// Makes a BagIt 1.0 bag of a directory, in place or, with `dest` (not
/// `NA`), at a new place from a copy; all or nothing. `hooks` (all 0 but
/// in tests): the step to fail, the step at which to pause until
/// `pause_file` is removed, and whether the restore fails too.
/// @noRd
#[extendr]
#[allow(clippy::too_many_arguments)]
fn write_bag_(
    dir: &str,
    dest: Nullable<&str>,
    algos: Strings,
    labels: Strings,
    values: Strings,
    threads: i32,
    progress: bool,
    hooks: Integers,
    pause_file: &str,
) -> Robj {
    guarded(|| {
        let algos = algos
            .iter()
            .map(|a| algo_named(a.as_ref()))
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
        let hooks = test_hooks(&hooks, pause_file)?;
        let made = with_runtime(threads, progress.then_some("write_bag"), |rt, counters| {
            let req = Request {
                algos: &algos,
                info: &info,
                rt,
                progress: counters,
                hooks: &hooks,
            };
            match dest {
                Nullable::NotNull(dest) => make_bag_at(Path::new(dir), Path::new(dest), &req),
                Nullable::Null => make_bag(Path::new(dir), &req),
            }
        })?;
        made_columns(&made)
    })
}

/// Rewrites a bag's manifests, Payload-Oxum and tag manifests for the
/// payload it holds now; `hooks` and `pause_file` as for `write_bag_()`.
/// @noRd
#[extendr]
fn update_bag_(bag: &str, threads: i32, progress: bool, hooks: Integers, pause_file: &str) -> Robj {
    guarded(|| {
        let hooks = test_hooks(&hooks, pause_file)?;
        let made = with_runtime(threads, progress.then_some("update_bag"), |rt, counters| {
            update_bag(Path::new(bag), rt, counters, &hooks)
        })?;
        made_columns(&made)
    })
}

/// The test hooks R passed: `c(fail_at, pause_at, fail_undo)`.
fn test_hooks(hooks: &Integers, pause_file: &str) -> Result<Hooks, RwError> {
    let values: Vec<usize> = hooks
        .iter()
        .map(|h| Option::<i32>::from(h).and_then(|h| usize::try_from(h).ok()))
        .collect::<Option<_>>()
        .filter(|v: &Vec<usize>| v.len() == 3)
        .ok_or_else(|| unchecked("hooks"))?;
    Ok(Hooks {
        fail_at: values[0],
        pause_at: values[1],
        pause_file: (!pause_file.is_empty()).then(|| pause_file.into()),
        fail_undo: values[2] != 0,
    })
}

fn made_columns(made: &MadeBag) -> Result<Robj, RwError> {
    named_list([
        ("files", Robj::from(made.files as f64)),
        ("octets", Robj::from(made.octets as f64)),
    ])
}

extendr_module! {
    mod bag;
    fn verify_bag_;
    fn bag_plan_;
    fn bag_hash_part_;
    fn verify_bag_merge_;
    fn write_bag_;
    fn update_bag_;
}
