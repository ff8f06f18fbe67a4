//! Names opened under a directory by path, where there is no `openat()`
//! (Windows): each name is resolved first (one look per component, the
//! canonical path once a link is met) and opened only when it lies inside.
//! Unlike `beneath.rs`, a link swapped in between the check and the open
//! is not caught. Never touches R.

use crate::fileio::open_nonblocking;
use crate::status::Denied;
use std::fs::{self, File};
use std::io;
use std::path::{Component, Path, PathBuf};

/// The directory names are opened under, as its canonical path.
pub struct Beneath {
    real_dir: PathBuf,
}

impl Beneath {
    pub fn open(dir: &Path) -> io::Result<Beneath> {
        Ok(Beneath {
            real_dir: fs::canonicalize(dir)?,
        })
    }

    /// The file `name` denotes under the directory, opened for reading;
    /// not yet checked to be a regular file.
    pub fn open_file(&self, name: &Path) -> Result<File, Denied> {
        let path = self.locate(name)?;
        open_nonblocking(&path).map_err(Denied::from_io)
    }

    /// Where `name` leads, when that is inside the directory. Without
    /// links the lexical path is the real one.
    fn locate(&self, name: &Path) -> Result<PathBuf, Denied> {
        let mut path = self.real_dir.clone();
        let mut depth = 0usize;
        for component in name.components() {
            match component {
                Component::Normal(part) => {
                    path.push(part);
                    depth += 1;
                    let meta = fs::symlink_metadata(&path).map_err(Denied::from_io)?;
                    if meta.file_type().is_symlink() {
                        let real =
                            fs::canonicalize(self.real_dir.join(name)).map_err(Denied::from_io)?;
                        return if real.starts_with(&self.real_dir) {
                            Ok(real)
                        } else {
                            Err(Denied::refused())
                        };
                    }
                }
                Component::ParentDir => {
                    depth = depth.checked_sub(1).ok_or_else(Denied::refused)?;
                    path.pop();
                }
                Component::CurDir => {}
                Component::RootDir | Component::Prefix(_) => return Err(Denied::refused()),
            }
        }
        Ok(path)
    }
}
