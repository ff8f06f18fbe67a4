//! Checks manifest entries against the files under a directory, as the
//! runtime decides (inline while small, then on workers), and returns one
//! outcome per entry in manifest order. Names that lead outside the directory are refused unless allowed;
//! anything that is not a regular file is unreadable and never read. Never
//! touches R; safe on worker threads.

use crate::errors::RwError;
use crate::fileio::{open_regular, OpenFile};
use crate::hash::{digest, with_buffer, HashFailure};
use crate::manifest::Entry;
use crate::runtime::{Cancel, Progress, Runtime};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// What checking one entry (a manifest line, or a file no manifest
/// line names) found: by `verify()`, in an audit and in a bag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Mismatch,
    Missing,
    Unreadable,
    Refused,
    /// A file under the directory that the manifest does not list (an
    /// audit), or a payload file a payload manifest does not list (a bag).
    Extra,
    /// Audit only: a missing file whose content is under the directory by
    /// another name.
    Moved,
    /// Bag only: absent, but listed in fetch.txt, still to be fetched.
    Unfetched,
    /// Bag only: there, not hashed (`fast`, or an algorithm rwbridge lacks).
    Present,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Ok,
        Status::Mismatch,
        Status::Missing,
        Status::Unreadable,
        Status::Refused,
        Status::Extra,
        Status::Moved,
        Status::Unfetched,
        Status::Present,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Mismatch => "mismatch",
            Status::Missing => "missing",
            Status::Unreadable => "unreadable",
            Status::Refused => "refused",
            Status::Extra => "extra",
            Status::Moved => "moved",
            Status::Unfetched => "unfetched",
            Status::Present => "present",
        }
    }
}

/// The status of one entry, the digest computed if the file was hashed,
/// and for a moved file the name it was found under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub actual: Option<String>,
    pub found_as: Option<Vec<u8>>,
}

impl Outcome {
    pub fn unhashed(status: Status) -> Outcome {
        Outcome {
            status,
            actual: None,
            found_as: None,
        }
    }
}

/// Checks every entry; fails only when cancelled (`RwError::Interrupted`)
/// or when `dir` itself cannot be resolved. With `progress`, a first pass
/// finds the total size, and the counters follow the work.
pub fn verify_entries(
    dir: &Path,
    entries: &[Entry],
    allow_outside: bool,
    rt: &Runtime,
    progress: Option<&Progress>,
) -> Result<Vec<Outcome>, RwError> {
    let beneath = if allow_outside {
        None
    } else {
        Beneath::open(dir)
    };
    // The canonical directory costs a system call per component; with
    // openat2 most calls never need it.
    let real_dir = RealDir::new(dir, beneath.is_none() || progress.is_some())?;
    if let Some(progress) = progress {
        let sizes = sizes_of(&real_dir, entries, allow_outside, rt)?;
        progress.start(entries.len(), sizes.iter().sum());
    }
    rt.map(entries, |entry, cancel| {
        let name = name_to_path(&entry.name);
        let outcome = match open_entry(dir, &real_dir, beneath.as_ref(), &name, allow_outside) {
            Ok(mut file) => check(entry, &mut file, cancel, progress),
            Err(status) => Outcome::unhashed(status),
        };
        if let Some(progress) = progress {
            progress.files_done.fetch_add(1, Ordering::Relaxed);
        }
        outcome
    })
}

/// The size of the file each entry names, 0 where there is none to hash
/// (missing, refused, not a regular file): how work is split by bytes.
pub fn entry_sizes(
    dir: &Path,
    entries: &[Entry],
    allow_outside: bool,
    rt: &Runtime,
) -> Result<Vec<u64>, RwError> {
    sizes_of(&RealDir::new(dir, true)?, entries, allow_outside, rt)
}

fn sizes_of(
    real_dir: &RealDir,
    entries: &[Entry],
    allow_outside: bool,
    rt: &Runtime,
) -> Result<Vec<u64>, RwError> {
    rt.map(entries, |e, _| {
        real_dir
            .get()
            .and_then(|real| locate(real, &name_to_path(&e.name), allow_outside))
            .map_or(0, |(_, size)| size)
    })
}

fn check(
    entry: &Entry,
    file: &mut OpenFile,
    cancel: &Cancel,
    progress: Option<&Progress>,
) -> Outcome {
    let bytes_done = progress.map(|p| &p.bytes_done);
    match with_buffer(|buf| digest(file, &[entry.algo], buf, cancel, bytes_done)) {
        Ok(mut digests) => {
            let actual = digests.pop().unwrap_or_default();
            Outcome {
                status: if actual == entry.expected {
                    Status::Ok
                } else {
                    Status::Mismatch
                },
                actual: Some(actual),
                found_as: None,
            }
        }
        // The caller sees the cancel flag and discards every outcome.
        Err(HashFailure::Cancelled) | Err(HashFailure::Unreadable(_)) => {
            Outcome::unhashed(Status::Unreadable)
        }
    }
}

/// Opens the regular file that `name` denotes under `real_dir`, or says why
/// not. The kernel's `openat2(RESOLVE_BENEATH)` settles most names in one
/// call; names it will not resolve, and systems without it, go the long way.
fn open_entry(
    dir: &Path,
    real_dir: &RealDir,
    beneath: Option<&Beneath>,
    name: &Path,
    allow_outside: bool,
) -> Result<OpenFile, Status> {
    match beneath.map_or(Opened::Undecided, |b| b.open_file(name)) {
        Opened::File(file) => {
            return OpenFile::new(file, &dir.join(name)).map_err(|_| Status::Unreadable)
        }
        Opened::Failed(status) => return Err(status),
        Opened::Undecided => {}
    }
    let (path, _) = locate(real_dir.get()?, name, allow_outside)?;
    open_regular(&path).map_err(|_| Status::Unreadable)
}

/// Opens files by their names relative to a directory and never outside
/// it, as [`verify_entries`] opens each entry: for callers that read the
/// files their own way (BagIt's, several digests in one read).
pub struct Confined<'a> {
    dir: &'a Path,
    real_dir: RealDir<'a>,
    beneath: Option<Beneath>,
}

impl<'a> Confined<'a> {
    /// Fails when `dir` cannot be resolved.
    pub fn new(dir: &'a Path) -> Result<Self, RwError> {
        Ok(Confined {
            dir,
            real_dir: RealDir::new(dir, true)?,
            beneath: Beneath::open(dir),
        })
    }

    /// The regular file `name` denotes, or the status that stops it from
    /// being read (`Refused` when it leads outside, by `..` or a link).
    pub fn open(&self, name: &Path) -> Result<OpenFile, Status> {
        open_entry(self.dir, &self.real_dir, self.beneath.as_ref(), name, false)
    }

    /// Where `name` leads and the size of the regular file there, or why not.
    pub fn locate(&self, name: &Path) -> Result<(PathBuf, u64), Status> {
        locate(self.real_dir.get()?, name, false)
    }
}

/// The canonical form of the directory, found once, when first needed.
struct RealDir<'a> {
    dir: &'a Path,
    real: OnceLock<Option<PathBuf>>,
}

impl<'a> RealDir<'a> {
    /// With `now`, resolves it at once, so that a missing directory is an
    /// error rather than a missing file per entry.
    fn new(dir: &'a Path, now: bool) -> Result<Self, RwError> {
        let real = OnceLock::new();
        if now {
            let path = fs::canonicalize(dir).map_err(|e| RwError::io("open directory", dir, e))?;
            let _ = real.set(Some(path));
        }
        Ok(RealDir { dir, real })
    }

    fn get(&self) -> Result<&Path, Status> {
        self.real
            .get_or_init(|| fs::canonicalize(self.dir).ok())
            .as_deref()
            .ok_or(Status::Missing)
    }
}

/// What `openat2(RESOLVE_BENEATH)` made of a name.
enum Opened {
    File(fs::File),
    Failed(Status),
    /// It leads outside (or through an absolute link), or the call is not
    /// available: the long way decides.
    Undecided,
}

/// A directory under which names are opened with Linux's
/// `openat2(RESOLVE_BENEATH)`: the kernel refuses any resolution, `..` or
/// symbolic link, that leaves the directory, in one system call per file.
struct Beneath {
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    dir: fs::File,
    available: AtomicBool,
}

impl Beneath {
    #[cfg(target_os = "linux")]
    fn open(dir: &Path) -> Option<Beneath> {
        let dir = fs::File::open(dir).ok()?;
        Some(Beneath {
            dir,
            available: AtomicBool::new(true),
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn open(_dir: &Path) -> Option<Beneath> {
        None
    }

    #[cfg(target_os = "linux")]
    fn open_file(&self, name: &Path) -> Opened {
        use rustix::fs::{openat2, Mode, OFlags, ResolveFlags};
        use rustix::io::Errno;
        use std::os::unix::ffi::OsStrExt;
        if !self.available.load(Ordering::Relaxed) {
            return Opened::Undecided;
        }
        // No file has such a name; rustix would say EINVAL, which here
        // means that the call is not available.
        if name.as_os_str().as_bytes().contains(&0) {
            return Opened::Failed(Status::Missing);
        }
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
        let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        match openat2(&self.dir, name, flags, Mode::empty(), resolve) {
            Ok(fd) => Opened::File(fs::File::from(fd)),
            Err(Errno::XDEV | Errno::LOOP) => Opened::Undecided,
            // Older kernels, and sandboxes that filter the call.
            Err(Errno::NOSYS | Errno::PERM | Errno::INVAL | Errno::TOOBIG) => {
                self.available.store(false, Ordering::Relaxed);
                Opened::Undecided
            }
            Err(errno) => Opened::Failed(io_status(&io::Error::from(errno))),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn open_file(&self, _name: &Path) -> Opened {
        Opened::Undecided
    }
}

/// A manifest name as a path: bytes on Unix; elsewhere names must be UTF-8.
pub fn name_to_path(name: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(name))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(name).into_owned())
    }
}

/// Where the file named `name` is and its size, or the status that stops it
/// from being hashed. `real_dir` must be canonical.
pub fn locate(real_dir: &Path, name: &Path, allow_outside: bool) -> Result<(PathBuf, u64), Status> {
    if allow_outside {
        let path = real_dir.join(name);
        return regular_size(fs::metadata(&path)).map(|size| (path, size));
    }
    // Walk the name one component at a time: without symbolic links the
    // lexical path is the real one, and one lstat() per component is much
    // cheaper than realpath() on every file of a big tree.
    let mut path = real_dir.to_path_buf();
    let mut depth = 0usize;
    let mut last = None;
    for component in name.components() {
        match component {
            Component::Normal(part) => {
                path.push(part);
                depth += 1;
                let meta = fs::symlink_metadata(&path).map_err(|e| io_status(&e))?;
                if meta.file_type().is_symlink() {
                    return locate_through_link(real_dir, &real_dir.join(name));
                }
                last = Some(Ok(meta));
            }
            Component::ParentDir => {
                depth = depth.checked_sub(1).ok_or(Status::Refused)?;
                path.pop();
                last = None;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return Err(Status::Refused),
        }
    }
    let meta = last.unwrap_or_else(|| fs::metadata(&path));
    regular_size(meta).map(|size| (path, size))
}

fn locate_through_link(real_dir: &Path, joined: &Path) -> Result<(PathBuf, u64), Status> {
    let real = fs::canonicalize(joined).map_err(|e| io_status(&e))?;
    if !real.starts_with(real_dir) {
        return Err(Status::Refused);
    }
    regular_size(fs::metadata(&real)).map(|size| (real, size))
}

fn regular_size(meta: io::Result<fs::Metadata>) -> Result<u64, Status> {
    match meta {
        Ok(m) if m.is_file() => Ok(m.len()),
        Ok(_) => Err(Status::Unreadable),
        Err(e) => Err(io_status(&e)),
    }
}

fn io_status(err: &io::Error) -> Status {
    if err.kind() == io::ErrorKind::NotFound {
        Status::Missing
    } else {
        Status::Unreadable
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{hash_bytes, Algo};
    use crate::manifest::parse;
    use crate::test_support::tree;

    fn line(content: &str, name: &str) -> String {
        format!("{}  {name}\n", hash_bytes(Algo::Sha1, content.as_bytes()))
    }

    fn statuses(
        dir: &Path,
        manifest: &str,
        allow_outside: bool,
        threads: usize,
    ) -> Vec<&'static str> {
        let entries = parse(manifest.as_bytes(), None).entries;
        let rt = Runtime::new(threads, None);
        let inline = verify_entries(dir, &entries, allow_outside, &rt, None).unwrap();
        let rt = rt.all_on_workers();
        let outcomes = verify_entries(dir, &entries, allow_outside, &rt, None).unwrap();
        assert_eq!(inline, outcomes, "inline and on workers");
        outcomes.iter().map(|o| o.status.name()).collect()
    }

    #[test]
    fn every_status_in_manifest_order() {
        let outside = tree(&[("secret", "s")]);
        let dir = tree(&[("a", "A"), ("b", "B"), ("sub/c", "C"), ("sub/d/e", "E")]);
        let abs = outside.path().join("secret");
        let manifest = [
            line("A", "a"),
            line("wrong", "b"),
            line("C", "sub/c"),
            line("x", "nope"),
            line("x", "sub"),
            line("s", "../secret"),
            line("s", abs.to_str().unwrap()),
            line("A", "sub/../a"),
            line("E", "./sub/d/../d/e"),
            line("x", "sub/../../x"),
            line("A", "nope/../a"),
        ]
        .concat();
        let want = [
            "ok",
            "mismatch",
            "ok",
            "missing",
            "unreadable",
            "refused",
            "refused",
            "ok",
            "ok",
            "refused",
            "missing",
        ];
        for threads in [1, 2] {
            assert_eq!(statuses(dir.path(), &manifest, false, threads), want);
        }
        let allowed = statuses(dir.path(), &manifest, true, 2);
        assert_eq!(
            allowed[5..7],
            ["missing", "ok"],
            "../secret is not next to dir"
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_only_inside() {
        let outside = tree(&[("secret", "s")]);
        let dir = tree(&[("a", "A")]);
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("out")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("in")).unwrap();
        let manifest = [line("s", "out"), line("A", "in")].concat();
        for threads in [1, 2] {
            assert_eq!(
                statuses(dir.path(), &manifest, false, threads),
                ["refused", "ok"]
            );
        }
        assert_eq!(statuses(dir.path(), &manifest, true, 2), ["ok", "ok"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn openat2_settles_plain_names_and_keeps_going_after_a_nul() {
        let dir = tree(&[("a", "A"), ("sub/b", "B")]);
        let beneath = Beneath::open(&fs::canonicalize(dir.path()).unwrap()).unwrap();
        let opened = |name: &str| beneath.open_file(Path::new(name));
        if !matches!(opened("sub/b"), Opened::File(_)) {
            // An old kernel, or a sandbox that filters the call.
            assert!(!beneath.available.load(Ordering::Relaxed));
            return;
        }
        assert!(matches!(opened("nope"), Opened::Failed(Status::Missing)));
        assert!(matches!(opened("a\0b"), Opened::Failed(Status::Missing)));
        assert!(matches!(opened("../x"), Opened::Undecided));
        assert!(
            beneath.available.load(Ordering::Relaxed),
            "still in use after a NUL"
        );
    }

    #[cfg(unix)]
    #[test]
    fn fifo_is_unreadable_at_once() {
        let dir = tree(&[("a", "A")]);
        crate::test_support::fifo(&dir.path().join("fifo"));
        let started = std::time::Instant::now();
        let got = statuses(
            dir.path(),
            &[line("", "fifo"), line("A", "a")].concat(),
            false,
            2,
        );
        assert_eq!(got, ["unreadable", "ok"]);
        assert!(started.elapsed().as_secs() < 2);
    }

    #[test]
    fn actual_digest_and_progress() {
        let dir = tree(&[("a", "hello"), ("b", "world!")]);
        let entries = parse(
            [line("hello", "a"), line("x", "b")].concat().as_bytes(),
            None,
        )
        .entries;
        let progress = Progress::default();
        let out = verify_entries(
            dir.path(),
            &entries,
            false,
            &Runtime::new(2, None),
            Some(&progress),
        )
        .unwrap();
        assert_eq!(
            out[1].actual.as_deref(),
            Some(hash_bytes(Algo::Sha1, b"world!").as_str())
        );
        assert_eq!(progress.bytes_total.load(Ordering::Relaxed), 11);
        assert_eq!(progress.bytes_done.load(Ordering::Relaxed), 11);
        assert_eq!(progress.files_done.load(Ordering::Relaxed), 2);
        let rt = Runtime::new(2, None);
        rt.cancel().set();
        let err = verify_entries(dir.path(), &entries, false, &rt, None).unwrap_err();
        assert_eq!(err.kind(), "interrupt");
    }
}
