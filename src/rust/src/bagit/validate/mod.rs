//! Validates a bag: the declaration, the metadata, fetch.txt, every
//! payload and tag manifest, completeness both ways, Payload-Oxum, and
//! every checksum, each file read once for all the digests that name it.
//! Names are opened through [`Confined`], so nothing outside the bag is
//! ever read. Reads only: a bag is never changed by checking it. Returns
//! every finding rather than stopping at the first. Never touches R.

mod plan;
mod report;
mod tags;
#[cfg(test)]
mod tests;

pub use plan::{Digests, Job};
pub use report::{BagCheck, Code, Finding, ManifestInfo, Row};

use crate::bagit::archive::{Archive, Hashing, Kind};
use crate::bagit::make::journal::JOURNAL;
use crate::bagit::text::{PathCoding, Version};
use crate::errors::RwError;
use crate::hash::{digest, digest_bytes, with_buffer, HashFailure};
use crate::runtime::{Progress, Runtime};
use crate::status::Status;
use crate::tree::{name_to_path, Confined, Exclude};
use plan::RowPlan;
use report::Doubts;
use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::atomic::Ordering;
use tags::{Checker, Source};

/// Checks the bag at `bag`, a directory or a serialized bag (a `.zip`,
/// `.tar`, `.tar.gz` or `.tgz` file): everything with `fast = false`;
/// structure, completeness and Payload-Oxum only, hashing nothing, with
/// `fast`. Payload files that no manifest lists and that `exclude`
/// (relative to data/) leaves out are not part of the check. Fails only when `bag` is not a directory that can be listed
/// (nor an archive that can be read, holding one top directory), or when
/// cancelled.
pub fn check_bag(
    bag: &Path,
    fast: bool,
    exclude: Option<&Exclude>,
    rt: &Runtime,
    progress: Option<&Progress>,
) -> Result<BagCheck, RwError> {
    let meta = fs::metadata(bag).map_err(|e| RwError::io("open bag", bag, e))?;
    let pending = if meta.is_dir() {
        prepare(bag, fast, exclude)?
    } else {
        let kind = Kind::of(bag).ok_or_else(|| {
            RwError::io_reason(
                "open bag",
                bag,
                "neither a directory nor a serialized bag (.zip, .tar, .tar.gz, .tgz)",
            )
        })?;
        let archive = Archive::open(bag, kind, rt, fast)?;
        let mut outside = Vec::new();
        for name in &archive.outside {
            outside.push(Finding {
                code: Code::Outside,
                message: format!("archive member '{name}' leads outside the bag: not read"),
            });
        }
        let top = archive.top();
        let source = Source::Archive(Box::new(archive));
        let mut pending = prepare_from(bag, source, top, fast, exclude);
        pending.checker.out.problems.splice(0..0, outside);
        pending
    };
    let digests = pending.hash_here(rt, progress, |_| true)?;
    Ok(pending.finish(digests))
}

/// Everything a check finds before hashing: the bag read, listed and
/// matched against its manifests, with the files to hash as [`Job`]s.
/// [`Pending::finish`] turns their digests, computed here or on other
/// machines, into the result [`check_bag`] gives. `bag` is a directory.
pub fn prepare<'a>(
    bag: &'a Path,
    fast: bool,
    exclude: Option<&'a Exclude>,
) -> Result<Pending<'a>, RwError> {
    let meta = fs::metadata(bag).map_err(|e| RwError::io("open bag", bag, e))?;
    if !meta.is_dir() {
        return Err(RwError::io_reason("open bag", bag, "not a directory"));
    }
    let mut top: Vec<String> = Vec::new();
    for item in fs::read_dir(bag).map_err(|e| RwError::io("list", bag, e))? {
        let item = item.map_err(|e| RwError::io("list", bag, e))?;
        if let Ok(name) = item.file_name().into_string() {
            top.push(name);
        }
    }
    top.sort();
    let source = Source::Dir(Confined::new(bag, false)?);
    Ok(prepare_from(bag, source, top, fast, exclude))
}

/// [`prepare`] of a bag whose top directory holds `top` (sorted).
fn prepare_from<'a>(
    bag: &'a Path,
    source: Source<'a>,
    top: Vec<String>,
    fast: bool,
    exclude: Option<&'a Exclude>,
) -> Pending<'a> {
    let mut checker = Checker {
        source,
        bag,
        exclude,
        version: Version::V1_0,
        coding: PathCoding::Percent,
        out: BagCheck::default(),
        doubts: Doubts::default(),
        tag_bytes: HashMap::new(),
    };
    if top.iter().any(|name| name == JOURNAL) {
        checker.problem(
            Code::Interrupted,
            format!(
                "{JOURNAL} is there: a write_bag() or update_bag() on this directory was interrupted; run it again, which completes or rolls back what the journal names"
            ),
        );
    }
    let encoding = checker.declaration();
    checker.manifest_list(&top);
    let names_at = checker.doubts.len();
    let payload = checker.payload_files();
    let rows = match encoding {
        Some(encoding) => {
            let oxum = checker.metadata(encoding);
            let fetch = checker.fetch(encoding);
            let listed = checker.manifests(encoding);
            Some(checker.complete(listed, payload, fetch, oxum, fast, names_at))
        }
        // No tag file other than bagit.txt can be read: no rows.
        None => {
            if let Some(files) = &payload {
                checker.name_clashes(files, &vec![false; files.len()], names_at);
            }
            None
        }
    };
    Pending { checker, rows }
}

/// See [`prepare`].
pub struct Pending<'a> {
    checker: Checker<'a>,
    rows: Option<RowPlan>,
}

impl Pending<'_> {
    pub fn jobs(&self) -> &[Job] {
        self.rows.as_ref().map_or(&[], |r| &r.jobs)
    }

    /// Whether the job is a tag file already read, hashed from memory.
    pub fn in_memory(&self, job: &Job) -> bool {
        tag_file(&self.checker.tag_bytes, job).is_some()
    }

    /// The digests of the jobs `wanted` selects (by index), hashed here in
    /// parallel; `None` for the others.
    pub fn hash_here(
        &self,
        rt: &Runtime,
        progress: Option<&Progress>,
        wanted: impl Fn(usize) -> bool,
    ) -> Result<Vec<Option<Digests>>, RwError> {
        let todo: Vec<(usize, &Job)> = self
            .jobs()
            .iter()
            .enumerate()
            .filter(|(j, _)| wanted(*j))
            .collect();
        let mut digests = vec![None; self.jobs().len()];
        let checker = &self.checker;
        let jobs = todo.iter().map(|t| t.1);
        let found = match &checker.source {
            Source::Dir(confined) => hash_jobs(confined, &checker.tag_bytes, jobs, rt, progress)?,
            Source::Archive(archive) => {
                // Tag files from memory, the payload from the archive.
                let (tags, payload): (Vec<&Job>, Vec<&Job>) =
                    jobs.partition(|j| tag_file(&checker.tag_bytes, j).is_some());
                let hashing: Vec<Hashing> = payload
                    .iter()
                    .map(|j| Hashing {
                        path: &j.path,
                        size: j.size,
                        algos: &j.algos,
                    })
                    .collect();
                let mut from_archive = archive.hash(&hashing, rt, progress)?.into_iter();
                let mut from_memory = tags
                    .iter()
                    .map(|j| tag_file(&checker.tag_bytes, j).map(|b| digest_bytes(&j.algos, b)));
                todo.iter()
                    .map(|(_, j)| match tag_file(&checker.tag_bytes, j) {
                        Some(_) => from_memory.next().flatten().ok_or(Status::Unreadable),
                        None => from_archive.next().unwrap_or(Err(Status::Unreadable)),
                    })
                    .collect()
            }
        };
        for ((j, _), found) in todo.iter().zip(found) {
            digests[*j] = Some(found);
        }
        Ok(digests)
    }

    /// The digests of every job: from `parts` (each a job hashed
    /// elsewhere, with its digests, or `None` when its part failed) where
    /// they have it, else hashed here (the tag files, or files the bag did
    /// not have when the parts were planned).
    pub fn merge_parts(
        &self,
        parts: Vec<(Job, Option<Digests>)>,
        rt: &Runtime,
    ) -> Result<Vec<Option<Digests>>, RwError> {
        let found: HashMap<&[u8], &(Job, Option<Digests>)> =
            parts.iter().map(|p| (p.0.path.as_slice(), p)).collect();
        let given = |job: &Job| -> Option<Option<Digests>> {
            let (part_job, result) = found.get(job.path.as_slice())?;
            let at: Vec<usize> = job
                .algos
                .iter()
                .map(|a| part_job.algos.iter().position(|b| b == a))
                .collect::<Option<_>>()?;
            let reorder = |d: &Vec<String>| at.iter().map(|&k| d[k].clone()).collect();
            Some(
                result
                    .as_ref()
                    .map(|r| r.as_ref().map(reorder).map_err(|s| *s)),
            )
        };
        let given: Vec<_> = self.jobs().iter().map(given).collect();
        let here = self.hash_here(rt, None, |j| given[j].is_none())?;
        Ok(here
            .into_iter()
            .zip(given)
            .map(|(here, given)| given.unwrap_or(here))
            .collect())
    }

    /// The result, from the digest of each job; the rows of a job whose
    /// digest is `None` (its part failed elsewhere) are left out.
    pub fn finish(mut self, digests: Vec<Option<Digests>>) -> BagCheck {
        if let Some(plan) = self.rows.take() {
            self.checker.rows(&plan, &digests);
        }
        let mut out = self.checker.out;
        out.doubts = self.checker.doubts.render();
        out
    }
}

/// The digests of `jobs` (files of the bag at `bag`), hashed in parallel:
/// one part of a check whose jobs are shared out to other processes.
pub fn hash_part(
    bag: &Path,
    jobs: &[Job],
    rt: &Runtime,
    progress: Option<&Progress>,
) -> Result<Vec<Digests>, RwError> {
    hash_jobs(
        &Confined::new(bag, false)?,
        &HashMap::new(),
        jobs.iter(),
        rt,
        progress,
    )
}

/// The tag file a job names, when it was read already.
fn tag_file<'m>(tag_bytes: &'m HashMap<String, Vec<u8>>, job: &Job) -> Option<&'m Vec<u8>> {
    std::str::from_utf8(&job.path)
        .ok()
        .and_then(|p| tag_bytes.get(p))
}

/// The digests of `jobs`, files opened inside the bag only; tag files in
/// `tag_bytes` are hashed from memory.
fn hash_jobs<'j>(
    confined: &Confined,
    tag_bytes: &HashMap<String, Vec<u8>>,
    jobs: impl Iterator<Item = &'j Job>,
    rt: &Runtime,
    progress: Option<&Progress>,
) -> Result<Vec<Digests>, RwError> {
    let jobs: Vec<&Job> = jobs.collect();
    if let Some(progress) = progress {
        let bytes = jobs.iter().map(|j| j.size).sum();
        progress.start(jobs.len(), bytes);
    }
    rt.map(&jobs, |job, cancel| {
        let bytes_done = progress.map(|p| &p.bytes_done);
        let result = match tag_file(tag_bytes, job) {
            Some(bytes) => Ok(digest_bytes(&job.algos, bytes)),
            None => match confined.open(&name_to_path(&job.path)) {
                Ok(mut file) => {
                    with_buffer(|buf| digest(&mut file, &job.algos, buf, cancel, bytes_done))
                        .map_err(|failure| match failure {
                            // The caller sees the flag and discards all.
                            HashFailure::Cancelled | HashFailure::Unreadable(_) => {
                                Status::Unreadable
                            }
                        })
                }
                Err(status) => Err(status),
            },
        };
        if let Some(progress) = progress {
            progress.files_done.fetch_add(1, Ordering::Relaxed);
        }
        result
    })
}
