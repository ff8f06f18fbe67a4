//! Makes a BagIt 1.0 bag in place, as bagit-python's `make_bag()` does
//! (payload moved under data/, bagit.txt, bag-info.txt, one payload and one
//! tag manifest per algorithm), but all or nothing: every file is hashed
//! before anything moves, and a failure after that puts every entry back,
//! so the directory is as it was. Never touches R.

use super::text::encode_path;
use crate::errors::RwError;
use crate::fileio::write_atomic;
use crate::hash::{hash_bytes, hash_files, Algo};
use crate::runtime::{Progress, Runtime};
use crate::tree::{listing_error, name_to_path, slash_name};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What went into a new bag's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeBag {
    pub files: u64,
    pub octets: u64,
}

/// Turns `dir` into a bag. `info` holds the bag-info.txt fields besides
/// Payload-Oxum, which is computed (and replaces any given); lines are
/// sorted by label, as bagit-python writes them. `fail_at` (tests only; 0
/// otherwise) makes step `fail_at` of the moves and writes fail, to show
/// that the directory is restored.
pub fn make_bag(
    dir: &Path,
    algos: &[Algo],
    info: &[(String, String)],
    rt: &Runtime,
    progress: Option<&Progress>,
    fail_at: usize,
) -> Result<MadeBag, RwError> {
    let meta = fs::metadata(dir).map_err(|e| RwError::io("make a bag of", dir, e))?;
    if !meta.is_dir() {
        return Err(RwError::io_reason("make a bag of", dir, "not a directory"));
    }
    let (names, octets) = payload_of(dir)?;
    // Every file is read before anything changes: an unreadable file (or
    // Ctrl-C) leaves the directory untouched.
    let paths: Vec<PathBuf> = names
        .iter()
        .map(|n| dir.join(name_to_path(n.as_bytes())))
        .collect();
    let mut digests = Vec::with_capacity(names.len());
    for result in hash_files(algos, &paths, rt, progress)? {
        digests.push(result?);
    }
    let made = MadeBag {
        files: names.len() as u64,
        octets,
    };
    let tag_files = tag_files(algos, info, &names, &digests, &made);
    let mut moves = Moves::new(dir, fail_at)?;
    match moves.run(&tag_files, &meta) {
        Ok(()) => {
            // Makes the renames durable; not every file system allows it.
            for d in [dir.to_path_buf(), dir.join("data")] {
                if let Ok(handle) = fs::File::open(&d) {
                    let _ = handle.sync_all();
                }
            }
            Ok(made)
        }
        Err(e) => Err(match moves.undo() {
            Ok(()) => e,
            Err(undo) => RwError::io_reason(
                "make a bag of",
                dir,
                format!(
                    "{}; restoring the directory failed too: {}; what was moved is in {}",
                    e,
                    undo,
                    moves.temp.display()
                ),
            ),
        }),
    }
}

/// The names (relative to `dir`, `/`-separated, sorted) and total size of
/// the regular files under `dir`. Anything else but directories is an
/// error: a moved symbolic link can change what it points to, and a bag's
/// manifests list files only.
fn payload_of(dir: &Path) -> Result<(Vec<String>, u64), RwError> {
    let mut names = Vec::new();
    let mut octets = 0u64;
    for item in walkdir::WalkDir::new(dir).follow_links(false).min_depth(1) {
        let item = item.map_err(|e| listing_error(dir, e))?;
        let kind = item.file_type();
        if kind.is_dir() {
            continue;
        }
        let path = item.path();
        if kind.is_symlink() {
            return Err(RwError::io_reason(
                "bag",
                path,
                "a symbolic link; a bag holds regular files (copy its target in instead)",
            ));
        }
        if !kind.is_file() {
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
        octets += item
            .metadata()
            .map_err(|e| RwError::io("bag", path, e.into()))?
            .len();
        names.push(name);
    }
    names.sort();
    Ok((names, octets))
}

/// The tag files to write, in order: payload manifests, bagit.txt,
/// bag-info.txt, tag manifests (which list the others, hashed from memory).
fn tag_files(
    algos: &[Algo],
    info: &[(String, String)],
    names: &[String],
    digests: &[Vec<String>],
    made: &MadeBag,
) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (k, algo) in algos.iter().enumerate() {
        let mut text = String::new();
        for (name, digest) in names.iter().zip(digests) {
            text.push_str(&digest[k]);
            text.push_str("  data/");
            text.push_str(&encode_path(name));
            text.push('\n');
        }
        files.push((format!("manifest-{}.txt", algo.name()), text.into_bytes()));
    }
    files.push((
        "bagit.txt".into(),
        b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".to_vec(),
    ));
    files.push(("bag-info.txt".into(), bag_info(info, made).into_bytes()));
    let mut listed: Vec<&(String, Vec<u8>)> = files.iter().collect();
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut tag_manifests = Vec::new();
    for algo in algos {
        let mut text = String::new();
        for (name, bytes) in &listed {
            text.push_str(&hash_bytes(*algo, bytes));
            text.push_str("  ");
            text.push_str(&encode_path(name));
            text.push('\n');
        }
        tag_manifests.push((
            format!("tagmanifest-{}.txt", algo.name()),
            text.into_bytes(),
        ));
    }
    files.extend(tag_manifests);
    files
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

/// The moves and writes that make the bag, recorded so they can be undone.
struct Moves<'a> {
    dir: &'a Path,
    /// Where the payload gathers before it is renamed to data/.
    temp: PathBuf,
    moved: Vec<std::ffi::OsString>,
    renamed: bool,
    written: Vec<PathBuf>,
    step: usize,
    fail_at: usize,
}

impl<'a> Moves<'a> {
    fn new(dir: &'a Path, fail_at: usize) -> Result<Self, RwError> {
        Ok(Moves {
            dir,
            temp: make_temp_dir(dir)?,
            moved: Vec::new(),
            renamed: false,
            written: Vec::new(),
            step: 0,
            fail_at,
        })
    }

    /// Counts a step; the test hook fails the one it names.
    fn step(&mut self) -> Result<(), RwError> {
        self.step += 1;
        if self.step == self.fail_at {
            return Err(RwError::io_reason(
                "make a bag of",
                self.dir,
                format!("failure injected at step {} (a test hook)", self.step),
            ));
        }
        Ok(())
    }

    fn run(
        &mut self,
        tag_files: &[(String, Vec<u8>)],
        dir_meta: &fs::Metadata,
    ) -> Result<(), RwError> {
        let temp_name = self.temp.file_name().map(|n| n.to_os_string());
        let mut entries = Vec::new();
        for item in fs::read_dir(self.dir).map_err(|e| RwError::io("list", self.dir, e))? {
            let name = item
                .map_err(|e| RwError::io("list", self.dir, e))?
                .file_name();
            if Some(&name) != temp_name.as_ref() {
                entries.push(name);
            }
        }
        entries.sort();
        for name in entries {
            self.step()?;
            let from = self.dir.join(&name);
            fs::rename(&from, self.temp.join(&name)).map_err(|e| RwError::io("move", &from, e))?;
            self.moved.push(name);
        }
        self.step()?;
        let data = self.dir.join("data");
        fs::rename(&self.temp, &data).map_err(|e| RwError::io("rename", &self.temp, e))?;
        self.renamed = true;
        // As bagit-python: the payload directory gets the bag's permissions.
        fs::set_permissions(&data, dir_meta.permissions())
            .map_err(|e| RwError::io("set the permissions of", &data, e))?;
        for (name, bytes) in tag_files {
            self.step()?;
            let path = self.dir.join(name);
            write_atomic(&path, bytes)?;
            self.written.push(path);
        }
        Ok(())
    }

    /// Undoes every recorded step, last first.
    fn undo(&mut self) -> io::Result<()> {
        for path in self.written.drain(..).rev() {
            fs::remove_file(&path)?;
        }
        if self.renamed {
            fs::rename(self.dir.join("data"), &self.temp)?;
            self.renamed = false;
        }
        while let Some(name) = self.moved.pop() {
            if let Err(e) = fs::rename(self.temp.join(&name), self.dir.join(&name)) {
                self.moved.push(name);
                return Err(e);
            }
        }
        // Empty by now: remove_dir (never remove_dir_all) cannot lose a file.
        fs::remove_dir(&self.temp)
    }
}

/// A new, empty directory `.rwbridge-bag-<pid>-<n>` in `dir`.
fn make_temp_dir(dir: &Path) -> Result<PathBuf, RwError> {
    for n in 0..1000 {
        let path = dir.join(format!(".rwbridge-bag-{}-{n}", std::process::id()));
        match fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(RwError::io("make a bag of", dir, e)),
        }
    }
    Err(RwError::io_reason(
        "make a bag of",
        dir,
        "no free name for a temporary directory",
    ))
}

#[cfg(test)]
mod tests;
