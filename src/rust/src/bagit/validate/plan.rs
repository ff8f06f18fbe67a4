//! What a check of a bag must hash, and the rows it fills: data/ listed,
//! completeness both ways, fetch.txt against the manifests, the
//! Payload-Oxum, each file to read once as a [`Job`] for every digest its
//! rows need, and the rows once the digests are in. Never touches R.

use super::report::{Code, Row};
use super::tags::{Checker, Fetch, Listed, Source, Target};
use crate::bagit::names::{bag_path, folded, is_system_file, nfc};
use crate::errors::{quoted, shown};
use crate::hash::Algo;
use crate::status::Status;
use crate::tree::slash_name;
use std::collections::{HashMap, HashSet};
use std::fs;

/// A file to hash, relative to the bag, with every digest its rows need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub path: Vec<u8>,
    /// From the listing of data/; 0 when not known.
    pub size: u64,
    pub algos: Vec<Algo>,
}

/// A file's digests, in the order of its job's `algos`, or why it could
/// not be read.
pub type Digests = Result<Vec<String>, Status>;

/// The rows waiting for digests.
pub(super) struct RowPlan {
    pub(super) listed: Vec<Listed>,
    pub(super) payload: Vec<PayloadFile>,
    /// For each manifest, the payload files it does not list.
    pub(super) unlisted: Vec<Vec<usize>>,
    /// The job whose digests each line needs.
    pub(super) row_jobs: Vec<Option<usize>>,
    /// The same for each manifest's unlisted files.
    pub(super) extra_jobs: Vec<Vec<Option<usize>>>,
    pub(super) jobs: Vec<Job>,
}

/// A file under data/ (any entry that is not a directory).
pub(super) struct PayloadFile {
    pub(super) name: String,
    pub(super) bytes: Vec<u8>,
    /// Its size, or why it cannot be read (a FIFO, a link leading outside).
    pub(super) state: Result<u64, Status>,
}

impl Checker<'_> {
    /// Lists data/: every entry that is not a directory is a payload file.
    /// `None` when there is no payload directory.
    pub(super) fn payload_files(&mut self) -> Option<Vec<PayloadFile>> {
        let files = match &self.source {
            Source::Dir(_) => self.dir_payload()?,
            Source::Archive(archive) => match archive.data_dir() {
                Ok(()) => {
                    let mut files = Vec::new();
                    for (name, link, state) in archive.payload() {
                        let left_out = self.left_out(name.as_bytes());
                        if link && state == Err(Status::Refused) && !left_out {
                            self.problem(
                                Code::Outside,
                                format!("{name} is a symbolic link that leads outside the bag"),
                            );
                        }
                        let bytes = name.as_bytes().to_vec();
                        files.push(PayloadFile { name, bytes, state });
                    }
                    files
                }
                Err(what) => {
                    self.no_payload_dir(what);
                    return None;
                }
            },
        };
        Some(files)
    }

    /// Whether `exclude` leaves out the payload file `bytes` (relative to
    /// the bag), were no manifest to list it.
    pub(super) fn left_out(&self, bytes: &[u8]) -> bool {
        self.exclude.is_some_and(|x| {
            bytes
                .strip_prefix(b"data/")
                .is_some_and(|name| x.excludes_name(name))
        })
    }

    fn no_payload_dir(&mut self, what: Option<&str>) {
        let message = match what {
            Some(what) => format!("the payload directory data/ is {what}"),
            None => "no payload directory data/".into(),
        };
        self.problem(Code::Structure, message);
    }

    /// data/ of a bag directory, listed.
    fn dir_payload(&mut self) -> Option<Vec<PayloadFile>> {
        let data = self.bag.join("data");
        match fs::symlink_metadata(&data) {
            Ok(m) if m.is_dir() => {}
            Ok(m) => {
                let what = if m.file_type().is_symlink() {
                    "a symbolic link"
                } else {
                    "not a directory"
                };
                self.no_payload_dir(Some(what));
                return None;
            }
            Err(_) => {
                self.no_payload_dir(None);
                return None;
            }
        }
        let mut files = Vec::new();
        let walk = walkdir::WalkDir::new(&data)
            .follow_links(false)
            .sort_by_file_name()
            .min_depth(1);
        for item in walk {
            let item = match item {
                Ok(item) => item,
                Err(e) => {
                    let at = e
                        .path()
                        .and_then(|p| p.strip_prefix(self.bag).ok())
                        .map_or_else(|| "data".into(), |p| p.display().to_string());
                    let reason = e
                        .io_error()
                        .map_or_else(|| "a file system loop".to_string(), |io| io.to_string());
                    self.problem(Code::Unreadable, format!("cannot list {at}: {reason}"));
                    continue;
                }
            };
            let kind = item.file_type();
            if kind.is_dir() {
                continue;
            }
            let relative = item.path().strip_prefix(self.bag).unwrap_or(item.path());
            let bytes = slash_name(relative);
            let name = shown_name(&bytes);
            let state = if kind.is_file() {
                item.metadata()
                    .map(|m| m.len())
                    .map_err(|_| Status::Unreadable)
            } else if kind.is_symlink() {
                let located = match &self.source {
                    Source::Dir(confined) => confined.size(relative),
                    Source::Archive(_) => self.source.locate(&name),
                };
                if located == Err(Status::Refused) && !self.left_out(&bytes) {
                    self.problem(
                        Code::Outside,
                        format!(
                            "{} is a symbolic link that leads outside the bag",
                            quoted(&bytes)
                        ),
                    );
                }
                located
            } else {
                Err(Status::Unreadable)
            };
            files.push(PayloadFile { name, bytes, state });
        }
        Some(files)
    }

    /// Payload files whose names differ only by case or normalisation (but
    /// for those left out), as doubts placed at `at`, where the listing
    /// found them.
    pub(super) fn name_clashes(&mut self, files: &[PayloadFile], out: &[bool], at: usize) {
        let mut by_key: HashMap<String, Vec<&str>> = HashMap::new();
        for (f, _) in files.iter().zip(out).filter(|(_, &out)| !out) {
            if std::str::from_utf8(&f.bytes).is_ok() {
                by_key.entry(folded(&f.name)).or_default().push(&f.name);
            }
        }
        let mut clashes: Vec<Vec<&str>> = by_key.into_values().filter(|v| v.len() > 1).collect();
        clashes.sort();
        for (k, names) in clashes.into_iter().enumerate() {
            let quoted: Vec<String> = names.iter().map(quoted).collect();
            self.doubts.insert(
                at + k,
                Code::Names,
                "data/",
                &format!(
                    "{} differ only by case or Unicode normalisation (one file on a Mac or Windows)",
                    quoted.join(" and ")
                ),
            );
        }
    }

    /// Completeness both ways, fetch.txt against the manifests and the
    /// Payload-Oxum; the rows to fill, with the files to hash for them
    /// (none with `fast`). Payload files that no payload manifest lists
    /// and that `exclude` leaves out are not part of the payload: not
    /// hashed, not reported, not counted. Doubts about names go at
    /// `names_at`, where the listing met them.
    pub(super) fn complete(
        &mut self,
        mut listed: Vec<Listed>,
        payload: Option<Vec<PayloadFile>>,
        fetch: Fetch,
        oxum: Vec<(u64, u64)>,
        fast: bool,
        names_at: usize,
    ) -> RowPlan {
        let have_payload = payload.is_some();
        let payload = payload.unwrap_or_default();
        let exact: HashMap<&str, usize> = payload
            .iter()
            .enumerate()
            .filter(|(_, f)| std::str::from_utf8(&f.bytes).is_ok())
            .map(|(i, f)| (f.name.as_str(), i))
            .collect();
        let mut by_nfc: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_folded: HashMap<String, Vec<usize>> = HashMap::new();
        for (name, &i) in &exact {
            by_nfc.entry(nfc(name)).or_default().push(i);
            by_folded.entry(folded(name)).or_default().push(i);
        }
        // The doubts about system files go here, before the loop's.
        let system_at = self.doubts.len();
        let manifests = self.out.manifests.clone();
        let payload_manifests: Vec<usize> = (0..manifests.len())
            .filter(|&m| !manifests[m].tag)
            .collect();
        // Where each line leads: a file of the listing, a file found by its
        // path, to be fetched, or nowhere.
        let mut listed_files: Vec<HashSet<usize>> = vec![HashSet::new(); manifests.len()];
        let mut listed_paths: Vec<HashSet<String>> = vec![HashSet::new(); manifests.len()];
        for entry in &mut listed {
            let Target::Path(path) = &entry.target else {
                continue;
            };
            let path = path.clone();
            let file = manifests[entry.manifest].file.as_str();
            // Looked up only for fetch.txt's paths.
            if fetch.paths.contains_key(&path) {
                listed_paths[entry.manifest].insert(path.clone());
            }
            if manifests[entry.manifest].tag {
                entry.target = match self.source.locate(&path) {
                    Ok(_) => Target::Path(path),
                    Err(status) => Target::Failed(status),
                };
                continue;
            }
            // A name found only after Unicode normalisation, or only when
            // case is ignored, is the file a Mac or Windows would open.
            let found = exact.get(path.as_str()).copied().or_else(|| {
                let (same, how) = match by_nfc.get(&nfc(&path)).filter(|v| v.len() == 1) {
                    Some(same) => (same, "after Unicode normalisation"),
                    None => (
                        by_folded.get(&folded(&path)).filter(|v| v.len() == 1)?,
                        "when case is ignored (one file on a case-insensitive file system)",
                    ),
                };
                self.doubts.add(
                    Code::Names,
                    file,
                    &format!(
                        "{} is {} in data/ only {how}",
                        quoted(&entry.written),
                        quoted(&payload[same[0]].name)
                    ),
                    Some(entry.line),
                );
                Some(same[0])
            });
            entry.target = match found {
                Some(i) => {
                    listed_files[entry.manifest].insert(i);
                    match payload[i].state {
                        Ok(_) => Target::Payload(i),
                        Err(status) => Target::Failed(status),
                    }
                }
                None if fetch.paths.contains_key(&path) => Target::Unfetched,
                // Not in the listing (beyond a link to a directory, or in a
                // directory that cannot be listed): found by its path.
                None => match self.source.locate(&path) {
                    Ok(_) => Target::Path(path),
                    Err(status) => Target::Failed(status),
                },
            };
        }
        // What no payload manifest lists and `exclude` leaves out is gone
        // from here on.
        let out: Vec<bool> = (0..payload.len())
            .map(|i| {
                self.exclude.is_some()
                    && !payload_manifests
                        .iter()
                        .any(|&m| listed_files[m].contains(&i))
                    && self.left_out(&payload[i].bytes)
            })
            .collect();
        let before = self.doubts.len();
        self.name_clashes(&payload, &out, names_at);
        let system_at = system_at + self.doubts.len() - before;
        let mut system: Vec<&str> = exact
            .iter()
            .filter(|(name, &i)| !out[i] && is_system_file(name))
            .map(|(name, _)| *name)
            .collect();
        if !system.is_empty() {
            system.sort_unstable();
            let what = format!(
                "files an operating system makes by itself: {}",
                system.join(", ")
            );
            self.doubts.insert(system_at, Code::System, "data/", &what);
        }
        // Listed files that an operating system makes, gone: copying tools
        // drop them (git, zip); a doubt, and the Oxum may count them.
        let mut gone_system: Vec<String> = listed
            .iter()
            .filter(|e| !manifests[e.manifest].tag && e.target == Target::Failed(Status::Missing))
            .filter_map(|e| bag_path(&e.written).ok())
            .map(|p| p.path)
            .filter(|p| is_system_file(p))
            .collect();
        gone_system.sort_unstable();
        gone_system.dedup();
        // Every payload file in every payload manifest (1.0), or in one
        // (before 1.0).
        let mut unlisted: Vec<Vec<usize>> = vec![Vec::new(); manifests.len()];
        for (i, f) in payload.iter().enumerate().filter(|(i, _)| !out[*i]) {
            let missing_from: Vec<usize> = payload_manifests
                .iter()
                .copied()
                .filter(|&m| !listed_files[m].contains(&i))
                .collect();
            if missing_from.is_empty() || payload_manifests.is_empty() {
                continue;
            }
            let listed_somewhere = missing_from.len() < payload_manifests.len();
            if listed_somewhere && !self.version.is_rfc() {
                self.doubts.add(
                    Code::Partial,
                    "data/",
                    "files listed in some payload manifests only (allowed before BagIt 1.0)",
                    None,
                );
                continue;
            }
            let names: Vec<&str> = missing_from
                .iter()
                .map(|&m| manifests[m].file.as_str())
                .collect();
            let message = if listed_somewhere {
                format!("{} is not listed in {}", shown(&f.bytes), names.join(", "))
            } else {
                format!("{} is in no payload manifest", shown(&f.bytes))
            };
            self.problem(Code::Unlisted, message);
            for m in missing_from {
                unlisted[m].push(i);
            }
        }
        // Every fetched file in every payload manifest.
        let mut fetch_lines: Vec<(&String, &(usize, Option<u64>))> = fetch.paths.iter().collect();
        fetch_lines.sort_by_key(|(_, (line, _))| *line);
        for (path, (line, _)) in &fetch_lines {
            for &m in &payload_manifests {
                if !listed_paths[m].contains(*path) {
                    let message = format!(
                        "fetch.txt line {line}: {} is not listed in {}",
                        quoted(path),
                        manifests[m].file
                    );
                    self.problem(Code::Fetch, message);
                }
            }
        }
        if have_payload {
            let gone = gone_system.len() as u64;
            let counted: Vec<&PayloadFile> = payload
                .iter()
                .zip(&out)
                .filter(|(_, &out)| !out)
                .map(|(f, _)| f)
                .collect();
            self.check_oxum(&oxum, &counted, &fetch_lines, &exact, &by_nfc, gone);
        }
        // The digests every file needs, each file read once.
        let mut jobs: Vec<Job> = Vec::new();
        let mut job_of: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut need = |bytes: &[u8], size: u64, algo: Option<Algo>| -> Option<usize> {
            let algo = algo?;
            let j = *job_of.entry(bytes.to_vec()).or_insert_with(|| {
                jobs.push(Job {
                    path: bytes.to_vec(),
                    size,
                    algos: Vec::new(),
                });
                jobs.len() - 1
            });
            if !jobs[j].algos.contains(&algo) {
                jobs[j].algos.push(algo);
            }
            Some(j)
        };
        let mut row_jobs: Vec<Option<usize>> = Vec::with_capacity(listed.len());
        for entry in &listed {
            let algo = manifests[entry.manifest].algo.filter(|_| !fast);
            row_jobs.push(match &entry.target {
                Target::Payload(i) => {
                    let size = payload[*i].state.unwrap_or(0);
                    need(&payload[*i].bytes, size, algo)
                }
                Target::Path(path) => need(path.as_bytes(), 0, algo),
                _ => None,
            });
        }
        let mut extra_jobs: Vec<Vec<Option<usize>>> = Vec::with_capacity(manifests.len());
        for (m, files) in unlisted.iter().enumerate() {
            let algo = manifests[m].algo.filter(|_| !fast);
            extra_jobs.push(
                files
                    .iter()
                    .map(|&i| match payload[i].state {
                        Ok(size) => need(&payload[i].bytes, size, algo),
                        Err(_) => None,
                    })
                    .collect(),
            );
        }
        RowPlan {
            listed,
            payload,
            unlisted,
            row_jobs,
            extra_jobs,
            jobs,
        }
    }

    /// The rows: each manifest's lines, then the payload files it misses,
    /// with a problem for each that is not as listed. The rows of a job
    /// without digests are left out.
    pub(super) fn rows(&mut self, plan: &RowPlan, digests: &[Option<Digests>]) {
        let dropped = |job: Option<usize>| job.is_some_and(|j| digests[j].is_none());
        let digest_of =
            |job: Option<usize>, algo: Option<Algo>| -> Option<Result<String, Status>> {
                let j = job?;
                let algo = algo?;
                let k = plan.jobs[j].algos.iter().position(|&a| a == algo)?;
                let found = digests[j].as_ref()?;
                Some(found.as_ref().map(|d| d[k].clone()).map_err(|s| *s))
            };
        let manifests = self.out.manifests.clone();
        let mut rows = Vec::with_capacity(plan.listed.len());
        for (m, info) in manifests.iter().enumerate() {
            for (entry, job) in plan
                .listed
                .iter()
                .zip(&plan.row_jobs)
                .filter(|(e, j)| e.manifest == m && !dropped(**j))
            {
                let place = format!("{} line {}", info.file, entry.line);
                let (status, actual) = match &entry.target {
                    Target::Refused => (Status::Refused, None),
                    Target::Unfetched => (Status::Unfetched, None),
                    Target::Failed(status) => (*status, None),
                    Target::Payload(_) | Target::Path(_) => match digest_of(*job, info.algo) {
                        None => (Status::Present, None),
                        Some(Err(status)) => (status, None),
                        Some(Ok(actual)) if actual == entry.digest => (Status::Ok, Some(actual)),
                        Some(Ok(actual)) => (Status::Mismatch, Some(actual)),
                    },
                };
                let file = &entry.written;
                match status {
                    Status::Missing if !info.tag && is_system_file(file) => self.doubts.add(
                        Code::System,
                        &info.file,
                        "files an operating system makes by itself are listed but gone (copying tools drop them)",
                        Some(entry.line),
                    ),
                    Status::Missing => {
                        self.problem(Code::Missing, format!("{place}: {} is missing", quoted(file)))
                    }
                    Status::Unreadable => self.problem(
                        Code::Unreadable,
                        format!(
                            "{place}: {} is not a regular file, or cannot be read",
                            quoted(file)
                        ),
                    ),
                    Status::Refused if entry.target != Target::Refused => self.problem(
                        Code::Outside,
                        format!(
                            "{place}: {} leads outside the bag through a symbolic link",
                            quoted(file)
                        ),
                    ),
                    Status::Mismatch => self.problem(
                        Code::Mismatch,
                        format!(
                            "{place}: {} does not have the {} checksum listed",
                            quoted(file),
                            info.algo_name
                        ),
                    ),
                    _ => {}
                }
                rows.push(Row {
                    manifest: m,
                    line: Some(entry.line),
                    file: entry.written.clone().into_bytes(),
                    expected: Some(entry.digest.clone()),
                    actual,
                    status,
                });
            }
            for (&i, &job) in plan.unlisted[m].iter().zip(&plan.extra_jobs[m]) {
                if dropped(job) {
                    continue;
                }
                let actual = digest_of(job, info.algo).and_then(Result::ok);
                rows.push(Row {
                    manifest: m,
                    line: None,
                    file: plan.payload[i].bytes.clone(),
                    expected: None,
                    actual,
                    status: Status::Extra,
                });
            }
        }
        self.out.rows = rows;
    }

    fn check_oxum(
        &mut self,
        oxum: &[(u64, u64)],
        payload: &[&PayloadFile],
        fetch_lines: &[(&String, &(usize, Option<u64>))],
        exact: &HashMap<&str, usize>,
        by_nfc: &HashMap<String, Vec<usize>>,
        gone_system: u64,
    ) {
        if oxum.is_empty() {
            return;
        }
        let mut octets: Option<u64> = Some(payload.iter().map(|f| f.state.unwrap_or(0)).sum());
        let mut streams = payload.len() as u64;
        // Files still to fetch are part of the payload the Oxum counts.
        let mut to_fetch = 0u64;
        for (path, (_, length)) in fetch_lines {
            if exact.contains_key(path.as_str()) || by_nfc.contains_key(&nfc(path)) {
                continue;
            }
            to_fetch += 1;
            streams += 1;
            octets = octets.zip(*length).map(|(a, b)| a.saturating_add(b));
        }
        for &(want_octets, want_streams) in oxum {
            let octets_ok = octets.map_or(true, |o| o == want_octets);
            if octets_ok && streams == want_streams {
                continue;
            }
            // The Oxum may count system files that are gone (of any size).
            let without_gone = octets.map_or(true, |o| o <= want_octets);
            if gone_system > 0 && without_gone && streams + gone_system == want_streams {
                continue;
            }
            let found = match octets {
                Some(o) => format!("{o} octets in {streams} files"),
                None => format!("{streams} files"),
            };
            let fetched = if to_fetch > 0 {
                format!(" (counting {to_fetch} still to fetch)")
            } else {
                String::new()
            };
            self.problem(
                Code::Oxum,
                format!(
                    "Payload-Oxum says {want_octets} octets in {want_streams} files; the payload has {found}{fetched}"
                ),
            );
        }
    }
}

/// A payload file's name as the findings name it: itself when it is
/// UTF-8 (and short), else with its other bytes written `\xNN`.
fn shown_name(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(name) => name.to_string(),
        Err(_) => shown(bytes),
    }
}
