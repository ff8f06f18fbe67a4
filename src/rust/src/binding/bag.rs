//! `verify_bag()` and `write_bag()`: BagIt bags checked (here or in
//! shards) and made.

use super::call::{guarded, named_list, with_runtime};
use super::convert::{
    algo_named, code, column, exclude, name_column, path, text, text_column, unchecked,
    utf8_strings,
};
use crate::bagit::make::copy::make_bag_at;
use crate::bagit::make::update::update_bag;
use crate::bagit::make::{make_bag, Hooks, MadeBag, Request};
use crate::bagit::validate::{check_bag, hash_part, prepare, BagCheck, Finding, Job};
use crate::errors::RwError;
use crate::hash::Algo;
use crate::status::Status;
use extendr_api::prelude::*;

/// Validates a BagIt bag: the rows of every manifest as columns, with the
/// names their codes index, and the problems, doubts and metadata found;
/// unlisted payload files `exclude_patterns` matches are left out.
/// @noRd
#[extendr]
fn verify_bag_(
    bag: Robj,
    fast: bool,
    threads: i32,
    progress: bool,
    exclude_patterns: Robj,
) -> Robj {
    guarded(|| {
        let bag = path(&bag, "bag")?;
        let exclude = exclude(&exclude_patterns)?;
        let check = with_runtime(threads, progress.then_some("verify_bag"), |rt, counters| {
            check_bag(&bag, fast, exclude.as_ref(), rt, counters)
        })?;
        bag_columns(&check)
    })
}

/// The files a check of the bag hashes, but for the tag files it reads
/// anyway, for shards to share out: `path` (raw, relative to the bag),
/// `size` and `algos` (a bit mask over the algorithm codes).
/// @noRd
#[extendr]
fn bag_plan_(bag: Robj, exclude_patterns: Robj) -> Robj {
    guarded(|| {
        let bag = path(&bag, "bag")?;
        let exclude = exclude(&exclude_patterns)?;
        let pending = prepare(&bag, false, exclude.as_ref())?;
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
fn bag_hash_part_(bag: Robj, paths: List, algos: Integers, threads: i32) -> Robj {
    guarded(|| {
        let bag = path(&bag, "bag")?;
        let jobs = bag_jobs(&paths, &algos)?;
        let digests = with_runtime(threads, None, |rt, _| hash_part(&bag, &jobs, rt, None))?;
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
        let digest = text_column(flat.iter().map(|d| Some(d.as_str())));
        named_list([("status", status.into()), ("digest", digest)])
    })
}

/// A check of the bag with what shards found: each file's `status` (`NA`
/// when its part failed: its rows are left out) and the `digest`s of the
/// files read, as `bag_hash_part_()` gives them; the other files hashed
/// here. Returns what `verify_bag_()` does.
/// @noRd
#[extendr]
fn verify_bag_merge_(
    bag: Robj,
    threads: i32,
    paths: List,
    algos: Integers,
    status: Integers,
    digest: Strings,
    exclude_patterns: Robj,
) -> Robj {
    guarded(|| {
        let bag = path(&bag, "bag")?;
        let exclude = exclude(&exclude_patterns)?;
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
        let pending = prepare(&bag, false, exclude.as_ref())?;
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
    let line = |l: Option<usize>| l.and_then(|l| i32::try_from(l).ok()).unwrap_or(i32::MIN);
    let manifests = check.manifests.iter();
    let texts = |found: &[Finding]| text_column(found.iter().map(|f| Some(f.message.as_str())));
    let codes = |found: &[Finding]| text_column(found.iter().map(|f| Some(f.code.name())));
    let info = check.info.iter();
    let scalar = |t: &Option<String>| t.as_deref().map_or_else(|| Robj::from(()), text);
    named_list([
        ("line", column(rows.clone().map(|r| line(r.line)))),
        (
            "file",
            name_column(rows.clone().map(|r| Some(r.file.as_slice()))),
        ),
        (
            "manifest",
            column(rows.clone().map(|r| r.manifest as i32 + 1)),
        ),
        (
            "expected",
            text_column(rows.clone().map(|r| r.expected.as_deref())),
        ),
        (
            "actual",
            text_column(rows.clone().map(|r| r.actual.as_deref())),
        ),
        ("status", column(rows.map(|r| code(&Status::ALL, r.status)))),
        (
            "manifest_files",
            text_column(manifests.clone().map(|m| Some(m.file.as_str()))),
        ),
        (
            "manifest_algos",
            // R's name where rwbridge knows the algorithm.
            text_column(manifests.map(|m| Some(m.algo.map_or(m.algo_name.as_str(), |a| a.name())))),
        ),
        ("problem_code", codes(&check.problems)),
        ("problem_message", texts(&check.problems)),
        ("doubt_code", codes(&check.doubts)),
        ("doubt_message", texts(&check.doubts)),
        (
            "info_label",
            text_column(info.clone().map(|(l, _)| Some(l.as_str()))),
        ),
        (
            "info_value",
            text_column(info.map(|(_, v)| Some(v.as_str()))),
        ),
        ("version", scalar(&check.version)),
        ("encoding", scalar(&check.encoding)),
    ])
}

/// Makes a BagIt 1.0 bag of a directory, in place or, with `dest` (not
/// `NULL`), at a new place from a copy, less what `exclude_patterns`
/// matches; all or nothing. `hooks` (all 0 but in tests): the step to
/// fail, the step at which to pause until `pause_file` is removed, and
/// whether the restore fails too.
/// @noRd
#[extendr]
#[allow(clippy::too_many_arguments)]
fn write_bag_(
    dir: Robj,
    dest: Robj,
    algos: Strings,
    labels: Robj,
    values: Robj,
    threads: i32,
    progress: bool,
    hooks: Integers,
    pause_file: &str,
    exclude_patterns: Robj,
) -> Robj {
    guarded(|| {
        let exclude = exclude(&exclude_patterns)?;
        let algos = algos
            .iter()
            .map(|a| algo_named(a.as_ref()))
            .collect::<Result<Vec<Algo>, RwError>>()?;
        let dir = path(&dir, "dir")?;
        let labels = utf8_strings(&labels, "info")?;
        let values = utf8_strings(&values, "info")?;
        if algos.is_empty() || labels.len() != values.len() {
            return Err(unchecked("algo"));
        }
        let info: Vec<(String, String)> = labels.into_iter().zip(values).collect();
        let dest = if dest.is_null() {
            None
        } else {
            Some(path(&dest, "dest")?)
        };
        let hooks = test_hooks(&hooks, pause_file)?;
        let made = with_runtime(threads, progress.then_some("write_bag"), |rt, counters| {
            let req = Request {
                algos: &algos,
                info: &info,
                exclude: exclude.as_ref(),
                rt,
                progress: counters,
                hooks: &hooks,
            };
            match &dest {
                Some(dest) => make_bag_at(&dir, dest, &req),
                None => make_bag(&dir, &req),
            }
        })?;
        made_columns(&made)
    })
}

/// Rewrites a bag's manifests, Payload-Oxum and tag manifests for the
/// payload it holds now, less what `exclude_patterns` matches (relative to
/// data/); `hooks` and `pause_file` as for `write_bag_()`.
/// @noRd
#[extendr]
fn update_bag_(
    bag: Robj,
    exclude_patterns: Robj,
    threads: i32,
    progress: bool,
    hooks: Integers,
    pause_file: &str,
) -> Robj {
    guarded(|| {
        let bag = path(&bag, "bag")?;
        let exclude = exclude(&exclude_patterns)?;
        let hooks = test_hooks(&hooks, pause_file)?;
        let made = with_runtime(threads, progress.then_some("update_bag"), |rt, counters| {
            update_bag(&bag, exclude.as_ref(), rt, counters, &hooks)
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
