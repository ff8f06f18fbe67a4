//! [`Confined`]: files opened by their names relative to a directory, and
//! never outside it unless allowed. On Unix the kernel keeps each open
//! inside, at the moment of the open (`beneath.rs`); elsewhere the name is
//! resolved and checked first (`by_path.rs`). Never touches R; safe on
//! worker threads.

#[cfg(unix)]
use super::beneath::Beneath;
#[cfg(not(unix))]
use super::by_path::Beneath;
use crate::errors::RwError;
use crate::fileio::{open_nonblocking, OpenFile};
use crate::status::{Denied, Status};
use std::io;
use std::path::{Component, Path};

/// Opens files by their names relative to a directory, and never outside
/// it unless allowed: how `verify()` opens each entry, and how a bag's
/// files, an audit's extra files and `write_signatures()`'s files are
/// read. Making one opens the directory once; each name is then opened
/// relative to it (on Linux, one `openat2()` call for most names).
pub struct Confined<'a> {
    dir: &'a Path,
    /// `None` with `allow_outside`: names are then opened by path.
    beneath: Option<Beneath>,
}

impl<'a> Confined<'a> {
    /// Names under `dir`; with `allow_outside`, names that are absolute or
    /// lead outside it are opened too, by path. Fails when `dir` cannot be
    /// opened (it is missing, or not a directory).
    pub fn new(dir: &'a Path, allow_outside: bool) -> Result<Self, RwError> {
        let fail = |e: io::Error| RwError::io("open directory", dir, e);
        let beneath = if allow_outside {
            if !std::fs::metadata(dir).map_err(fail)?.is_dir() {
                return Err(RwError::io_reason("open directory", dir, "not a directory"));
            }
            None
        } else {
            Some(Beneath::open(dir).map_err(fail)?)
        };
        Ok(Confined { dir, beneath })
    }

    /// Opens names by the walk alone, as where `openat2()` is missing.
    #[cfg(all(test, unix))]
    pub fn walk_only(&self) {
        if let Some(beneath) = &self.beneath {
            beneath.walk_only();
        }
    }

    /// The directory, as given.
    pub fn dir(&self) -> &Path {
        self.dir
    }

    /// The regular file `name` denotes, or the status that stops it from
    /// being read (`Refused` when it leads outside, by `..` or a link,
    /// whether or not anything is there).
    pub fn open(&self, name: &Path) -> Result<OpenFile, Status> {
        self.open_why(name).map_err(|denied| denied.status)
    }

    /// As [`Confined::open`], with why not as an error naming the path.
    pub fn open_reason(&self, name: &Path) -> Result<OpenFile, RwError> {
        self.open_why(name).map_err(|denied| {
            let path = self.dir.join(name);
            match denied.status {
                Status::Refused => RwError::io_reason(
                    "open",
                    &path,
                    "it leads outside the directory (through a symbolic link)",
                ),
                _ => RwError::io("open", &path, denied.source),
            }
        })
    }

    /// The size of the regular file `name` denotes, or why it has none.
    pub fn size(&self, name: &Path) -> Result<u64, Status> {
        self.open(name).map(|file| file.size)
    }

    fn open_why(&self, name: &Path) -> Result<OpenFile, Denied> {
        let path = self.dir.join(name);
        let file = match &self.beneath {
            None => open_nonblocking(&path).map_err(Denied::from_io)?,
            Some(beneath) => beneath.open_file(name)?,
        };
        OpenFile::new(file, &path).map_err(|e| Denied {
            status: Status::Unreadable,
            source: io::Error::other(e.reason()),
        })
    }
}

/// Whether `name` leads outside a directory on its face: absolute, or
/// with more `..` than names before them. (A link can lead outside too;
/// only opening the name tells.)
pub fn escapes(name: &Path) -> bool {
    let mut depth = 0usize;
    for component in name.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::ParentDir => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return true,
        }
    }
    false
}
