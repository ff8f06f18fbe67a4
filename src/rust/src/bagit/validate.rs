//! Validates a bag: the declaration, the metadata, fetch.txt, every
//! payload and tag manifest, completeness both ways, Payload-Oxum, and
//! every checksum, each file read once for all the digests that name it.
//! Names are opened through [`Confined`], so nothing outside the bag is
//! ever read. Reads only: a bag is never changed by checking it. Returns
//! every finding rather than stopping at the first. Never touches R.

use super::manifest_kind;
use super::names::{bag_path, folded, in_payload, nfc, Outside};
use super::text::{
    lines, parse_fetch, parse_manifest, parse_metadata, parse_oxum, strip_bom, tag_line, Encoding,
    LineFault, PathCoding, TagForm, Version,
};
use crate::errors::RwError;
use crate::hash::{digest, digest_bytes, with_buffer, Algo, HashFailure};
use crate::runtime::{Progress, Runtime};
use crate::status::Status;
use crate::tree::{name_to_path, slash_name, Confined};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;
use std::sync::atomic::Ordering;

/// The kind of a finding: the `code` column of `problems` and `doubts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    // Problems: each makes the bag not valid.
    Declaration,
    Version,
    Encoding,
    Structure,
    Manifest,
    Algorithm,
    Outside,
    Duplicate,
    BagInfo,
    Fetch,
    Oxum,
    Missing,
    Unlisted,
    Unreadable,
    Mismatch,
    // Doubts only: valid, but worth a look.
    DotSlash,
    Star,
    Roundabout,
    Names,
    Blank,
    Comment,
    Bom,
    Partial,
}

impl Code {
    pub fn name(self) -> &'static str {
        match self {
            Code::Declaration => "declaration",
            Code::Version => "version",
            Code::Encoding => "encoding",
            Code::Structure => "structure",
            Code::Manifest => "manifest",
            Code::Algorithm => "algorithm",
            Code::Outside => "outside",
            Code::Duplicate => "duplicate",
            Code::BagInfo => "bag_info",
            Code::Fetch => "fetch",
            Code::Oxum => "oxum",
            Code::Missing => "missing",
            Code::Unlisted => "unlisted",
            Code::Unreadable => "unreadable",
            Code::Mismatch => "mismatch",
            Code::DotSlash => "dot_slash",
            Code::Star => "star",
            Code::Roundabout => "roundabout",
            Code::Names => "names",
            Code::Blank => "blank_line",
            Code::Comment => "comment",
            Code::Bom => "bom",
            Code::Partial => "partial",
        }
    }
}

/// One reason the bag is not valid, or one doubtful thing in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    pub message: String,
}

/// A manifest of the bag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestInfo {
    /// Its name, `manifest-sha256.txt`.
    pub file: String,
    /// The algorithm its name gives, known to rwbridge or not.
    pub algo_name: String,
    pub algo: Option<Algo>,
    pub tag: bool,
}

/// One row of the result: a manifest line, or a payload file a payload
/// manifest does not list (`line` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Index into [`BagCheck::manifests`].
    pub manifest: usize,
    pub line: Option<usize>,
    /// The path as listed (decoded), or the unlisted file's name.
    pub file: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub status: Status,
}

/// Everything a check of a bag found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BagCheck {
    /// As declared in bagit.txt.
    pub version: Option<String>,
    pub encoding: Option<String>,
    pub manifests: Vec<ManifestInfo>,
    pub rows: Vec<Row>,
    /// Each a reason the bag is not valid; none for a valid bag.
    pub problems: Vec<Finding>,
    /// Valid but doubtful.
    pub doubts: Vec<Finding>,
    /// The metadata file's fields in file order.
    pub info: Vec<(String, String)>,
}

/// Checks the bag at `bag`: everything with `fast = false`; structure,
/// completeness and Payload-Oxum only, hashing nothing, with `fast`. Fails
/// only when `bag` is not a directory that can be listed, or when cancelled.
pub fn check_bag(
    bag: &Path,
    fast: bool,
    rt: &Runtime,
    progress: Option<&Progress>,
) -> Result<BagCheck, RwError> {
    let pending = prepare(bag, fast)?;
    let digests = pending.hash_here(rt, progress, |_| true)?;
    Ok(pending.finish(digests))
}

/// Everything a check finds before hashing: the bag read, listed and
/// matched against its manifests, with the files to hash as [`Job`]s.
/// [`Pending::finish`] turns their digests, computed here or on other
/// machines, into the result [`check_bag`] gives.
pub fn prepare(bag: &Path, fast: bool) -> Result<Pending<'_>, RwError> {
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
    let mut checker = Checker {
        confined: Confined::resolved(bag)?,
        bag,
        version: Version::V1_0,
        coding: PathCoding::Percent,
        out: BagCheck::default(),
        doubts: Doubts::default(),
        tag_bytes: HashMap::new(),
    };
    let encoding = checker.declaration();
    checker.manifest_list(&top);
    let payload = checker.payload_files();
    let rows = match encoding {
        Some(encoding) => {
            let oxum = checker.metadata(encoding);
            let fetch = checker.fetch(encoding);
            let listed = checker.manifests(encoding);
            Some(checker.complete(listed, payload, fetch, oxum, fast))
        }
        // No tag file other than bagit.txt can be read: no rows.
        None => None,
    };
    Ok(Pending { checker, rows })
}

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

/// See [`prepare`].
pub struct Pending<'a> {
    checker: Checker<'a>,
    rows: Option<RowPlan>,
}

/// The rows waiting for digests.
struct RowPlan {
    listed: Vec<Listed>,
    payload: Vec<PayloadFile>,
    /// For each manifest, the payload files it does not list.
    unlisted: Vec<Vec<usize>>,
    /// The job whose digests each line needs.
    row_jobs: Vec<Option<usize>>,
    /// The same for each manifest's unlisted files.
    extra_jobs: Vec<Vec<Option<usize>>>,
    jobs: Vec<Job>,
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
        let found = hash_jobs(&checker.confined, &checker.tag_bytes, jobs, rt, progress)?;
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
        &Confined::resolved(bag)?,
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

struct Checker<'a> {
    bag: &'a Path,
    confined: Confined<'a>,
    /// The rules in force: the declared version's, else 1.0's.
    version: Version,
    coding: PathCoding,
    out: BagCheck,
    doubts: Doubts,
    /// The tag files read so far, by name: hashed from memory, never re-read.
    tag_bytes: HashMap<String, Vec<u8>>,
}

/// A file under data/ (any entry that is not a directory).
struct PayloadFile {
    name: String,
    bytes: Vec<u8>,
    /// Its size, or why it cannot be read (a FIFO, a link leading outside).
    state: Result<u64, Status>,
}

/// What a manifest line leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// Outside the bag, or outside (inside) data/ for a payload (tag)
    /// manifest: never read; the problem is already reported.
    Refused,
    /// A file of the data/ listing.
    Payload(usize),
    /// A file found by its path alone (a tag file, or a payload file the
    /// listing did not show).
    Path(String),
    Unfetched,
    Failed(Status),
}

struct Listed {
    manifest: usize,
    line: usize,
    written: String,
    digest: String,
    target: Target,
}

struct Fetch {
    /// Normalised path to (line, length) of every usable fetch line.
    paths: HashMap<String, (usize, Option<u64>)>,
}

impl Checker<'_> {
    fn problem(&mut self, code: Code, message: String) {
        self.out.problems.push(Finding { code, message });
    }

    /// Reads the tag file `name` at the bag's top into `tag_bytes`:
    /// `Ok(false)` when it is absent, `Err(())` when it is there but cannot
    /// be read (reported as a problem).
    fn read_tag(&mut self, name: &str) -> Result<bool, ()> {
        let failure = match self.confined.open(Path::new(name)) {
            Ok(file) => match file.read_all() {
                Ok(bytes) => {
                    self.tag_bytes.insert(name.to_string(), bytes);
                    return Ok(true);
                }
                Err(e) => (
                    Code::Unreadable,
                    format!("cannot read {name}: {}", e.reason()),
                ),
            },
            Err(Status::Missing) => return Ok(false),
            Err(Status::Refused) => (
                Code::Outside,
                format!("{name} is a symbolic link that leads outside the bag"),
            ),
            Err(_) => (
                Code::Unreadable,
                format!("{name} is not a regular file, or cannot be read"),
            ),
        };
        self.problem(failure.0, failure.1);
        Err(())
    }

    /// The text of the tag file `name` in the declared encoding, without a
    /// byte-order mark; `None` when it is absent, cannot be read or is not
    /// text in that encoding (a problem, then).
    fn tag_text(&mut self, name: &str, encoding: Encoding) -> Option<String> {
        if self.read_tag(name) != Ok(true) {
            return None;
        }
        match encoding.decode(&self.tag_bytes[name]) {
            Ok(mut text) => {
                let bom = text.len() - strip_bom(&text).0.len();
                if bom > 0 {
                    text.drain(..bom);
                    self.doubts
                        .add(Code::Bom, name, "starts with a byte-order mark", None);
                }
                Some(text)
            }
            Err(e) => {
                self.problem(
                    Code::Encoding,
                    format!(
                        "{name} is not {} text: byte offset {} is not valid",
                        encoding_name(encoding),
                        e.offset
                    ),
                );
                None
            }
        }
    }

    /// Reads bagit.txt; sets the rules in force; the encoding of the other
    /// tag files, `None` when they cannot be read.
    fn declaration(&mut self) -> Option<Encoding> {
        match self.read_tag("bagit.txt") {
            Ok(true) => {}
            Ok(false) => {
                self.problem(
                    Code::Declaration,
                    "no bagit.txt: the bag declaration is missing".into(),
                );
                return Some(Encoding::Utf8);
            }
            Err(()) => return Some(Encoding::Utf8),
        }
        let decl = parse_declaration(&self.tag_bytes["bagit.txt"], &mut self.out.problems);
        self.out.version = decl.version_text;
        self.out.encoding = decl.encoding_text.clone();
        if let Some(version) = decl.version.filter(|v| v.is_known()) {
            self.version = version;
            self.coding = PathCoding::of(version);
        }
        match (decl.encoding, decl.encoding_text) {
            (Some(encoding), _) => Some(encoding),
            // Named but not readable here: the other tag files are not read.
            (None, Some(_)) => None,
            (None, None) => Some(Encoding::Utf8),
        }
    }

    /// Finds the manifests in the bag's top directory.
    fn manifest_list(&mut self, top: &[String]) {
        let mut payload = Vec::new();
        let mut tags = Vec::new();
        for name in top {
            if let Some((tag, algo_name)) = manifest_kind(name) {
                let info = ManifestInfo {
                    file: name.clone(),
                    algo_name: algo_name.to_string(),
                    algo: Algo::from_name(algo_name),
                    tag,
                };
                if tag {
                    tags.push(info);
                } else {
                    payload.push(info);
                }
            }
        }
        if payload.is_empty() {
            self.problem(
                Code::Structure,
                "no payload manifest (manifest-<algorithm>.txt)".into(),
            );
        }
        for m in payload.iter().chain(&tags) {
            if m.algo.is_none() {
                let known: Vec<&str> = Algo::ALL.iter().map(|a| a.name()).collect();
                self.problem(
                    Code::Algorithm,
                    format!(
                        "{}: rwbridge does not compute '{}' (it computes {}), so its checksums were not checked",
                        m.file,
                        m.algo_name,
                        known.join(", ")
                    ),
                );
            }
        }
        self.out.manifests = payload.into_iter().chain(tags).collect();
    }

    /// Lists data/: every entry that is not a directory is a payload file.
    /// `None` when there is no payload directory.
    fn payload_files(&mut self) -> Option<Vec<PayloadFile>> {
        let data = self.bag.join("data");
        match fs::symlink_metadata(&data) {
            Ok(m) if m.is_dir() => {}
            Ok(m) => {
                let what = if m.file_type().is_symlink() {
                    "a symbolic link"
                } else {
                    "not a directory"
                };
                self.problem(
                    Code::Structure,
                    format!("the payload directory data/ is {what}"),
                );
                return None;
            }
            Err(_) => {
                self.problem(Code::Structure, "no payload directory data/".into());
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
            let name = String::from_utf8_lossy(&bytes).into_owned();
            let state = if kind.is_file() {
                item.metadata()
                    .map(|m| m.len())
                    .map_err(|_| Status::Unreadable)
            } else if kind.is_symlink() {
                let located = self.confined.locate(relative).map(|(_, size)| size);
                if located == Err(Status::Refused) {
                    self.problem(
                        Code::Outside,
                        format!("{name} is a symbolic link that leads outside the bag"),
                    );
                }
                located
            } else {
                Err(Status::Unreadable)
            };
            files.push(PayloadFile { name, bytes, state });
        }
        let mut by_key: HashMap<String, Vec<&str>> = HashMap::new();
        for f in &files {
            if std::str::from_utf8(&f.bytes).is_ok() {
                by_key.entry(folded(&f.name)).or_default().push(&f.name);
            }
        }
        let mut clashes: Vec<Vec<&str>> = by_key.into_values().filter(|v| v.len() > 1).collect();
        clashes.sort();
        for names in clashes {
            let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
            self.doubts.add(
                Code::Names,
                "data/",
                &format!(
                    "{} differ only by case or Unicode normalisation (one file on a Mac or Windows)",
                    quoted.join(" and ")
                ),
                None,
            );
        }
        Some(files)
    }

    /// Reads the metadata file; its Payload-Oxum values.
    fn metadata(&mut self, encoding: Encoding) -> Vec<(u64, u64)> {
        let name = self.version.info_file();
        let Some(text) = self.tag_text(name, encoding) else {
            return Vec::new();
        };
        let meta = parse_metadata(&text);
        for (n, line) in &meta.bad {
            self.problem(
                Code::BagInfo,
                format!("{name} line {n} is not `Label: value`: '{line}'"),
            );
        }
        for (n, form) in &meta.loose {
            if *form == TagForm::Loose && self.version.is_rfc() {
                self.problem(
                    Code::BagInfo,
                    format!(
                        "{name} line {n} is not in the form `Label: value` (no blank before the colon, one after it)"
                    ),
                );
            } else {
                self.doubts
                    .add(Code::BagInfo, name, "blanks around a colon", Some(*n));
            }
        }
        for &n in &meta.blank_lines {
            self.doubts.add(Code::Blank, name, "blank lines", Some(n));
        }
        for once in [
            "Bagging-Date",
            "Bag-Size",
            "Payload-Oxum",
            "Bag-Group-Identifier",
            "Bag-Count",
        ] {
            let count = meta
                .fields
                .iter()
                .filter(|(l, _)| l.eq_ignore_ascii_case(once))
                .count();
            if count > 1 {
                self.doubts.add(
                    Code::BagInfo,
                    name,
                    &format!("{once} appears {count} times; RFC 8493 says it should appear once"),
                    None,
                );
            }
        }
        let mut oxum = Vec::new();
        for (label, value) in &meta.fields {
            if !label.eq_ignore_ascii_case("Payload-Oxum") {
                continue;
            }
            match parse_oxum(value) {
                Some(pair) => oxum.push(pair),
                None => self.problem(
                    Code::Oxum,
                    format!("Payload-Oxum '{value}' is not OctetCount.StreamCount"),
                ),
            }
        }
        self.out.info = meta.fields;
        oxum
    }

    fn fetch(&mut self, encoding: Encoding) -> Fetch {
        let mut fetch = Fetch {
            paths: HashMap::new(),
        };
        let Some(text) = self.tag_text("fetch.txt", encoding) else {
            return fetch;
        };
        let parsed = parse_fetch(&text, self.coding);
        for (n, line, why) in &parsed.faults {
            self.problem(Code::Fetch, format!("fetch.txt line {n}: {why}: '{line}'"));
        }
        for &n in &parsed.blank_lines {
            self.doubts
                .add(Code::Blank, "fetch.txt", "blank lines", Some(n));
        }
        for line in parsed.lines {
            match bag_path(&line.path) {
                Ok(p) if in_payload(&p.path) => {
                    fetch.paths.insert(p.path, (line.line, line.length));
                }
                Ok(_) => self.problem(
                    Code::Fetch,
                    format!(
                        "fetch.txt line {}: '{}' is not in data/ (fetch.txt lists payload files only)",
                        line.line, line.path
                    ),
                ),
                Err(_) => self.problem(
                    Code::Outside,
                    format!(
                        "fetch.txt line {}: '{}' leads outside the bag",
                        line.line, line.path
                    ),
                ),
            }
        }
        fetch
    }

    /// Reads and parses every manifest: its lines, with where each leads
    /// settled as far as the names go.
    fn manifests(&mut self, encoding: Encoding) -> Vec<Listed> {
        let mut listed = Vec::new();
        let rfc = self.version.is_rfc();
        for m in 0..self.out.manifests.len() {
            let info = self.out.manifests[m].clone();
            let file = info.file.as_str();
            let Some(text) = self.tag_text(file, encoding) else {
                continue;
            };
            let parsed = parse_manifest(&text, info.algo, self.coding);
            for (n, line, fault) in &parsed.faults {
                let why = match fault {
                    LineFault::Grammar => "is not `checksum filepath`".to_string(),
                    LineFault::Length { got, want } => format!(
                        "has a checksum of {got} hex digits; {} has {want}",
                        info.algo_name
                    ),
                    LineFault::Percent => {
                        "has a `%` that is not %0A, %0D or %25 (RFC 8493 percent-encoding)".into()
                    }
                };
                self.problem(Code::Manifest, format!("{file} line {n} {why}: '{line}'"));
            }
            for &n in &parsed.blank_lines {
                self.doubts.add(Code::Blank, file, "blank lines", Some(n));
            }
            for &n in &parsed.comment_lines {
                self.doubts.add(
                    Code::Comment,
                    file,
                    "comment lines (bagit-python skips them; RFC 8493 has none)",
                    Some(n),
                );
            }
            let mut seen: HashMap<String, (usize, String)> = HashMap::new();
            for line in parsed.lines {
                let n = line.line;
                if line.star {
                    self.doubts.add(
                        Code::Star,
                        file,
                        "a `*` (binary-mode marker) before the path, taken as no part of it",
                        Some(n),
                    );
                }
                let target = match bag_path(&line.path) {
                    Err(why) => {
                        let how = match why {
                            Outside::Absolute => "is absolute",
                            Outside::Escapes => "leads outside the bag",
                            Outside::Empty => "names no file",
                        };
                        self.problem(
                            Code::Outside,
                            format!("{file} line {n}: '{}' {how}", line.path),
                        );
                        Target::Refused
                    }
                    Ok(p) => {
                        if p.dot_slash {
                            self.doubts.add(
                                Code::DotSlash,
                                file,
                                "paths starting with './'",
                                Some(n),
                            );
                        }
                        if p.roundabout {
                            self.doubts.add(
                                Code::Roundabout,
                                file,
                                "paths with '//', '/./', '..' or a final '/'",
                                Some(n),
                            );
                        }
                        let payload = in_payload(&p.path);
                        if payload == info.tag {
                            let why = if info.tag {
                                "is a payload file; a tag manifest lists tag files only"
                            } else {
                                "is not in data/; a payload manifest lists payload files only"
                            };
                            self.problem(
                                Code::Outside,
                                format!("{file} line {n}: '{}' {why}", line.path),
                            );
                            Target::Refused
                        } else {
                            match seen.get(&p.path) {
                                Some((_, digest)) if *digest == line.digest && !rfc => {
                                    self.doubts.add(
                                        Code::Duplicate,
                                        file,
                                        "paths listed again with the same checksum (allowed before BagIt 1.0)",
                                        Some(n),
                                    );
                                }
                                Some((first, digest)) => {
                                    let how = if *digest == line.digest {
                                        "again (BagIt 1.0 lists each file once)"
                                    } else {
                                        "again with another checksum"
                                    };
                                    let message = format!(
                                        "{file} line {n}: '{}' is listed on line {first} and {how}",
                                        line.path
                                    );
                                    self.problem(Code::Duplicate, message);
                                }
                                None => {
                                    seen.insert(p.path.clone(), (n, line.digest.clone()));
                                }
                            }
                            Target::Path(p.path)
                        }
                    }
                };
                listed.push(Listed {
                    manifest: m,
                    line: n,
                    written: line.path,
                    digest: line.digest,
                    target,
                });
            }
        }
        listed
    }

    /// Completeness both ways, fetch.txt against the manifests and the
    /// Payload-Oxum; the rows to fill, with the files to hash for them
    /// (none with `fast`).
    fn complete(
        &mut self,
        mut listed: Vec<Listed>,
        payload: Option<Vec<PayloadFile>>,
        fetch: Fetch,
        oxum: Vec<(u64, u64)>,
        fast: bool,
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
        for (name, &i) in &exact {
            by_nfc.entry(nfc(name)).or_default().push(i);
        }
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
                entry.target = match self.confined.locate(&name_to_path(path.as_bytes())) {
                    Ok(_) => Target::Path(path),
                    Err(status) => Target::Failed(status),
                };
                continue;
            }
            let found = exact.get(path.as_str()).copied().or_else(|| {
                let same = by_nfc.get(&nfc(&path)).filter(|v| v.len() == 1)?;
                self.doubts.add(
                    Code::Names,
                    file,
                    &format!(
                        "'{}' is '{}' in data/ only after Unicode normalisation",
                        entry.written, payload[same[0]].name
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
                None => match self.confined.locate(&name_to_path(path.as_bytes())) {
                    Ok(_) => Target::Path(path),
                    Err(status) => Target::Failed(status),
                },
            };
        }
        // Every payload file in every payload manifest (1.0), or in one
        // (before 1.0).
        let mut unlisted: Vec<Vec<usize>> = vec![Vec::new(); manifests.len()];
        for (i, f) in payload.iter().enumerate() {
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
                format!("{} is not listed in {}", f.name, names.join(", "))
            } else {
                format!("{} is in no payload manifest", f.name)
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
                        "fetch.txt line {line}: '{path}' is not listed in {}",
                        manifests[m].file
                    );
                    self.problem(Code::Fetch, message);
                }
            }
        }
        if have_payload {
            self.check_oxum(&oxum, &payload, &fetch_lines, &exact, &by_nfc);
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
    fn rows(&mut self, plan: &RowPlan, digests: &[Option<Digests>]) {
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
                    Status::Missing => {
                        self.problem(Code::Missing, format!("{place}: '{file}' is missing"))
                    }
                    Status::Unreadable => self.problem(
                        Code::Unreadable,
                        format!("{place}: '{file}' is not a regular file, or cannot be read"),
                    ),
                    Status::Refused if entry.target != Target::Refused => self.problem(
                        Code::Outside,
                        format!("{place}: '{file}' leads outside the bag through a symbolic link"),
                    ),
                    Status::Mismatch => self.problem(
                        Code::Mismatch,
                        format!(
                            "{place}: '{file}' does not have the {} checksum listed",
                            info.algo_name
                        ),
                    ),
                    _ => {}
                }
                rows.push(Row {
                    manifest: m,
                    line: Some(entry.line),
                    file: entry.written.clone(),
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
                    file: plan.payload[i].name.clone(),
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
        payload: &[PayloadFile],
        fetch_lines: &[(&String, &(usize, Option<u64>))],
        exact: &HashMap<&str, usize>,
        by_nfc: &HashMap<String, Vec<usize>>,
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

/// What bagit.txt declares.
#[derive(Debug, Default, PartialEq, Eq)]
struct Declaration {
    version: Option<Version>,
    version_text: Option<String>,
    encoding: Option<Encoding>,
    encoding_text: Option<String>,
}

const VERSION_LABEL: &str = "BagIt-Version";
const ENCODING_LABEL: &str = "Tag-File-Character-Encoding";

/// Parses bagit.txt, adding every way it breaks RFC 8493 (or, for an
/// older version, that version's looser form) to `problems`.
fn parse_declaration(bytes: &[u8], problems: &mut Vec<Finding>) -> Declaration {
    let mut decl = Declaration::default();
    let mut problem = |code: Code, message: String| problems.push(Finding { code, message });
    let (bytes, bom) = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => (rest, 3),
        None => (bytes, 0),
    };
    if bom > 0 {
        problem(
            Code::Declaration,
            "bagit.txt starts with a byte-order mark, which the bag declaration must not have"
                .into(),
        );
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            problem(
                Code::Encoding,
                format!(
                    "bagit.txt is not UTF-8: byte offset {} is not valid",
                    e.valid_up_to() + bom
                ),
            );
            return decl;
        }
    };
    let lines = lines(text);
    let tags: Vec<(usize, &str, Option<super::text::TagLine>)> =
        lines.iter().map(|&(n, l)| (n, l, tag_line(l))).collect();
    let find = |label: &str| {
        tags.iter()
            .find(|(_, _, t)| t.as_ref().is_some_and(|t| t.label == label))
            .map(|(n, _, t)| (*n, t.as_ref().map(|t| t.value).unwrap_or_default()))
    };
    let version = find(VERSION_LABEL);
    let encoding = find(ENCODING_LABEL);
    if let Some((_, value)) = version {
        let value = value.trim_matches(super::text::is_lws);
        decl.version_text = Some(value.to_string());
        decl.version = Version::parse(value);
        match decl.version {
            None => problem(
                Code::Version,
                format!("BagIt-Version '{value}' is not a version (M.N)"),
            ),
            Some(v) if !v.is_known() => problem(
                Code::Version,
                format!("BagIt-Version {v} is not one rwbridge knows (0.93 to 0.97, 1.0)"),
            ),
            Some(_) => {}
        }
    }
    if let Some((_, value)) = encoding {
        let value = value.trim_matches(super::text::is_lws);
        decl.encoding_text = Some(value.to_string());
        decl.encoding = Encoding::from_label(value);
        if decl.encoding.is_none() {
            problem(
                Code::Encoding,
                format!(
                    "Tag-File-Character-Encoding '{value}' is not one rwbridge reads (UTF-8, US-ASCII, ISO-8859-1), so no other tag file was read"
                ),
            );
        }
    }
    let in_order = matches!((version, encoding), (Some((1, _)), Some((2, _))));
    if lines.len() != 2 || !in_order {
        problem(
            Code::Declaration,
            format!(
                "bagit.txt must hold exactly two lines, `{VERSION_LABEL}: M.N` then `{ENCODING_LABEL}: ENCODING`; it holds {}",
                describe_lines(&tags)
            ),
        );
    }
    // Before 1.0, blanks around the colon are allowed (RFC 8493, 2.2.2).
    let strict = decl.version.map_or(true, |v| v.is_rfc() || !v.is_known());
    if strict {
        for (n, line, tag) in &tags {
            let exact = tag.as_ref().is_some_and(|t| {
                t.form == TagForm::Exact && t.value == t.value.trim_matches(super::text::is_lws)
            });
            if !exact && (*n == 1 || *n == 2) {
                problem(
                    Code::Declaration,
                    format!(
                        "bagit.txt line {n} is not in the exact form `Label: value` (one space after the colon, no other blanks): '{line}'"
                    ),
                );
            }
        }
    }
    decl
}

fn describe_lines(tags: &[(usize, &str, Option<super::text::TagLine>)]) -> String {
    if tags.is_empty() {
        return "nothing".into();
    }
    let labels: Vec<String> = tags
        .iter()
        .map(|(_, line, tag)| match tag {
            Some(t) => format!("`{}`", t.label),
            None => format!("'{line}'"),
        })
        .collect();
    format!("{} line(s): {}", tags.len(), labels.join(", "))
}

fn encoding_name(encoding: Encoding) -> &'static str {
    match encoding {
        Encoding::Utf8 => "UTF-8",
        Encoding::Ascii => "US-ASCII",
        Encoding::Latin1 => "ISO-8859-1",
    }
}

/// `/`-separated bytes of a relative path.
/// Doubtful things, gathered so that one kind in one file is one finding
/// naming its lines.
#[derive(Default)]
struct Doubts {
    items: Vec<(Code, String, String, Vec<usize>)>,
}

impl Doubts {
    fn add(&mut self, code: Code, place: &str, what: &str, line: Option<usize>) {
        let found = self
            .items
            .iter_mut()
            .find(|(c, p, w, _)| *c == code && p == place && w == what);
        let item = match found {
            Some(item) => item,
            None => {
                self.items
                    .push((code, place.to_string(), what.to_string(), Vec::new()));
                let last = self.items.len() - 1;
                &mut self.items[last]
            }
        };
        if let Some(line) = line {
            item.3.push(line);
        }
    }

    fn render(self) -> Vec<Finding> {
        self.items
            .into_iter()
            .map(|(code, place, what, lines)| {
                let at = match lines.len() {
                    0 => String::new(),
                    1 => format!(" (line {})", lines[0]),
                    n => {
                        let shown: Vec<String> =
                            lines.iter().take(5).map(|l| l.to_string()).collect();
                        let more = if n > 5 {
                            format!(" and {} more", n - 5)
                        } else {
                            String::new()
                        };
                        format!(" (lines {}{more})", shown.join(", "))
                    }
                };
                Finding {
                    code,
                    message: format!("{place}: {what}{at}"),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
