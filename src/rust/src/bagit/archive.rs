//! A serialized bag (RFC 8493, section 4): a `.zip`, `.tar`, `.tar.gz` or
//! `.tgz` holding one top directory, read where it is, never unpacked to
//! disk. Opening one reads its index (a zip's central directory, a tar's
//! headers) and its tag files; the payload is read once, when hashed, each
//! member through all the digests it needs (a compressed tar as one stream,
//! read again only for members met before the manifests that name their
//! algorithms). Members that lead outside the top directory (absolute, with
//! `..`) are listed apart and never read, and symbolic links are followed
//! inside the archive only. Never touches R or any file but the archive.

use super::{bag_algo, manifest_kind};
use crate::errors::RwError;
use crate::hash::{digest_reader, with_buffer, Algo, HashFailure};
use crate::runtime::{Cancel, Progress, Runtime};
use crate::status::Status;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The serializations read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Tar,
    TarGz,
}

impl Kind {
    /// The serialization a file's name gives (any case), if any.
    pub fn of(path: &Path) -> Option<Kind> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".zip") {
            Some(Kind::Zip)
        } else if name.ends_with(".tar") {
            Some(Kind::Tar)
        } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Some(Kind::TarGz)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Zip => "zip",
            Kind::Tar => "tar",
            Kind::TarGz => "gzip-compressed tar",
        }
    }
}

/// Where a member's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// The zip member of this index.
    Zip(usize),
    /// A tar member's data starts at this offset of the file.
    Tar(u64),
    /// In a compressed stream: hashed while the archive was read.
    Stream,
}

/// A member of the archive, by its path below the top directory.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Member {
    /// A directory, listed or implied by the members below it.
    Dir,
    File {
        size: u64,
        at: At,
    },
    /// A symbolic link to this target (as written).
    Link(String),
    /// A tar hard link to the member at this path (below the top).
    HardLink(String),
    /// A device, FIFO, or a hard link that leads elsewhere.
    Other,
}

/// A serialized bag, its index read.
pub struct Archive {
    path: PathBuf,
    kind: Kind,
    file: Arc<File>,
    members: BTreeMap<String, Member>,
    /// Member names that lead outside the top directory: never read.
    pub outside: Vec<String>,
    /// The bytes of every file outside data/ (the tag files).
    tags: HashMap<String, Vec<u8>>,
    /// A compressed tar's payload digests, made while it was read.
    streamed: HashMap<String, Vec<(Algo, String)>>,
}

/// What a member's name says.
enum Name {
    /// The path below the top directory (`""`: the top directory itself).
    Inside(String, String),
    Outside,
}

/// A member name split into its top directory and the path below it;
/// absolute names and names with `..` lead outside.
fn split_name(name: &Path) -> Name {
    let mut parts: Vec<String> = Vec::new();
    for component in name.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Name::Outside
            }
        }
    }
    if parts.is_empty() {
        return Name::Inside(String::new(), String::new());
    }
    let top = parts.remove(0);
    Name::Inside(top, parts.join("/"))
}

impl Archive {
    /// Reads the index of the archive at `path` and its tag files (and,
    /// unless `fast`, hashes a compressed tar's payload on the way): an I/O
    /// error when it cannot be read or is not an archive of its kind, or
    /// when it does not hold exactly one top directory.
    pub fn open(path: &Path, kind: Kind, rt: &Runtime, fast: bool) -> Result<Archive, RwError> {
        let file = File::open(path).map_err(|e| RwError::io("open bag", path, e))?;
        let mut archive = Archive {
            path: path.to_path_buf(),
            kind,
            file: Arc::new(file),
            members: BTreeMap::new(),
            outside: Vec::new(),
            tags: HashMap::new(),
            streamed: HashMap::new(),
        };
        let not_one = |e: &dyn std::fmt::Display| {
            RwError::io_reason(
                "read the bag",
                path,
                format!("not a {} archive, or a damaged one: {e}", kind.name()),
            )
        };
        let mut tops: Vec<String> = Vec::new();
        match kind {
            Kind::Zip => archive.read_zip(&mut tops).map_err(|e| not_one(&e))?,
            Kind::Tar => {
                let reader = Shared::new(&archive.file);
                archive
                    .read_tar(reader, &mut tops, true, fast, rt.cancel())
                    .map_err(|e| not_one(&e))?
            }
            Kind::TarGz => {
                let reader = NoSeek(flate2::read::GzDecoder::new(Shared::new(&archive.file)));
                archive
                    .read_tar(reader, &mut tops, false, fast, rt.cancel())
                    .map_err(|e| not_one(&e))?
            }
        }
        rt.cancel().check()?;
        tops.sort();
        tops.dedup();
        let problem = match tops.len() {
            0 if archive.outside.is_empty() => Some("it is empty: a serialized bag holds one top directory (RFC 8493, section 4)".to_string()),
            0 => None,
            1 if archive.members.get("").is_some_and(|m| *m != Member::Dir) => Some(format!(
                "its one top-level member '{}' is not a directory: a serialized bag holds one top directory (RFC 8493, section 4)",
                tops[0]
            )),
            1 => None,
            n => {
                let shown: Vec<String> = tops.iter().take(5).map(|t| format!("'{t}'")).collect();
                Some(format!(
                    "it holds {n} top-level members ({}{}): a serialized bag holds one top directory (RFC 8493, section 4)",
                    shown.join(", "),
                    if n > 5 { ", ..." } else { "" }
                ))
            }
        };
        if let Some(why) = problem {
            return Err(RwError::io_reason("read the bag", path, why));
        }
        archive.members.remove("");
        archive.imply_dirs();
        Ok(archive)
    }

    /// Records a member; `tops` gathers the top-level names.
    fn add(&mut self, name: &Path, member: Member, tops: &mut Vec<String>) -> Option<String> {
        match split_name(name) {
            Name::Outside => {
                self.outside.push(name.to_string_lossy().into_owned());
                None
            }
            Name::Inside(top, below) => {
                if !top.is_empty() {
                    tops.push(top);
                }
                // The top directory itself has the key "": a file there is
                // the archive's one top-level member, and not a bag.
                let member = if below.is_empty() && member != Member::Dir {
                    Member::Other
                } else {
                    member
                };
                self.members.insert(below.clone(), member);
                Some(below)
            }
        }
    }

    fn read_zip(&mut self, tops: &mut Vec<String>) -> Result<(), String> {
        let mut zip = zip::ZipArchive::new(Shared::new(&self.file)).map_err(|e| e.to_string())?;
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).map_err(|e| e.to_string())?;
            let name = PathBuf::from(entry.name());
            let (member, content) = if entry.is_dir() {
                (Member::Dir, false)
            } else if entry.is_symlink() {
                let mut target = String::new();
                entry
                    .read_to_string(&mut target)
                    .map_err(|e| e.to_string())?;
                (Member::Link(target), false)
            } else {
                let size = entry.size();
                (
                    Member::File {
                        size,
                        at: At::Zip(i),
                    },
                    true,
                )
            };
            if let Some(key) = self.add(&name, member, tops) {
                if content && !in_payload(&key) {
                    let mut bytes = Vec::new();
                    entry.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
                    self.tags.insert(key, bytes);
                }
            }
        }
        Ok(())
    }

    /// Reads a tar's headers and tag files; `seek` (a plain tar) skips the
    /// payload's data, else (a compressed stream) the payload is hashed as
    /// it passes (but with `fast`), with the algorithms of the manifests
    /// met so far (bagit-python's default, SHA-256 and SHA-512, before any).
    fn read_tar<R: Read + Seek>(
        &mut self,
        reader: R,
        tops: &mut Vec<String>,
        seek: bool,
        fast: bool,
        cancel: &Cancel,
    ) -> Result<(), String> {
        let mut tar = tar::Archive::new(reader);
        let entries = if seek {
            tar.entries_with_seek()
        } else {
            tar.entries()
        };
        let mut algos: Vec<Algo> = Vec::new();
        for entry in entries.map_err(|e| e.to_string())? {
            // Polls for Ctrl-C; the caller sees the flag.
            if cancel.check().is_err() {
                return Ok(());
            }
            let mut entry = entry.map_err(|e| e.to_string())?;
            let name = entry.path().map_err(|e| e.to_string())?.into_owned();
            let link = || {
                entry
                    .link_name()
                    .ok()
                    .flatten()
                    .map(|l| l.to_string_lossy().into_owned())
                    .unwrap_or_default()
            };
            let kind = entry.header().entry_type();
            let member = match kind {
                tar::EntryType::Directory => Member::Dir,
                tar::EntryType::Regular | tar::EntryType::Continuous => Member::File {
                    size: entry.size(),
                    at: if seek {
                        At::Tar(entry.raw_file_position())
                    } else {
                        At::Stream
                    },
                },
                tar::EntryType::Symlink => Member::Link(link()),
                tar::EntryType::Link => match split_name(Path::new(&link())) {
                    Name::Inside(_, below) if !below.is_empty() => Member::HardLink(below),
                    _ => Member::Other,
                },
                _ => Member::Other,
            };
            let file = matches!(member, Member::File { .. });
            let Some(key) = self.add(&name, member, tops) else {
                continue;
            };
            if !file {
                continue;
            }
            if !in_payload(&key) {
                if let Some(algo) = manifest_kind(&key).and_then(|(_, a)| bag_algo(a)) {
                    if !algos.contains(&algo) {
                        algos.push(algo);
                    }
                }
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
                self.tags.insert(key, bytes);
            } else if !seek && !fast {
                let algos = if algos.is_empty() {
                    vec![Algo::Sha256, Algo::Sha512]
                } else {
                    algos.clone()
                };
                let found =
                    with_buffer(|buf| digest_reader(&mut entry, &name, &algos, buf, cancel, None));
                if let Ok(digests) = found {
                    self.streamed
                        .insert(key, algos.into_iter().zip(digests).collect());
                }
            }
        }
        Ok(())
    }

    /// Adds the directories that members below them imply.
    fn imply_dirs(&mut self) {
        let mut implied = Vec::new();
        for key in self.members.keys() {
            let mut at = key.as_str();
            while let Some((parent, _)) = at.rsplit_once('/') {
                if !self.members.contains_key(parent) {
                    implied.push(parent.to_string());
                }
                at = parent;
            }
        }
        for dir in implied {
            self.members.insert(dir, Member::Dir);
        }
    }

    /// The names in the top directory, sorted.
    pub fn top(&self) -> Vec<String> {
        self.members
            .keys()
            .filter(|k| !k.contains('/'))
            .cloned()
            .collect()
    }

    /// What data/ is: `Ok` for a directory, else what it is instead
    /// ("a symbolic link", "not a directory"), `None` inside when missing.
    pub fn data_dir(&self) -> Result<(), Option<&'static str>> {
        match self.members.get("data") {
            Some(Member::Dir) => Ok(()),
            Some(Member::Link(_)) => Err(Some("a symbolic link")),
            Some(_) => Err(Some("not a directory")),
            None => Err(None),
        }
    }

    /// Every member under data/ that is not a directory, in the order of a
    /// sorted walk (a directory's members right after it), with whether it
    /// is a symbolic link and its size or why it cannot be read.
    pub fn payload(&self) -> Vec<(String, bool, Result<u64, Status>)> {
        let mut files: Vec<(&String, &Member)> = self
            .members
            .iter()
            .filter(|(k, m)| in_payload(k) && **m != Member::Dir)
            .collect();
        files.sort_by(|a, b| a.0.split('/').cmp(b.0.split('/')));
        files
            .into_iter()
            .map(|(key, member)| {
                let link = matches!(member, Member::Link(_));
                (key.clone(), link, self.locate(key).map(|(_, size)| size))
            })
            .collect()
    }

    /// The bytes of the tag file `name` (links followed inside the bag).
    pub fn read(&self, name: &str) -> Result<Vec<u8>, Status> {
        let (key, _) = self.locate(name)?;
        self.tags.get(&key).cloned().ok_or(Status::Unreadable)
    }

    /// The member `name` leads to (links followed, inside the top
    /// directory only) and its size, or why it cannot be read.
    pub fn locate(&self, name: &str) -> Result<(String, u64), Status> {
        let mut pending: Vec<String> = name.split('/').rev().map(str::to_string).collect();
        let mut done: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "" | "." => continue,
                ".." => {
                    done.pop().ok_or(Status::Refused)?;
                    continue;
                }
                _ => done.push(part),
            }
            let key = done.join("/");
            let follow = match self.members.get(&key) {
                Some(Member::Dir) => continue,
                None => return Err(Status::Missing),
                Some(Member::Link(target)) => {
                    if target.starts_with('/') {
                        return Err(Status::Refused);
                    }
                    done.pop();
                    target.clone()
                }
                Some(Member::HardLink(target)) => {
                    done.clear();
                    target.clone()
                }
                Some(Member::File { size, .. }) if pending.is_empty() => return Ok((key, *size)),
                Some(_) => return Err(Status::Unreadable),
            };
            hops += 1;
            if hops > 40 {
                return Err(Status::Unreadable);
            }
            pending.extend(follow.split('/').rev().map(str::to_string));
        }
        // The name led to a directory.
        Err(Status::Unreadable)
    }

    /// The digests of the members `jobs` name (payload files, by their
    /// paths in the bag, each with its algorithms and size; tag files are
    /// hashed from memory by the caller), each member read once: a zip's
    /// or a plain tar's members in parallel, a compressed tar's from the
    /// stream. A member that cannot be read gives the status why.
    pub fn hash(
        &self,
        jobs: &[Hashing],
        rt: &Runtime,
        progress: Option<&Progress>,
    ) -> Result<Vec<Result<Vec<String>, Status>>, RwError> {
        if let Some(progress) = progress {
            progress.start(jobs.len(), jobs.iter().map(|j| j.size).sum());
        }
        let zip = match self.kind {
            Kind::Zip => zip::ZipArchive::new(Shared::new(&self.file)).ok(),
            _ => None,
        };
        let mut found = rt.map(jobs, |job, cancel| {
            let bytes_done = progress.map(|p| &p.bytes_done);
            let name = String::from_utf8_lossy(job.path);
            let result = self.locate(&name).and_then(|(key, size)| {
                let what = self.path.join(&key);
                let digest = |reader: &mut dyn Read| {
                    with_buffer(|buf| {
                        digest_reader(reader, &what, job.algos, buf, cancel, bytes_done)
                    })
                    .map_err(|_: HashFailure| Status::Unreadable)
                };
                match self.members.get(&key) {
                    Some(Member::File {
                        at: At::Tar(offset),
                        ..
                    }) => {
                        let mut reader = Shared::at(&self.file, *offset).take(size);
                        digest(&mut reader)
                    }
                    Some(Member::File { at: At::Zip(i), .. }) => {
                        let mut zip = zip.clone().ok_or(Status::Unreadable)?;
                        let mut entry = zip.by_index(*i).map_err(|_| Status::Unreadable)?;
                        digest(&mut entry)
                    }
                    Some(Member::File { at: At::Stream, .. }) => {
                        let known = self.streamed.get(&key).ok_or(Status::Unreadable)?;
                        job.algos
                            .iter()
                            .map(|a| known.iter().find(|(k, _)| k == a).map(|(_, d)| d.clone()))
                            .collect::<Option<Vec<String>>>()
                            .ok_or(Status::Present)
                    }
                    _ => Err(Status::Unreadable),
                }
            });
            if let Some(progress) = progress {
                progress.files_done.fetch_add(1, Ordering::Relaxed);
            }
            result
        })?;
        // Members of a compressed stream met before the manifests that name
        // their algorithms: the stream is read again for them.
        let again: Vec<usize> = (0..jobs.len())
            .filter(|&j| found[j] == Err(Status::Present))
            .collect();
        if !again.is_empty() {
            let wanted: HashMap<String, usize> = again
                .iter()
                .filter_map(|&j| {
                    let name = String::from_utf8_lossy(jobs[j].path);
                    self.locate(&name).ok().map(|(key, _)| (key, j))
                })
                .collect();
            let reader = flate2::read::GzDecoder::new(Shared::new(&self.file));
            let mut tar = tar::Archive::new(reader);
            let entries = tar
                .entries()
                .map_err(|e| RwError::io("read", &self.path, e))?;
            for entry in entries {
                rt.cancel().check()?;
                let mut entry = entry.map_err(|e| RwError::io("read", &self.path, e))?;
                let name = entry
                    .path()
                    .map_err(|e| RwError::io("read", &self.path, e))?
                    .into_owned();
                let Name::Inside(_, key) = split_name(&name) else {
                    continue;
                };
                if let Some(&j) = wanted.get(&key) {
                    let algos = jobs[j].algos;
                    found[j] = with_buffer(|buf| {
                        digest_reader(&mut entry, &name, algos, buf, rt.cancel(), None)
                    })
                    .map_err(|_| Status::Unreadable);
                }
            }
            rt.cancel().check()?;
        }
        Ok(found)
    }
}

/// A member to hash: its path in the bag, its size, its algorithms.
pub struct Hashing<'j> {
    pub path: &'j [u8],
    pub size: u64,
    pub algos: &'j [Algo],
}

fn in_payload(key: &str) -> bool {
    key.starts_with("data/")
}

/// A reader of the archive file at its own position, so that members can
/// be read in parallel (`pread`), and cloned.
#[derive(Clone)]
struct Shared {
    file: Arc<File>,
    pos: u64,
}

impl Shared {
    fn new(file: &Arc<File>) -> Shared {
        Shared::at(file, 0)
    }

    fn at(file: &Arc<File>, pos: u64) -> Shared {
        Shared {
            file: Arc::clone(file),
            pos,
        }
    }
}

impl Read for Shared {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.pos)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Shared {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let len = self.file.metadata()?.len();
        let new = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = new.ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        Ok(self.pos)
    }
}

/// A stream read from start to end: [`Archive::read_tar`] seeks only in a
/// plain tar.
struct NoSeek<R>(R);

impl<R: Read> Read for NoSeek<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R> Seek for NoSeek<R> {
    fn seek(&mut self, _: SeekFrom) -> io::Result<u64> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

#[cfg(test)]
mod tests;
