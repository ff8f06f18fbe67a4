//! Names opened beneath a directory descriptor on Unix, with the kernel
//! keeping every step inside: Linux's `openat2(RESOLVE_BENEATH)` where it
//! is available, else (and for the names it will not resolve: absolute
//! links, links that leave) a walk one component at a time, each opened
//! with `O_NOFOLLOW` relative to the descriptor of the one before, links
//! read with `readlinkat()` and followed by hand, `..` taken from the walk's
//! own stack of descriptors. No path is ever checked and then opened
//! again, so swapping a directory for a link while the walk runs can
//! refuse a name but never lead outside. Never touches R.

use crate::status::Denied;
use rustix::fs::{openat, readlinkat, Mode, OFlags};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// At most this many symbolic links are followed for one name, as the
/// kernel follows at most 40 (`ELOOP` after that).
pub const MAX_LINKS: usize = 40;

/// The directory names are opened beneath: its descriptor, and the
/// absolute forms an absolute link inside it may start with, found when
/// the first such link is met.
pub struct Beneath {
    root: OwnedFd,
    dir: PathBuf,
    prefixes: OnceLock<Vec<PathBuf>>,
    /// Cleared when the kernel turns out not to have `openat2()`.
    #[cfg(target_os = "linux")]
    openat2: AtomicBool,
}

/// A directory component on the way: searched only, never read.
#[cfg(target_os = "linux")]
const DIR_FLAGS: OFlags = OFlags::PATH
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);
#[cfg(not(target_os = "linux"))]
const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NONBLOCK)
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// The file itself: opened without blocking, so a FIFO or a device answers
/// at once (and is then refused for not being a regular file).
const FILE_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NONBLOCK)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC)
    .union(OFlags::NOCTTY);

impl Beneath {
    /// Opens `dir` (following links on the way to it: the user named it).
    pub fn open(dir: &Path) -> io::Result<Beneath> {
        let root = openat(
            rustix::fs::CWD,
            dir,
            DIR_FLAGS.difference(OFlags::NOFOLLOW),
            Mode::empty(),
        )?;
        Ok(Beneath {
            root,
            dir: dir.to_path_buf(),
            prefixes: OnceLock::new(),
            #[cfg(target_os = "linux")]
            openat2: AtomicBool::new(true),
        })
    }

    /// The file `name` (relative, `/`-separated bytes) denotes beneath the
    /// directory, opened for reading without blocking; not yet checked to
    /// be a regular file. `Refused` when it leads outside, whether or not
    /// anything is there.
    pub fn open_file(&self, name: &Path) -> Result<File, Denied> {
        let name = name.as_os_str().as_bytes();
        if name.first() == Some(&b'/') {
            return Err(Denied::refused());
        }
        // No file has such a name.
        if name.contains(&0) {
            return Err(denied(Errno::NOENT));
        }
        #[cfg(target_os = "linux")]
        if let Some(settled) = self.try_openat2(name) {
            return settled.map(File::from);
        }
        self.walk(name).map(File::from)
    }

    /// Names are opened by the walk alone, as where `openat2()` is missing.
    #[cfg(test)]
    pub fn walk_only(&self) {
        #[cfg(target_os = "linux")]
        self.openat2.store(false, Ordering::Relaxed);
    }

    /// `openat2(RESOLVE_BENEATH)`: one system call for a name without
    /// links, or with links that stay inside. `None` when the walk must
    /// decide: the name leaves, or goes through an absolute link, or the
    /// kernel lacks the call.
    #[cfg(target_os = "linux")]
    fn try_openat2(&self, name: &[u8]) -> Option<Result<OwnedFd, Denied>> {
        use rustix::fs::{openat2, ResolveFlags};
        if !self.openat2.load(Ordering::Relaxed) {
            return None;
        }
        let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        let flags = FILE_FLAGS.difference(OFlags::NOFOLLOW);
        match openat2(&self.root, name, flags, Mode::empty(), resolve) {
            Ok(fd) => Some(Ok(fd)),
            // EAGAIN: a rename raced the lookup; the walk is not troubled.
            Err(Errno::XDEV | Errno::LOOP | Errno::AGAIN) => None,
            // Older kernels, and sandboxes that filter the call.
            Err(Errno::NOSYS | Errno::PERM | Errno::INVAL | Errno::TOOBIG) => {
                self.openat2.store(false, Ordering::Relaxed);
                None
            }
            Err(errno) => Some(Err(denied(errno))),
        }
    }

    /// The walk, one component at a time (see the module's comment).
    fn walk(&self, name: &[u8]) -> Result<OwnedFd, Denied> {
        // Components still to walk, the next one last.
        let mut pending: Vec<Vec<u8>> = Vec::new();
        push_components(&mut pending, name);
        // The directories walked into below the root, the current one last.
        let mut dirs: Vec<OwnedFd> = Vec::new();
        let mut links = 0usize;
        while let Some(part) = pending.pop() {
            match part.as_slice() {
                b"." => continue,
                b".." => {
                    dirs.pop().ok_or_else(Denied::refused)?;
                    continue;
                }
                _ => {}
            }
            let here: BorrowedFd = dirs.last().map_or(self.root.as_fd(), AsFd::as_fd);
            let last = pending.is_empty();
            let flags = if last { FILE_FLAGS } else { DIR_FLAGS };
            let errno = match openat(here, part.as_slice(), flags, Mode::empty()) {
                Ok(fd) if last => return Ok(fd),
                Ok(fd) => {
                    dirs.push(fd);
                    continue;
                }
                Err(errno) => errno,
            };
            // A link opened with O_NOFOLLOW fails (ELOOP, or ENOTDIR for a
            // directory component; EMLINK or EFTYPE on some BSDs): read it
            // and follow it by hand.
            if !matches!(errno, Errno::LOOP | Errno::NOTDIR | Errno::MLINK) {
                return Err(denied(errno));
            }
            // Each look counts against the budget, so that a name being
            // swapped back and forth cannot keep the walk going.
            links += 1;
            if links > MAX_LINKS {
                return Err(denied(Errno::LOOP));
            }
            let target = match readlinkat(here, part.as_slice(), Vec::new()) {
                Ok(target) => target.into_bytes(),
                // Not a link (any more): swapped since the open, which is
                // tried again; or a file on the way (ENOTDIR), which stands.
                Err(Errno::INVAL) if errno != Errno::NOTDIR || changed(here, &part) => {
                    pending.push(part);
                    continue;
                }
                Err(Errno::INVAL) => return Err(denied(errno)),
                Err(other) => return Err(denied(other)),
            };
            if target.is_empty() {
                return Err(denied(Errno::NOENT));
            }
            if target[0] == b'/' {
                // Allowed only when it points under the directory; then the
                // walk goes on from the root's descriptor, never by path.
                let rest = self.inside(&target).ok_or_else(Denied::refused)?;
                dirs.clear();
                push_components(&mut pending, &rest);
            } else {
                push_components(&mut pending, &target);
            }
        }
        // Nothing left to open: the name denotes a directory.
        Err(Denied::not_regular("directory"))
    }

    /// An absolute link target, relative to the directory when it lies
    /// under it (as its canonical path, or as the path it was opened by).
    fn inside(&self, target: &[u8]) -> Option<Vec<u8>> {
        let target = Path::new(OsStr::from_bytes(target));
        let prefixes = self.prefixes.get_or_init(|| {
            let mut prefixes: Vec<PathBuf> = std::fs::canonicalize(&self.dir).into_iter().collect();
            if let Ok(given) = std::path::absolute(&self.dir) {
                prefixes.push(given);
            }
            prefixes
        });
        prefixes.iter().find_map(|prefix| {
            let rest = target.strip_prefix(prefix).ok()?;
            // strip_prefix() drops a final `/`, which says "a directory".
            let mut rest = rest.as_os_str().as_bytes().to_vec();
            if target.as_os_str().as_bytes().ends_with(b"/") {
                rest.extend_from_slice(b"/.");
            }
            Some(rest)
        })
    }
}

/// Whether `part` in `here`, which the open just found to be no directory,
/// is a directory or a link now: it was swapped meanwhile.
fn changed(here: BorrowedFd, part: &[u8]) -> bool {
    use rustix::fs::{statat, AtFlags, FileType};
    statat(here, part, AtFlags::SYMLINK_NOFOLLOW).is_ok_and(|stat| {
        let kind = FileType::from_raw_mode(stat.st_mode);
        kind == FileType::Directory || kind == FileType::Symlink
    })
}

/// The status an error of the walk gives, with the reason.
fn denied(errno: Errno) -> Denied {
    Denied::from_io(io::Error::from(errno))
}

/// Pushes the components of `path` (relative) onto `pending`, the first
/// last. A final `/` becomes a final `.`, so that the component before it
/// is opened as a directory; a `.` is otherwise skipped.
fn push_components(pending: &mut Vec<Vec<u8>>, path: &[u8]) {
    if path.ends_with(b"/") {
        pending.push(b".".to_vec());
    }
    for part in path.split(|&b| b == b'/').rev() {
        if !part.is_empty() {
            pending.push(part.to_vec());
        }
    }
}
