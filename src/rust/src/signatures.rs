//! Writes manifests: lists the regular files under a directory, hashes them
//! as the runtime decides, and replaces the manifest
//! atomically with GNU lines that `sha1sum -c` accepts. Never touches R.

use crate::errors::RwError;
use crate::fileio::write_atomic;
use crate::hash::{hash_files, Algo};
use crate::manifest::format_line;
use crate::runtime::{Progress, Runtime};
use crate::verify::name_to_path;
use std::fs;
use std::path::{Path, PathBuf};

/// Names (relative to `dir`, `/`-separated, sorted bytewise) of the regular
/// files under `dir`, not following symbolic links, without `skip`.
pub fn list_files(dir: &Path, skip: Option<&Path>) -> Result<Vec<Vec<u8>>, RwError> {
    let skip = skip.and_then(|m| relative_to(dir, m));
    let mut names = Vec::new();
    for item in walkdir::WalkDir::new(dir).follow_links(false) {
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

/// Hashes `names` (relative to `dir`) and writes `manifest` atomically.
/// Returns each name with its digest, in the order given. Any file that
/// cannot be read is an error, so that no manifest silently leaves one out.
pub fn write_signatures(
    dir: &Path,
    manifest: &Path,
    names: &[Vec<u8>],
    algo: Algo,
    rt: &Runtime,
    progress: Option<&Progress>,
) -> Result<Vec<(Vec<u8>, String)>, RwError> {
    let paths: Vec<PathBuf> = names.iter().map(|n| dir.join(name_to_path(n))).collect();
    let digests = hash_files(&[algo], &paths, rt, progress)?;
    let mut signed = Vec::with_capacity(names.len());
    let mut text = Vec::new();
    for (name, digest) in names.iter().zip(digests) {
        let digest = digest?.pop().unwrap_or_default();
        text.extend(format_line(&digest, name));
        signed.push((name.clone(), digest));
    }
    write_atomic(manifest, &text)?;
    Ok(signed)
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
pub(crate) fn slash_name(relative: &Path) -> Vec<u8> {
    let parts: Vec<&[u8]> = relative
        .components()
        .map(|c| c.as_os_str().as_encoded_bytes())
        .collect();
    parts.join(&b'/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse;
    use crate::runtime::Runtime;
    use crate::test_support::{assert_says, tree};
    use crate::verify::{verify_entries, Status};

    #[test]
    fn listing_is_sorted_recursive_and_skips_the_manifest() {
        let dir = tree(&["b", "a/z", "a/b c", "A", "sha1sum.txt"].map(|n| (n, n)));
        fs::create_dir(dir.path().join("empty")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("b"), dir.path().join("link")).unwrap();
        let manifest = dir.path().join("sha1sum.txt");
        let names = list_files(dir.path(), Some(&manifest)).unwrap();
        let names: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        assert_eq!(names, vec![&b"A"[..], b"a/b c", b"a/z", b"b"]);
        let all = list_files(dir.path(), None).unwrap();
        assert_eq!(all.len(), 5);
    }

    #[test]
    fn written_manifest_verifies_with_awkward_names() {
        let mut awkward = vec!["plain", "sp ace", "caf\u{e9}", "sub/x (1)"];
        // Names that Windows does not allow.
        if cfg!(unix) {
            awkward.extend(["back\\slash", "new\nline", "cr\rname", "sub/x*y"]);
        }
        let dir = tree(&awkward.iter().map(|&n| (n, n)).collect::<Vec<_>>());
        let manifest = dir.path().join("sha1sum.txt");
        for algo in Algo::ALL {
            let names = list_files(dir.path(), Some(&manifest)).unwrap();
            let rt = Runtime::new(2, None).all_on_workers();
            let signed = write_signatures(dir.path(), &manifest, &names, algo, &rt, None).unwrap();
            assert_eq!(signed.len(), awkward.len());
            let parsed = parse(&fs::read(&manifest).unwrap(), Some(algo));
            assert!(parsed.malformed.is_empty());
            let outcomes = verify_entries(dir.path(), &parsed.entries, false, &rt, None).unwrap();
            assert!(
                outcomes.iter().all(|o| o.status == Status::Ok),
                "{outcomes:?}"
            );
        }
    }

    #[test]
    fn unreadable_file_is_an_error_and_no_manifest_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("m.txt");
        let names = vec![b"missing".to_vec()];
        let err = write_signatures(
            dir.path(),
            &manifest,
            &names,
            Algo::Sha1,
            &Runtime::new(1, None),
            None,
        )
        .unwrap_err();
        assert_eq!(err.kind(), "io");
        assert_says(&err, "missing");
        assert!(!manifest.exists());
    }
}
