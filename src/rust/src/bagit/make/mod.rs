//! Makes a BagIt 1.0 bag, as bagit-python's `make_bag()` does (payload
//! under data/, bagit.txt, bag-info.txt, one payload and one tag manifest
//! per algorithm): in place ([`make_bag`]: every file hashed before
//! anything moves; a failure puts every entry back) or at a new place
//! ([`copy::make_bag_at`]: the payload copied); and updates one
//! ([`update::update_bag`]). All or nothing, even when killed: a lock keeps
//! two writers apart and a journal lets the next one finish or undo what a
//! killed one left (`journal.rs`). Never touches R.

pub mod copy;
pub mod journal;
pub mod update;

use super::bag_name;
use super::text::encode_path_in;
use super::text::PathCoding;
use crate::errors::RwError;
use crate::fileio::write_atomic;
use crate::hash::{hash_bytes, hash_each, Algo};
use crate::runtime::{Progress, Runtime};
use crate::tree::{listing_error, name_to_path, slash_name, Confined, Exclude};
use journal::{move_back, sync_dir, Journal, Lock, Plan};
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// What went into a new bag's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeBag {
    pub files: u64,
    pub octets: u64,
}

/// What to make a bag with: the algorithms, the bag-info.txt fields
/// (besides Payload-Oxum, which is computed and replaces any given), what
/// the payload leaves out, and how to run.
pub struct Request<'a, 'r> {
    pub algos: &'a [Algo],
    pub info: &'a [(String, String)],
    /// Files and folders (relative to the directory bagged) not bagged.
    pub exclude: Option<&'a Exclude>,
    pub rt: &'a Runtime<'r>,
    pub progress: Option<&'a Progress>,
    pub hooks: &'a Hooks,
}

#[cfg(test)]
impl<'a, 'r> Request<'a, 'r> {
    /// A request as tests make one: no exclusion, no progress.
    pub fn for_test(
        algos: &'a [Algo],
        info: &'a [(String, String)],
        rt: &'a Runtime<'r>,
        hooks: &'a Hooks,
    ) -> Self {
        Request {
            algos,
            info,
            exclude: None,
            rt,
            progress: None,
            hooks,
        }
    }
}

/// Test hooks (all off by default): fail step `fail_at`; at step
/// `pause_at`, create `pause_file` and wait until it is removed (so a test
/// can kill the process, or change a file, at a known point); make the
/// restore after a failure fail too (`fail_undo`).
#[derive(Debug, Default, Clone)]
pub struct Hooks {
    pub fail_at: usize,
    pub pause_at: usize,
    pub pause_file: Option<PathBuf>,
    pub fail_undo: bool,
}

/// The steps of a writer, counted for the test hooks.
struct Steps<'h> {
    hooks: &'h Hooks,
    done: usize,
    dir: PathBuf,
}

impl<'h> Steps<'h> {
    fn new(hooks: &'h Hooks, dir: &Path) -> Self {
        Steps {
            hooks,
            done: 0,
            dir: dir.to_path_buf(),
        }
    }

    /// Counts a step; the hooks fail or pause the one they name.
    fn next(&mut self) -> Result<(), RwError> {
        self.done += 1;
        if self.done == self.hooks.fail_at {
            return Err(RwError::io_reason(
                "make a bag of",
                &self.dir,
                format!("failure injected at step {} (a test hook)", self.done),
            ));
        }
        if let (true, Some(file)) = (self.done == self.hooks.pause_at, &self.hooks.pause_file) {
            // Best effort: a test that cannot see the file times out.
            let _ = fs::write(file, format!("step {}\n", self.done));
            let until = Instant::now() + Duration::from_secs(120);
            while file.exists() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Ok(())
    }
}

/// A payload file's size and modification time when it was listed: a file
/// that differs afterwards changed while it was bagged.
type Stamp = (u64, Option<SystemTime>);

fn stamp_of(meta: &fs::Metadata) -> Stamp {
    (meta.len(), meta.modified().ok())
}

/// The regular files under a directory (names relative to it,
/// `/`-separated, sorted), with their stamps, the directories, the total
/// size, and the entries `exclude` left out (relative paths; a folder left
/// out is not entered).
struct Payload {
    names: Vec<String>,
    stamps: Vec<Stamp>,
    dirs: Vec<(String, fs::Permissions)>,
    octets: u64,
    left: Vec<PathBuf>,
}

impl Payload {
    fn made(&self) -> MadeBag {
        MadeBag {
            files: self.names.len() as u64,
            octets: self.octets,
        }
    }

    /// The first file whose stamp under `root` is not what it was when it
    /// was listed.
    fn changed(&self, root: &Path) -> Option<&str> {
        self.names
            .iter()
            .zip(&self.stamps)
            .find(|(name, stamp)| {
                let now = fs::symlink_metadata(root.join(name_to_path(name.as_bytes())));
                now.map_or(true, |m| !m.is_file() || stamp_of(&m) != **stamp)
            })
            .map(|(name, _)| name.as_str())
    }
}

/// The error for a payload file that changed while it was bagged.
fn changed_error(dir: &Path, name: &str, what: &str) -> RwError {
    RwError::io_reason(
        "make a bag of",
        dir,
        format!(
            "'{name}' changed while it was bagged (its size or modification time differs from when it was hashed); {what}"
        ),
    )
}

/// Lists `dir`, less what `exclude` leaves out (never entered, never
/// checked): anything but regular files and directories is an error (a
/// moved symbolic link can change what it points to, and a bag's manifests
/// list files only), and so is a name that is not UTF-8.
fn payload_of(dir: &Path, exclude: Option<&Exclude>) -> Result<Payload, RwError> {
    let mut files: Vec<(String, Stamp)> = Vec::new();
    let mut dirs = Vec::new();
    let mut octets = 0u64;
    let mut left = Vec::new();
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .min_depth(1)
        .into_iter()
        .filter_entry(|item| {
            let relative = item.path().strip_prefix(dir).unwrap_or(item.path());
            let out = exclude.is_some_and(|x| x.excludes(relative, item.file_type().is_dir()));
            if out {
                left.push(relative.to_path_buf());
            }
            !out
        });
    for item in walk {
        let item = item.map_err(|e| listing_error(dir, e))?;
        let kind = item.file_type();
        let path = item.path();
        if kind.is_symlink() {
            return Err(RwError::io_reason(
                "bag",
                path,
                "a symbolic link; a bag holds regular files (copy its target in instead)",
            ));
        }
        if !kind.is_file() && !kind.is_dir() {
            return Err(RwError::io_reason("bag", path, "not a regular file"));
        }
        let relative = path.strip_prefix(dir).unwrap_or(path);
        let name = String::from_utf8(slash_name(relative)).map_err(|_| {
            RwError::io_reason(
                "bag",
                path,
                "the name is not valid UTF-8, which the UTF-8 manifests cannot hold",
            )
        })?;
        let meta = item
            .metadata()
            .map_err(|e| RwError::io("bag", path, e.into()))?;
        if kind.is_dir() {
            dirs.push((name, meta.permissions()));
            continue;
        }
        octets += meta.len();
        files.push((name, stamp_of(&meta)));
    }
    files.sort();
    dirs.sort_by(|a, b| a.0.cmp(&b.0));
    let (names, stamps) = files.into_iter().unzip();
    left.sort();
    Ok(Payload {
        names,
        stamps,
        dirs,
        octets,
        left,
    })
}

/// The digests of `names` under `root`, one per algorithm, each opened
/// without leaving `root` (a folder swapped for a link meanwhile is never
/// read through): an unreadable file (or Ctrl-C) is an error.
fn digests_of(root: &Path, names: &[String], req: &Request) -> Result<Vec<Vec<String>>, RwError> {
    let confined = Confined::new(root, false)?;
    let open = |n: &String| confined.open_reason(&name_to_path(n.as_bytes()));
    let size = |n: &String| confined.size(&name_to_path(n.as_bytes())).unwrap_or(0);
    hash_each(req.algos, names, open, size, req.rt, req.progress)?
        .into_iter()
        .collect()
}

/// The manifest file names of `algos` (`manifest-sha256.txt`, or with
/// `tag`, `tagmanifest-sha256.txt`); an algorithm bags do not use is a
/// value error.
fn manifest_names(algos: &[Algo], tag: bool) -> Result<Vec<String>, RwError> {
    algos
        .iter()
        .map(|&algo| {
            let name = bag_name(algo).ok_or_else(|| RwError::Value {
                arg: "algo",
                reason: format!("holds \"{}\", which bags do not use", algo.name()),
            })?;
            let kind = if tag { "tagmanifest" } else { "manifest" };
            Ok(format!("{kind}-{name}.txt"))
        })
        .collect()
}

/// A payload manifest: `checksum  data/path` lines (two spaces, as
/// bagit-python writes them) in the order of `names`.
fn payload_manifest(
    names: &[String],
    digests: &[Vec<String>],
    k: usize,
    coding: PathCoding,
) -> String {
    let mut text = String::new();
    for (name, digest) in names.iter().zip(digests) {
        text.push_str(&digest[k]);
        text.push_str("  data/");
        text.push_str(&encode_path_in(name, coding));
        text.push('\n');
    }
    text
}

/// A tag manifest of `algo` listing `files` (name and bytes), sorted by name.
fn tag_manifest(algo: Algo, files: &[(String, Vec<u8>)], coding: PathCoding) -> String {
    let mut listed: Vec<&(String, Vec<u8>)> = files.iter().collect();
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut text = String::new();
    for (name, bytes) in listed {
        text.push_str(&hash_bytes(algo, bytes));
        text.push_str("  ");
        text.push_str(&encode_path_in(name, coding));
        text.push('\n');
    }
    text
}

/// The tag files of a new bag, in the order written: payload manifests,
/// bagit.txt, bag-info.txt, tag manifests (which list the others, hashed
/// from memory).
fn tag_files(
    req: &Request,
    payload: &Payload,
    digests: &[Vec<String>],
) -> Result<Vec<(String, Vec<u8>)>, RwError> {
    let (algos, info) = (req.algos, req.info);
    let coding = PathCoding::Percent;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (k, name) in manifest_names(algos, false)?.into_iter().enumerate() {
        let text = payload_manifest(&payload.names, digests, k, coding);
        files.push((name, text.into_bytes()));
    }
    files.push((
        "bagit.txt".into(),
        b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".to_vec(),
    ));
    let info = bag_info(info, &payload.made());
    files.push(("bag-info.txt".into(), info.into_bytes()));
    let mut tag_manifests = Vec::new();
    for (&algo, name) in algos.iter().zip(manifest_names(algos, true)?) {
        tag_manifests.push((name, tag_manifest(algo, &files, coding).into_bytes()));
    }
    files.extend(tag_manifests);
    Ok(files)
}

/// bag-info.txt: `info` (less any Payload-Oxum) and the computed
/// Payload-Oxum, sorted by label; a value's line breaks become continued
/// lines, indented by two spaces.
pub fn bag_info(info: &[(String, String)], made: &MadeBag) -> String {
    let mut fields: Vec<(&str, String)> = info
        .iter()
        .filter(|(label, _)| !label.eq_ignore_ascii_case("Payload-Oxum"))
        .map(|(label, value)| (label.as_str(), value.clone()))
        .collect();
    fields.push(("Payload-Oxum", format!("{}.{}", made.octets, made.files)));
    fields.sort_by(|a, b| a.0.cmp(b.0));
    let mut text = String::new();
    for (label, value) in fields {
        let value = value.replace("\r\n", "\n").replace('\r', "\n");
        text.push_str(label);
        text.push_str(": ");
        text.push_str(&value.replace('\n', "\n  "));
        text.push('\n');
    }
    text
}

/// Fails unless `dir` is a directory.
fn directory(dir: &Path, op: &'static str) -> Result<fs::Metadata, RwError> {
    let meta = fs::metadata(dir).map_err(|e| RwError::io(op, dir, e))?;
    if !meta.is_dir() {
        return Err(RwError::io_reason(op, dir, "not a directory"));
    }
    Ok(meta)
}

/// Turns `dir` into a bag in place; bag-info.txt lines are sorted by
/// label, as bagit-python writes them.
///
/// The steps the hooks count: 1, every file hashed (nothing changed yet);
/// 2, the journal and the temporary folder made; then each entry moved
/// into it; its rename to data/; each tag file written; and last, every
/// payload file found as it was when hashed. A journal left by a killed
/// call is rolled back first.
pub fn make_bag(dir: &Path, req: &Request) -> Result<MadeBag, RwError> {
    let meta = directory(dir, "make a bag of")?;
    let _lock = Lock::take(dir, false, "make a bag of")?;
    journal::recover(dir)?;
    let payload = payload_of(dir, req.exclude)?;
    let staying = Staying::of(&payload, req)?;
    // Every file is read before anything changes: an unreadable file (or
    // Ctrl-C) leaves the directory untouched.
    let digests = digests_of(dir, &payload.names, req)?;
    let tag_files = tag_files(req, &payload, &digests)?;
    let mut steps = Steps::new(req.hooks, dir);
    steps.next()?;
    let mut moves = Moves::start(dir, &tag_files, req.hooks.fail_undo, staying)?;
    let made = moves.run(&tag_files, &meta, &mut steps).and_then(|()| {
        match payload.changed(&dir.join("data")) {
            Some(name) => Err(changed_error(
                dir,
                name,
                "the directory was restored: run write_bag() again",
            )),
            None => steps.next(),
        }
    });
    match made {
        Ok(()) => {
            moves.finish()?;
            Ok(payload.made())
        }
        Err(e) => Err(match moves.undo() {
            Ok(()) => e,
            Err(undo) => RwError::io_reason(
                "make a bag of",
                dir,
                format!(
                    "{e}; restoring the directory failed too: {undo}; what was moved is in {}, and the journal {} names it: the next write_bag() or update_bag() on this directory completes the restore",
                    moves.temp.display(),
                    journal::JOURNAL
                ),
            ),
        }),
    }
}

/// What stays where it is when a bag is made in place: the entries
/// `exclude` leaves out, and the folders that hold some of them (each made
/// afresh in the payload, the rest of its entries moved into it). Empty
/// without `exclude`: every top-level entry moves whole.
struct Staying<'a> {
    exclude: Option<&'a Exclude>,
    /// Folders (relative) holding an entry left out.
    mixed: HashSet<PathBuf>,
}

impl<'a> Staying<'a> {
    /// Fails (a value error naming `exclude`, before anything changed) when
    /// what stays would be in the way of data/ or of a tag file.
    fn of(payload: &Payload, req: &Request<'a, '_>) -> Result<Self, RwError> {
        let mut ours = vec![
            "data".to_string(),
            "bagit.txt".into(),
            "bag-info.txt".into(),
        ];
        ours.extend(manifest_names(req.algos, false)?);
        ours.extend(manifest_names(req.algos, true)?);
        let mut mixed = HashSet::new();
        for path in &payload.left {
            let top = path.components().next().map(|c| c.as_os_str());
            if let Some(name) = ours.iter().find(|n| top == Some(std::ffi::OsStr::new(n))) {
                return Err(RwError::Value {
                    arg: "exclude",
                    reason: format!(
                        "leaves out '{}', which would stay at the bag's top where write_bag() puts its own '{name}' (in place, what `exclude` leaves out stays where it is): rename it, or make the bag at `dest`",
                        path.display()
                    ),
                });
            }
            mixed.extend(
                path.ancestors()
                    .skip(1)
                    .filter(|a| !a.as_os_str().is_empty())
                    .map(Path::to_path_buf),
            );
        }
        Ok(Staying {
            exclude: req.exclude,
            mixed,
        })
    }
}

/// The moves and writes that make the bag, recorded so they can be undone.
struct Moves<'a> {
    dir: &'a Path,
    staying: Staying<'a>,
    /// Where the payload gathers before it is renamed to data/.
    temp: PathBuf,
    journal: Option<Journal>,
    renamed: bool,
    written: Vec<PathBuf>,
    fail_undo: bool,
}

impl<'a> Moves<'a> {
    /// Writes the journal, then makes the temporary folder it names.
    fn start(
        dir: &'a Path,
        tag_files: &[(String, Vec<u8>)],
        fail_undo: bool,
        staying: Staying<'a>,
    ) -> Result<Self, RwError> {
        let temp_name = free_temp_name(dir)?;
        let plan = Plan::Make {
            temp: temp_name.clone(),
            tags: tag_files.iter().map(|(n, _)| n.clone()).collect(),
            renamed: false,
        };
        let journal = Journal::start(dir, &plan)?;
        let temp = dir.join(&temp_name);
        if let Err(e) = fs::create_dir(&temp) {
            let _ = journal.finish();
            return Err(RwError::io("make a bag of", dir, e));
        }
        Ok(Moves {
            dir,
            staying,
            temp,
            journal: Some(journal),
            renamed: false,
            written: Vec::new(),
            fail_undo,
        })
    }

    fn run(
        &mut self,
        tag_files: &[(String, Vec<u8>)],
        dir_meta: &fs::Metadata,
        steps: &mut Steps,
    ) -> Result<(), RwError> {
        steps.next()?;
        self.gather(Path::new(""), steps)?;
        steps.next()?;
        if let Some(journal) = &mut self.journal {
            journal.mark("renamed")?;
        }
        let data = self.dir.join("data");
        fs::rename(&self.temp, &data).map_err(|e| RwError::io("rename", &self.temp, e))?;
        self.renamed = true;
        // As bagit-python: the payload directory gets the bag's permissions.
        fs::set_permissions(&data, dir_meta.permissions())
            .map_err(|e| RwError::io("set the permissions of", &data, e))?;
        for (name, bytes) in tag_files {
            steps.next()?;
            let path = self.dir.join(name);
            write_atomic(&path, bytes)?;
            self.written.push(path);
        }
        // Makes the renames durable; not every file system allows it.
        for d in [self.dir.to_path_buf(), data] {
            sync_dir(&d);
        }
        Ok(())
    }

    /// Moves the entries of the folder `relative` (the top first) into the
    /// temporary folder, each whole, but for what stays: an entry left out
    /// is not touched, and a folder holding one is made afresh there, its
    /// other entries moved into it.
    fn gather(&mut self, relative: &Path, steps: &mut Steps) -> Result<(), RwError> {
        let from_dir = self.dir.join(relative);
        let skip = [
            self.temp.file_name().map(|n| n.to_os_string()),
            Some(journal::JOURNAL.into()),
        ];
        let mut entries = Vec::new();
        for item in fs::read_dir(&from_dir).map_err(|e| RwError::io("list", &from_dir, e))? {
            let name = item
                .map_err(|e| RwError::io("list", &from_dir, e))?
                .file_name();
            let at_top = relative.as_os_str().is_empty();
            if !(at_top && skip.contains(&Some(name.clone()))) {
                entries.push(name);
            }
        }
        entries.sort();
        for name in entries {
            let inner = relative.join(&name);
            let from = self.dir.join(&inner);
            if let Some(exclude) = self.staying.exclude {
                let is_dir = fs::symlink_metadata(&from).is_ok_and(|m| m.is_dir());
                if exclude.excludes(&inner, is_dir) {
                    continue;
                }
            }
            steps.next()?;
            let to = self.temp.join(&inner);
            if !self.staying.mixed.contains(&inner) {
                fs::rename(&from, &to).map_err(|e| RwError::io("move", &from, e))?;
                continue;
            }
            let meta = fs::metadata(&from).map_err(|e| RwError::io("bag", &from, e))?;
            fs::create_dir(&to).map_err(|e| RwError::io("make", &to, e))?;
            self.gather(&inner, steps)?;
            // Once its entries are in, as the copies at `dest` get theirs.
            fs::set_permissions(&to, meta.permissions())
                .map_err(|e| RwError::io("set the permissions of", &to, e))?;
        }
        Ok(())
    }

    /// The bag is whole: the journal goes.
    fn finish(&mut self) -> Result<(), RwError> {
        match self.journal.take() {
            Some(journal) => journal.finish(),
            None => Ok(()),
        }
    }

    /// Undoes every recorded step, last first, then removes the journal;
    /// the journal stays when the undo fails, for the next writer.
    fn undo(&mut self) -> io::Result<()> {
        for path in self.written.drain(..).rev() {
            fs::remove_file(&path)?;
        }
        if self.renamed {
            fs::rename(self.dir.join("data"), &self.temp)?;
            self.renamed = false;
        }
        if self.fail_undo {
            return Err(io::Error::other(
                "failure injected while restoring (a test hook)",
            ));
        }
        move_back(&self.temp, self.dir).map_err(|(path, e)| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot move back '{}': {}",
                    path.display(),
                    crate::errors::os_text(&e)
                ),
            )
        })?;
        self.finish().map_err(|e| io::Error::other(e.to_string()))
    }
}

/// A name `.rwbridge-bag-<pid>-<n>` free in `dir`.
fn free_temp_name(dir: &Path) -> Result<String, RwError> {
    (0..1000)
        .map(|n| format!(".rwbridge-bag-{}-{n}", std::process::id()))
        .find(|name| dir.join(name).symlink_metadata().is_err())
        .ok_or_else(|| {
            RwError::io_reason(
                "make a bag of",
                dir,
                "no free name for a temporary directory",
            )
        })
}

#[cfg(test)]
mod tests;
