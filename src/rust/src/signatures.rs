//! Writes manifests: hashes files under a directory as the runtime
//! decides (each opened through [`Confined`], never outside it), and
//! replaces the manifest atomically with lines that the tool of each
//! algorithm checks (`sha1sum -c`, `b3sum -c`, `xxhsum -c`, ...). Updates
//! one too: keeps the lines of files still there, adds lines for new files
//! (hashing only those), drops the lines of files gone. Never touches R.

use crate::errors::RwError;
use crate::errors::{quoted, quoted_in};
use crate::fileio::{read_bytes, write_atomic};
use crate::hash::{hash_each, Algo};
use crate::manifest::{format_record, parse, records, Entry, Reading};
use crate::runtime::{Progress, Runtime};
use crate::tree::{escapes, name_to_path, normal_name, Confined};
use std::collections::HashSet;
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
    let signed = sign(dir, names, algo, rt, progress)?;
    write_manifest(manifest, None, &signed, algo)?;
    Ok(signed)
}

/// `names` with their digests, in order; an error for the first name that
/// leads outside `dir` or file that cannot be read.
pub fn sign(
    dir: &Path,
    names: &[Vec<u8>],
    algo: Algo,
    rt: &Runtime,
    progress: Option<&Progress>,
) -> Result<Vec<(Vec<u8>, String)>, RwError> {
    check_names(names)?;
    let confined = Confined::new(dir, false)?;
    let digests = hash_names(&confined, names, algo, rt, progress)?;
    let mut signed = Vec::with_capacity(names.len());
    for (name, digest) in names.iter().zip(digests) {
        signed.push((name.clone(), digest?.pop().unwrap_or_default()));
    }
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

/// Replaces `manifest` atomically with the lines of `signed` (in `algo`'s
/// form). With `keep`, the lines of the existing manifest at those line
/// numbers come first, as they are, with its comments and empty lines; the
/// new lines then follow in its form (NUL-terminated records for a `-z`
/// manifest). Returns the bytes written.
pub fn write_manifest(
    manifest: &Path,
    keep: Option<&[usize]>,
    signed: &[(Vec<u8>, String)],
    algo: Algo,
) -> Result<u64, RwError> {
    let mut text = Vec::new();
    let mut zero = false;
    if let Some(keep) = keep {
        let existing = existing_manifest(manifest)?;
        let entries: HashSet<usize> = parse(&existing, Reading::default())
            .entries
            .iter()
            .map(|e| e.line)
            .collect();
        let (lines, nul) = records(&existing);
        zero = nul;
        for (i, line) in lines.into_iter().enumerate() {
            let number = i + 1;
            if !entries.contains(&number) || keep.contains(&number) {
                text.extend_from_slice(line);
                text.push(if zero { 0 } else { b'\n' });
            }
        }
    }
    for (name, digest) in signed {
        text.extend(format_record(algo, digest, name, zero));
    }
    write_atomic(manifest, &text)
}

/// An existing manifest's bytes; none when there is no such file yet.
fn existing_manifest(manifest: &Path) -> Result<Vec<u8>, RwError> {
    match read_bytes(manifest) {
        Err(RwError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(Vec::new())
        }
        other => other,
    }
}

/// What updating a manifest does: its entries kept (files still there),
/// the names to add (files it does not list yet, in the order given), and
/// the names of its entries dropped (files gone), as listed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Update {
    pub kept: Vec<Entry>,
    pub add: Vec<Vec<u8>>,
    pub dropped: Vec<Vec<u8>>,
}

impl Update {
    pub fn kept_lines(&self) -> Vec<usize> {
        self.kept.iter().map(|e| e.line).collect()
    }
}

/// The error for a manifest line of another algorithm than `algo`.
fn other_algo(algo: Algo, manifest: &Path, other: &Entry) -> RwError {
    let names: Vec<&str> = other.candidates().map(Algo::name).collect();
    let which = match names.as_slice() {
        [one] => format!("{one}: pass algo = \"{one}\" to update it"),
        _ => format!(
            "{} (by its length): pass the one that wrote it as `algo`",
            names.join(" or ")
        ),
    };
    RwError::Value {
        arg: "algo",
        reason: format!(
            "is \"{}\", but line {} of {} is {}",
            algo.name(),
            other.line,
            quoted(manifest.as_os_str().as_encoded_bytes()),
            which
        ),
    }
}

/// How `manifest` (none yet is an empty one) is to be updated so that it
/// lists exactly `present`, names relative to its directory, compared as a
/// listing spells them (`./a` is `a`). Its lines must all be `algo`'s:
/// a line that does not parse is an error naming `manifest` (it is not a
/// manifest), a line tagged with another algorithm one naming `algo`.
pub fn plan_update(manifest: &Path, present: &[Vec<u8>], algo: Algo) -> Result<Update, RwError> {
    let existing = existing_manifest(manifest)?;
    let parsed = parse(
        &existing,
        Reading {
            named: Some(algo),
            hint: None,
        },
    );
    if let Some(bad) = parsed.malformed.first() {
        // A line of another algorithm's length is a manifest of another
        // algorithm; any other, no manifest at all.
        let unnamed = parse(&existing, Reading::default());
        if let Some(other) = unnamed.entries.iter().find(|e| e.line == bad.line) {
            return Err(other_algo(algo, manifest, other));
        }
        return Err(RwError::Value {
            arg: "manifest",
            reason: format!(
                "{} is not a manifest of {} digests, so it cannot be updated: line {} does not parse ({})",
                quoted(manifest.as_os_str().as_encoded_bytes()),
                algo.name(),
                bad.line,
                quoted_in(&bad.text, "\"")
            ),
        });
    }
    if let Some(other) = parsed.entries.iter().find(|e| e.algo != algo) {
        return Err(other_algo(algo, manifest, other));
    }
    let key = |name: &[u8]| normal_name(name).unwrap_or_else(|| name.to_vec());
    let present_keys: HashSet<Vec<u8>> = present.iter().map(|n| key(n)).collect();
    let mut listed = HashSet::new();
    let mut update = Update::default();
    for entry in parsed.entries {
        let name = key(&entry.name);
        if present_keys.contains(&name) {
            listed.insert(name);
            update.kept.push(entry);
        } else {
            update.dropped.push(entry.name);
        }
    }
    for name in present {
        if listed.insert(key(name)) {
            update.add.push(name.clone());
        }
    }
    Ok(update)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{parse, Reading};
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
        for algo in Algo::EVERY {
            let names = list_files(dir.path(), Some(&manifest), None).unwrap();
            let rt = Runtime::new(2, None).all_on_workers();
            let signed = write_signatures(dir.path(), &manifest, &names, algo, &rt, None).unwrap();
            assert_eq!(signed.len(), awkward.len());
            let named = Reading {
                named: Some(algo),
                hint: None,
            };
            let parsed = parse(&fs::read(&manifest).unwrap(), named);
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

    fn names(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|n| n.as_bytes().to_vec()).collect()
    }

    #[test]
    fn an_update_keeps_adds_and_drops_without_hashing_what_it_keeps() {
        let dir = tree(&[("a", "A"), ("b", "B"), ("new", "N")]);
        let manifest = dir.path().join("m.txt");
        let sha1 = |c: &str| crate::hash::hash_bytes(Algo::Sha1, c.as_bytes());
        // `a`'s line is stale on purpose: kept lines are never re-hashed.
        let old = format!(
            "# made by hand\r\n{}  ./a\r\n{}  gone\r\n\r\nSHA1 (b) = {}\r\n",
            sha1("stale"),
            sha1("G"),
            sha1("B")
        );
        fs::write(&manifest, &old).unwrap();
        let present = names(&["a", "b", "new"]);
        let plan = plan_update(&manifest, &present, Algo::Sha1).unwrap();
        let kept: Vec<&[u8]> = plan.kept.iter().map(|e| e.name.as_slice()).collect();
        assert_eq!(kept, [&b"./a"[..], b"b"]);
        assert_eq!(plan.add, names(&["new"]));
        assert_eq!(plan.dropped, names(&["gone"]));
        let rt = Runtime::new(2, None);
        let added = sign(dir.path(), &plan.add, Algo::Sha1, &rt, None).unwrap();
        write_manifest(&manifest, Some(&plan.kept_lines()), &added, Algo::Sha1).unwrap();
        let want = format!(
            "# made by hand\r\n{}  ./a\r\n\r\nSHA1 (b) = {}\r\n{}  new\n",
            sha1("stale"),
            sha1("B"),
            sha1("N")
        );
        assert_eq!(fs::read_to_string(&manifest).unwrap(), want);
        // Nothing to do: the same manifest again.
        let plan = plan_update(&manifest, &present, Algo::Sha1).unwrap();
        assert!(plan.add.is_empty() && plan.dropped.is_empty());
    }

    #[test]
    fn an_update_of_no_manifest_makes_one_and_of_a_nul_manifest_keeps_nul() {
        let dir = tree(&[("a", "A"), ("b\nc", "B")]);
        let manifest = dir.path().join("m.txt");
        let plan = plan_update(&manifest, &names(&["a"]), Algo::Blake3).unwrap();
        assert_eq!(plan.add, names(&["a"]));
        let blake3 = |c: &str| crate::hash::hash_bytes(Algo::Blake3, c.as_bytes());
        fs::write(&manifest, format!("{}  a\0", blake3("A"))).unwrap();
        let present = names(&["a", "b\nc"]);
        let plan = plan_update(&manifest, &present, Algo::Blake3).unwrap();
        let rt = Runtime::new(1, None);
        let added = sign(dir.path(), &plan.add, Algo::Blake3, &rt, None).unwrap();
        write_manifest(&manifest, Some(&plan.kept_lines()), &added, Algo::Blake3).unwrap();
        let want = format!("{}  a\0{}  b\nc\0", blake3("A"), blake3("B"));
        assert_eq!(fs::read_to_string(&manifest).unwrap(), want);
    }

    #[test]
    fn an_update_refuses_what_is_not_a_manifest_of_its_algorithm() {
        let dir = tree(&[("notes.txt", "just some notes\n"), ("md5", "")]);
        let notes = dir.path().join("notes.txt");
        let err = plan_update(&notes, &[], Algo::Sha1).unwrap_err();
        assert_eq!(err.kind(), "value");
        assert_says(&err, "`manifest` '");
        assert_says(
            &err,
            "is not a manifest of sha1 digests, so it cannot be updated: line 1",
        );
        let md5 = dir.path().join("md5");
        let line = format!("MD5 (x) = {}\n", crate::hash::hash_bytes(Algo::Md5, b"x"));
        fs::write(&md5, &line).unwrap();
        let err = plan_update(&md5, &[], Algo::Sha1).unwrap_err();
        assert_says(&err, "`algo` is \"sha1\", but line 1 of '");
        assert_says(&err, "is md5: pass algo = \"md5\"");
        assert_eq!(fs::read_to_string(&md5).unwrap(), line, "untouched");
        let untagged = format!("{}  x\n", crate::hash::hash_bytes(Algo::Md5, b"x"));
        fs::write(&md5, &untagged).unwrap();
        let err = plan_update(&md5, &[], Algo::Sha1).unwrap_err();
        assert_says(&err, "is md5 or xxh128 or blake2b-128 (by its length)");
    }
}
