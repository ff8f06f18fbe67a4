//! Writes manifests: hashes files under a directory as the runtime
//! decides (each opened through [`Confined`], never outside it), and
//! replaces the manifest atomically with GNU lines that `sha1sum -c`
//! accepts. Never touches R.

use crate::errors::quoted;
use crate::errors::RwError;
use crate::fileio::write_atomic;
use crate::hash::{hash_each, Algo};
use crate::manifest::format_line;
use crate::runtime::{Progress, Runtime};
use crate::tree::{escapes, name_to_path, Confined};
use std::path::Path;

/// Hashes `names` (relative to `dir`) and writes `manifest` atomically.
/// Returns each name with its digest, in the order given. A name that
/// leads outside `dir` is refused, and any file that cannot be read is an
/// error, before anything is written: no manifest silently leaves a file
/// out, and none lists a line that `verify()` would refuse.
pub fn write_signatures(
    dir: &Path,
    manifest: &Path,
    names: &[Vec<u8>],
    algo: Algo,
    rt: &Runtime,
    progress: Option<&Progress>,
) -> Result<Vec<(Vec<u8>, String)>, RwError> {
    check_names(names)?;
    let confined = Confined::new(dir, false)?;
    let digests = hash_names(&confined, names, algo, rt, progress)?;
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

/// Fails on the first name that leads outside the directory on its face
/// (absolute, or through `..`): `verify()` would refuse its line.
pub fn check_names(names: &[Vec<u8>]) -> Result<(), RwError> {
    match names.iter().find(|n| escapes(&name_to_path(n))) {
        Some(name) => Err(RwError::Value {
            arg: "files",
            reason: format!(
                "names {}, which is absolute or leads outside `dir` (verify() would refuse it)",
                quoted(name)
            ),
        }),
        None => Ok(()),
    }
}

/// The digest of each of `names` under the directory, or why not (a name
/// that leads outside through a link is an I/O error naming it).
pub fn hash_names(
    confined: &Confined,
    names: &[Vec<u8>],
    algo: Algo,
    rt: &Runtime,
    progress: Option<&Progress>,
) -> Result<Vec<Result<Vec<String>, RwError>>, RwError> {
    let open = |name: &Vec<u8>| confined.open_reason(&name_to_path(name));
    let size = |name: &Vec<u8>| confined.size(&name_to_path(name)).unwrap_or(0);
    hash_each(&[algo], names, open, size, rt, progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse;
    use crate::runtime::Runtime;
    use crate::status::Status;
    use crate::test_support::{assert_says, tree};
    use crate::tree::{list_files, Confined};
    use crate::verify::verify_entries;
    use std::fs;

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
            let confined = Confined::new(dir.path(), false).unwrap();
            let outcomes = verify_entries(&confined, &parsed.entries, &rt, None).unwrap();
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
