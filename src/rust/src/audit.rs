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
use crate::tree::{list_files, name_to_path, normal_name, Confined, Exclude};
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
/// (in any algorithm the entry may be) as moved (each unlisted file
/// explains at most one, the first in manifest order), and returns the
/// unlisted files left, sorted bytewise, with their digest in `algo`. The
/// manifest itself is never unlisted, nor are the files `exclude` leaves
/// out.
pub fn audit(
    confined: &Confined,
    manifest: &Path,
    entries: &[Entry],
    outcomes: &mut [Outcome],
    algo: Algo,
    exclude: Option<&Exclude>,
    rt: &Runtime,
) -> Result<Vec<Extra>, RwError> {
    let listed: HashSet<Vec<u8>> = entries
        .iter()
        .filter_map(|e| normal_name(&e.name))
        .collect();
    let unlisted: Vec<Vec<u8>> = list_files(confined.dir(), Some(manifest), exclude)?
        .into_iter()
        .filter(|name| !listed.contains(name))
        .collect();
    // Every digest an unlisted file may need, in one read of it.
    let mut algos = vec![algo];
    for (entry, outcome) in entries.iter().zip(outcomes.iter()) {
        if outcome.status == Status::Missing {
            for candidate in entry.candidates() {
                if !algos.contains(&candidate) {
                    algos.push(candidate);
                }
            }
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
        let found = entry.candidates().find_map(|algo| {
            let files = by_digest.get_mut(&(algo, entry.expected.as_str()))?;
            pop_unclaimed(files, &moved).map(|i| (algo, i))
        });
        if let Some((algo, i)) = found {
            moved[i] = true;
            outcome.status = Status::Moved;
            outcome.algo = algo;
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

/// Unlisted files are reported in the named algorithm, else in the one its
/// first line was found in (see [`Outcome::algo`]), else in SHA-1.
pub fn report_algo(named: Option<Algo>, outcomes: &[Outcome]) -> Algo {
    named
        .or(outcomes.first().map(|o| o.algo))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::hash_bytes;
    use crate::manifest::{parse, Reading};
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
        let entries = parse(text.as_bytes(), Reading::default()).entries;
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
                None,
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
    fn a_moved_file_is_found_in_any_algorithm_its_digest_may_be() {
        // b3sum's lines, one file renamed, and a file the patterns leave out.
        let dir = tree(&[("a", "A"), ("renamed", "B"), ("x.tmp", "T"), ("m", "")]);
        let blake3 = |c: &str| hash_bytes(Algo::Blake3, c.as_bytes());
        let text = format!("{}  a\n{}  b\n", blake3("A"), blake3("B"));
        let entries = parse(text.as_bytes(), Reading::default()).entries;
        let rt = Runtime::new(2, None);
        let confined = Confined::new(dir.path(), false).unwrap();
        let mut outcomes = verify_entries(&confined, &entries, &rt, None).unwrap();
        let algo = report_algo(None, &outcomes);
        assert_eq!(algo, Algo::Blake3, "the algorithm the first line matched");
        let exclude = Exclude::new(&["*.tmp"]).unwrap();
        let manifest = dir.path().join("m");
        let extras = audit(
            &confined,
            &manifest,
            &entries,
            &mut outcomes,
            algo,
            Some(&exclude),
            &rt,
        )
        .unwrap();
        assert!(extras.is_empty(), "{extras:?}");
        assert_eq!(outcomes[1].status, Status::Moved);
        assert_eq!(outcomes[1].algo, Algo::Blake3);
        assert_eq!(outcomes[1].found_as.as_deref(), Some(&b"renamed"[..]));
    }
}
