//! A directory's names and opening them without leaving it: how a
//! manifest name becomes a path, how a tree is listed and named (`/`
//! between components, sorted bytewise), and [`Confined`], which opens and
//! locates names relative to a directory, refusing those that lead outside
//! it through `..` or a symbolic link. Never touches R; safe on worker
//! threads.

use crate::errors::RwError;
use crate::fileio::{open_regular, OpenFile};
use crate::status::Status;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

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

/// Names (relative to `dir`, `/`-separated, sorted bytewise) of the regular
/// files under `dir`, not following symbolic links, without `skip` and
/// without what `exclude` leaves out (a folder it excludes is not entered).
pub fn list_files(
    dir: &Path,
    skip: Option<&Path>,
    exclude: Option<&Exclude>,
) -> Result<Vec<Vec<u8>>, RwError> {
    let skip = skip.and_then(|m| relative_to(dir, m));
    let mut names = Vec::new();
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|item| {
            let relative = item.path().strip_prefix(dir).unwrap_or(item.path());
            item.depth() == 0
                || exclude.map_or(true, |x| !x.excludes(relative, item.file_type().is_dir()))
        });
    for item in walk {
        let item = item.map_err(|e| listing_error(dir, e))?;
        if !item.file_type().is_file() {
            continue;
        }
        let relative = item.path().strip_prefix(dir).unwrap_or(item.path());
        if skip.as_deref() == Some(relative) {
            continue;
        }
        names.push(slash_name(relative));
    }
    names.sort();
    Ok(names)
}

/// What a listing leaves out: glob patterns with `.gitignore`'s rules,
/// matched against names relative to the listed directory with `/`
/// between folders (a pattern without a `/` but at its end matches in
/// every folder, one with a `/` from the top; `!` takes a name back, but
/// never out of a folder left out; a trailing `/` matches folders only).
/// The `ignore` crate's gitignore matcher, as ripgrep uses it.
pub struct Exclude {
    matcher: ignore::gitignore::Gitignore,
}

impl Exclude {
    /// The patterns, in order (a later one wins); a pattern that is not a
    /// glob is a `Value` error naming the argument `exclude`.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Exclude, RwError> {
        let mut builder = ignore::gitignore::GitignoreBuilder::new("");
        for pattern in patterns {
            let pattern = pattern.as_ref();
            builder
                .add_line(None, pattern)
                .map_err(|e| RwError::Value {
                    arg: "exclude",
                    reason: format!("holds '{pattern}', which is not a glob: {}", glob_error(&e)),
                })?;
        }
        let matcher = builder.build().map_err(|e| RwError::Value {
            arg: "exclude",
            reason: format!("is not a set of globs: {e}"),
        })?;
        Ok(Exclude { matcher })
    }

    /// Whether the file (or folder) at `relative` is left out by the
    /// patterns themselves (a listing does not enter folders left out).
    pub fn excludes(&self, relative: &Path, is_dir: bool) -> bool {
        self.matcher.matched(relative, is_dir).is_ignore()
    }

    /// Whether the file a manifest or the user names (relative to the
    /// directory, `/`-separated) is left out, by itself or by a folder
    /// above it; a name that leads outside the directory never is.
    pub fn excludes_name(&self, name: &[u8]) -> bool {
        let Some(name) = normal_name(name) else {
            return false;
        };
        // As a listing meets it: each folder from the top, then the file.
        let folders = name.iter().enumerate().filter(|(_, &b)| b == b'/');
        let mut paths: Vec<(&[u8], bool)> = folders.map(|(i, _)| (&name[..i], true)).collect();
        paths.push((&name, false));
        paths
            .into_iter()
            .any(|(path, is_dir)| self.excludes(&name_to_path(path), is_dir))
    }
}

/// The glob's own complaint, without the crate's "error parsing glob" and
/// the pattern repeated.
fn glob_error(e: &ignore::Error) -> String {
    let text = e.to_string();
    match text.split_once("': ") {
        Some((_, reason)) if text.starts_with("error parsing glob") => reason.to_string(),
        _ => text,
    }
}

/// A manifest name as a listing spells it (`./a` and `sub//../a` are `a`),
/// or `None` for one that is absolute or leads outside.
pub fn normal_name(name: &[u8]) -> Option<Vec<u8>> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in name.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    (!name.starts_with(b"/") && !parts.is_empty()).then(|| parts.join(&b'/'))
}

/// A failure to list a directory tree, with the path and the OS's reason.
pub fn listing_error(dir: &Path, e: walkdir::Error) -> RwError {
    let path = e.path().unwrap_or(dir).to_path_buf();
    match e.into_io_error() {
        Some(io) => RwError::io("list", &path, io),
        None => RwError::io_reason("list", &path, "file system loop"),
    }
}

/// `path` relative to `dir` when it lies directly or deeply inside it
/// (resolving symbolic links of both), whether or not `path` exists yet.
fn relative_to(dir: &Path, path: &Path) -> Option<PathBuf> {
    let real_dir = fs::canonicalize(dir).ok()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let real_path = fs::canonicalize(parent).ok()?.join(path.file_name()?);
    real_path
        .strip_prefix(&real_dir)
        .ok()
        .map(Path::to_path_buf)
}

/// A relative path's bytes with `/` between its components, whatever the
/// platform's separator: how manifests name files.
pub fn slash_name(relative: &Path) -> Vec<u8> {
    let parts: Vec<&[u8]> = relative
        .components()
        .map(|c| c.as_os_str().as_encoded_bytes())
        .collect();
    parts.join(&b'/')
}

/// Opens files by their names relative to a directory, and never outside
/// it unless allowed: how `verify()` opens each entry, and how a bag's
/// files are read. Making one opens the directory once; each name then
/// costs one `openat2(RESOLVE_BENEATH)` where the kernel has it.
pub struct Confined<'a> {
    dir: &'a Path,
    real_dir: RealDir<'a>,
    beneath: Option<Beneath>,
    allow_outside: bool,
}

impl<'a> Confined<'a> {
    /// Names under `dir`; with `allow_outside`, names that are absolute or
    /// lead outside it are followed too. Where the kernel cannot confine
    /// the names, the directory is resolved now, so that a missing one is
    /// an error rather than a missing file per name.
    pub fn new(dir: &'a Path, allow_outside: bool) -> Result<Self, RwError> {
        let beneath = if allow_outside {
            None
        } else {
            Beneath::open(dir)
        };
        // The canonical directory costs a system call per component; with
        // openat2 most names never need it.
        Ok(Confined {
            dir,
            real_dir: RealDir::new(dir, beneath.is_none())?,
            beneath,
            allow_outside,
        })
    }

    /// Names confined to `dir`, which is resolved now: fails when it
    /// cannot be (a bag that is not there).
    pub fn resolved(dir: &'a Path) -> Result<Self, RwError> {
        let confined = Confined::new(dir, false)?;
        confined.resolve()?;
        Ok(confined)
    }

    /// Fails when the directory cannot be resolved: for callers that want
    /// that said once, before any name.
    pub fn resolve(&self) -> Result<(), RwError> {
        self.real_dir.resolve()
    }

    /// The regular file `name` denotes, or the status that stops it from
    /// being read (`Refused` when it leads outside, by `..` or a link).
    /// The kernel's `openat2(RESOLVE_BENEATH)` settles most names in one
    /// call; names it will not resolve, and systems without it, go the
    /// long way.
    pub fn open(&self, name: &Path) -> Result<OpenFile, Status> {
        match self
            .beneath
            .as_ref()
            .map_or(Opened::Undecided, |b| b.open_file(name))
        {
            Opened::File(file) => {
                return OpenFile::new(file, &self.dir.join(name)).map_err(|_| Status::Unreadable)
            }
            Opened::Failed(status) => return Err(status),
            Opened::Undecided => {}
        }
        let (path, _) = self.locate(name)?;
        open_regular(&path).map_err(|_| Status::Unreadable)
    }

    /// Where `name` leads and the size of the regular file there, or why not.
    pub fn locate(&self, name: &Path) -> Result<(PathBuf, u64), Status> {
        locate(self.real_dir.get()?, name, self.allow_outside)
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
        let real_dir = RealDir {
            dir,
            real: OnceLock::new(),
        };
        if now {
            real_dir.resolve()?;
        }
        Ok(real_dir)
    }

    /// Resolves it now, unless it was found already: an error when it
    /// cannot be.
    fn resolve(&self) -> Result<(), RwError> {
        if self.real.get().is_none() {
            let path = fs::canonicalize(self.dir)
                .map_err(|e| RwError::io("open directory", self.dir, e))?;
            let _ = self.real.set(Some(path));
        }
        Ok(())
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
            // EAGAIN: a `..` met a rename elsewhere on the system, and the
            // kernel could not vouch for it; the long way can.
            Err(Errno::XDEV | Errno::LOOP | Errno::AGAIN) => Opened::Undecided,
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

/// Where the file named `name` is and its size, or the status that stops it
/// from being hashed. `real_dir` must be canonical.
fn locate(real_dir: &Path, name: &Path, allow_outside: bool) -> Result<(PathBuf, u64), Status> {
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
    use crate::test_support::tree;

    #[test]
    fn listing_is_sorted_recursive_and_skips_the_manifest() {
        let dir = tree(&["b", "a/z", "a/b c", "A", "sha1sum.txt"].map(|n| (n, n)));
        fs::create_dir(dir.path().join("empty")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("b"), dir.path().join("link")).unwrap();
        let manifest = dir.path().join("sha1sum.txt");
        let names = list_files(dir.path(), Some(&manifest), None).unwrap();
        let names: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        assert_eq!(names, vec![&b"A"[..], b"a/b c", b"a/z", b"b"]);
        let all = list_files(dir.path(), None, None).unwrap();
        assert_eq!(all.len(), 5);
    }

    #[test]
    fn exclude_follows_gitignore_rules() {
        let files = [
            "a.tmp",
            "sub/b.tmp",
            "keep.tmp",
            "top.txt",
            "sub/top.txt",
            "cache/x",
            "sub/cache/y",
            ".DS_Store",
            "sub/.DS_Store",
            "logs/2026/z.log",
            "logs/readme",
            "plain",
        ];
        let dir = tree(&files.map(|n| (n, n)));
        let exclude = Exclude::new(&[
            "*.tmp",
            "!keep.tmp",
            "/top.txt",
            "cache/**",
            ".DS_Store",
            "logs/**/*.log",
        ])
        .unwrap();
        let names = list_files(dir.path(), None, Some(&exclude)).unwrap();
        let names: Vec<&str> = names
            .iter()
            .map(|n| std::str::from_utf8(n).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "keep.tmp",
                "logs/readme",
                "plain",
                "sub/cache/y",
                "sub/top.txt"
            ]
        );
        // A folder left out is not entered: nothing in it comes back.
        let folder = Exclude::new(&["sub/", "!sub/top.txt"]).unwrap();
        let names = list_files(dir.path(), None, Some(&folder)).unwrap();
        assert!(!names.iter().any(|n| n.starts_with(b"sub/")));
        assert!(folder.excludes_name(b"sub/top.txt"));
        assert!(folder.excludes_name(b"./sub//x"));
        assert!(!folder.excludes_name(b"../sub/x"));
        assert!(!folder.excludes_name(b"/abs/sub/x"));
        assert!(!Exclude::new(&[] as &[&str]).unwrap().excludes_name(b"a"));
    }

    #[test]
    fn a_bad_glob_is_a_value_error_naming_exclude() {
        for bad in ["a{b", "[z-a]", "x\\"] {
            let err = Exclude::new(&["*.tmp", bad]).err().unwrap();
            assert_eq!(err.kind(), "value");
            let message = err.to_string();
            assert!(message.starts_with("`exclude` holds '"), "{message}");
            assert!(message.contains(bad), "{message}");
        }
    }

    #[test]
    fn names_are_compared_as_the_listing_spells_them() {
        assert_eq!(normal_name(b"./a//b/./c"), Some(b"a/b/c".to_vec()));
        assert_eq!(normal_name(b"a/../b"), Some(b"b".to_vec()));
        assert_eq!(normal_name(b"../x"), None);
        assert_eq!(normal_name(b"/etc/passwd"), None);
        assert_eq!(normal_name(b"."), None);
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
}
