//! Writes manifests: hashes files under a directory as the runtime
//! decides, and replaces the manifest atomically with GNU lines that
//! `sha1sum -c` accepts. Never touches R.

use crate::errors::RwError;
use crate::fileio::write_atomic;
use crate::hash::{hash_files, Algo};
use crate::manifest::format_line;
use crate::runtime::{Progress, Runtime};
use crate::tree::name_to_path;
use std::path::{Path, PathBuf};

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
