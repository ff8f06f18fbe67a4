//! The audit of a whole directory against its manifest: files under the
//! directory that the manifest does not list ("extra"), and listed files
//! that are missing but whose content is there under another name
//! ("moved"). Files are opened through [`Confined`], never outside the
//! directory. Never touches R.

use crate::errors::RwError;
use crate::hash::{hash_each, Algo};
use crate::manifest::Entry;
use crate::runtime::Runtime;
use crate::status::Status;
use crate::tree::{list_files, name_to_path, Confined};
use crate::verify::Outcome;
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;

/// A regular file under the directory that no entry names, with its digest
/// (`None` when it cannot be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extra {
    pub name: Vec<u8>,
    pub actual: Option<String>,
}

/// Marks the missing entries whose expected digest is an unlisted file's
/// as moved (each unlisted file explains at most one, the first in
/// manifest order), and returns the unlisted files left, sorted bytewise,
/// with their digest in `algo`. The manifest itself is never unlisted.
pub fn audit(
    confined: &Confined,
    manifest: &Path,
    entries: &[Entry],
    outcomes: &mut [Outcome],
    algo: Algo,
    rt: &Runtime,
) -> Result<Vec<Extra>, RwError> {
    let listed: HashSet<Vec<u8>> = entries.iter().filter_map(|e| normal(&e.name)).collect();
    let unlisted: Vec<Vec<u8>> = list_files(confined.dir(), Some(manifest))?
        .into_iter()
        .filter(|name| !listed.contains(name))
        .collect();
    // Every digest an unlisted file may need, in one read of it.
    let mut algos = vec![algo];
    for (entry, outcome) in entries.iter().zip(outcomes.iter()) {
        if outcome.status == Status::Missing && !algos.contains(&entry.algo) {
            algos.push(entry.algo);
        }
    }
    let open = |name: &Vec<u8>| confined.open_reason(&name_to_path(name));
    let digests: Vec<Option<Vec<String>>> = hash_each(&algos, &unlisted, open, |_| 0, rt, None)?
        .into_iter()
        .map(Result::ok)
        .collect();
    let mut by_digest: HashMap<(Algo, &str), VecDeque<usize>> = HashMap::new();
    for (i, found) in digests.iter().enumerate() {
        for (algo, digest) in algos.iter().zip(found.iter().flatten()) {
            by_digest.entry((*algo, digest)).or_default().push_back(i);
        }
    }
    let mut moved = vec![false; unlisted.len()];
    for (entry, outcome) in entries.iter().zip(outcomes.iter_mut()) {
        if outcome.status != Status::Missing {
            continue;
        }
        let candidates = by_digest.get_mut(&(entry.algo, entry.expected.as_str()));
        if let Some(i) = candidates.and_then(|c| pop_unclaimed(c, &moved)) {
            moved[i] = true;
            outcome.status = Status::Moved;
            outcome.found_as = Some(unlisted[i].clone());
        }
    }
    Ok(unlisted
        .into_iter()
        .zip(digests)
        .zip(moved)
        .filter(|(_, moved)| !moved)
        .map(|((name, found), _)| Extra {
            name,
            actual: found.and_then(|d| d.into_iter().next()),
        })
        .collect())
}

/// Unlisted files are reported in the named algorithm, else in the
/// manifest's first, else in SHA-1.
pub fn report_algo(named: Option<Algo>, entries: &[Entry]) -> Algo {
    named
        .or(entries.first().map(|e| e.algo))
        .unwrap_or(Algo::Sha1)
}

fn pop_unclaimed(candidates: &mut VecDeque<usize>, claimed: &[bool]) -> Option<usize> {
    while let Some(i) = candidates.pop_front() {
        if !claimed[i] {
            return Some(i);
        }
    }
    None
}

/// A manifest name as the directory listing spells it (`./a` and
/// `sub//../a` are `a`), or `None` for one that leads outside.
fn normal(name: &[u8]) -> Option<Vec<u8>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::hash_bytes;
    use crate::manifest::parse;
    use crate::test_support::tree;
    use crate::verify::verify_entries;

    fn line(algo: Algo, content: &str, name: &str) -> String {
        format!("{}  {name}\n", hash_bytes(algo, content.as_bytes()))
    }

    #[test]
    fn extra_and_moved_files_are_found() {
        let dir = tree(&[
            ("a", "A"),
            ("renamed", "B"),
            ("copy", "B"),
            ("sub/new", "N"),
            ("m.txt", ""),
        ]);
        let text = [
            line(Algo::Sha1, "A", "./a"),
            line(Algo::Sha1, "B", "b"),
            line(Algo::Md5, "gone", "c"),
        ]
        .concat();
        let entries = parse(text.as_bytes(), None).entries;
        for rt in [
            Runtime::new(2, None),
            Runtime::new(2, None).all_on_workers(),
        ] {
            let confined = Confined::new(dir.path(), false).unwrap();
            let mut outcomes = verify_entries(&confined, &entries, &rt, None).unwrap();
            let manifest = dir.path().join("m.txt");
            let extras = audit(
                &confined,
                &manifest,
                &entries,
                &mut outcomes,
                Algo::Sha1,
                &rt,
            )
            .unwrap();
            let statuses: Vec<Status> = outcomes.iter().map(|o| o.status).collect();
            assert_eq!(statuses, [Status::Ok, Status::Moved, Status::Missing]);
            // Bytewise order: "copy" < "renamed", so the copy explains b.
            assert_eq!(outcomes[1].found_as.as_deref(), Some(&b"copy"[..]));
            let names: Vec<&[u8]> = extras.iter().map(|e| e.name.as_slice()).collect();
            assert_eq!(names, [&b"renamed"[..], b"sub/new"]);
            assert_eq!(extras[1].actual, Some(hash_bytes(Algo::Sha1, b"N")));
        }
    }

    #[test]
    fn names_are_compared_as_the_listing_spells_them() {
        assert_eq!(normal(b"./a//b/./c"), Some(b"a/b/c".to_vec()));
        assert_eq!(normal(b"a/../b"), Some(b"b".to_vec()));
        assert_eq!(normal(b"../x"), None);
        assert_eq!(normal(b"/etc/passwd"), None);
        assert_eq!(normal(b"."), None);
    }
}
