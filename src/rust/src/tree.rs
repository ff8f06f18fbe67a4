//! A directory's names and opening them without leaving it: how a
//! manifest name becomes a path, how a tree is listed and named (`/`
//! between components, sorted bytewise), and [`Confined`], which opens
//! names relative to a directory, refusing those that lead outside it
//! through `..` or a symbolic link (`tree/`). Never touches R; safe on
//! worker threads.

#[cfg(unix)]
mod beneath;
#[cfg(not(unix))]
mod by_path;
mod confined;
mod exclude;
#[cfg(test)]
mod tests;

pub use confined::{escapes, Confined};
pub use exclude::{normal_name, Exclude};

use crate::errors::RwError;
use std::fs;
use std::path::{Path, PathBuf};

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
