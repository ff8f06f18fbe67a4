//! Checks manifest entries against the files under a directory, as the
//! runtime decides (inline while small, then on workers), and returns one
//! outcome per entry in manifest order. Names are opened through
//! [`Confined`], so those that lead outside the directory are refused
//! unless allowed; anything that is not a regular file is unreadable and
//! never read. An untagged digest that more than one algorithm may be is
//! checked with each before its file is called a mismatch: never a false
//! mismatch. Never touches R; safe on worker threads.

use crate::errors::RwError;
use crate::fileio::OpenFile;
use crate::hash::{digest, with_buffer, Algo, HashFailure};
use crate::manifest::Entry;
use crate::runtime::{Cancel, Progress, Runtime};
use crate::status::Status;
use crate::tree::{name_to_path, Confined};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The status of one entry, the algorithm it was found in (the one that
/// matched; else the entry's first), the digest computed if the file was
/// hashed, and for a moved file the name it was found under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub algo: Algo,
    pub actual: Option<String>,
    pub found_as: Option<Vec<u8>>,
}

impl Outcome {
    pub fn unhashed(status: Status, algo: Algo) -> Outcome {
        Outcome {
            status,
            algo,
            actual: None,
            found_as: None,
        }
    }
}

/// The algorithm that last matched an untagged digest of each length
/// (its index in [`Algo::EVERY`] plus one; 0: none yet), tried first for
/// the next: a manifest of one algorithm then costs one read a file,
/// whichever candidate it is. Only the work depends on it, never a result.
struct Learned {
    by_bytes: [AtomicUsize; 65],
}

impl Learned {
    fn new() -> Learned {
        Learned {
            by_bytes: std::array::from_fn(|_| AtomicUsize::new(0)),
        }
    }

    fn first(&self, entry: &Entry) -> Algo {
        let slot = self.by_bytes.get(entry.algo.bytes());
        match slot.map_or(0, |s| s.load(Ordering::Relaxed)) {
            0 => entry.algo,
            code => Algo::EVERY.get(code - 1).copied().unwrap_or(entry.algo),
        }
    }

    fn matched(&self, algo: Algo) {
        if let (Some(slot), Some(i)) = (
            self.by_bytes.get(algo.bytes()),
            Algo::EVERY.iter().position(|&a| a == algo),
        ) {
            slot.store(i + 1, Ordering::Relaxed);
        }
    }
}

/// Checks every entry; fails only when cancelled (`RwError::Interrupted`)
/// or when the directory itself cannot be resolved. With `progress`, a
/// first pass finds the total size, and the counters follow the work.
pub fn verify_entries(
    confined: &Confined,
    entries: &[Entry],
    rt: &Runtime,
    progress: Option<&Progress>,
) -> Result<Vec<Outcome>, RwError> {
    if let Some(progress) = progress {
        let sizes = entry_sizes(confined, entries, rt)?;
        progress.start(entries.len(), sizes.iter().sum());
    }
    let learned = Learned::new();
    rt.map(entries, |entry, cancel| {
        let outcome = match confined.open(&name_to_path(&entry.name)) {
            Ok(mut file) => check(entry, &mut file, cancel, progress, &learned),
            Err(status) => Outcome::unhashed(status, entry.algo),
        };
        if let Some(progress) = progress {
            progress.files_done.fetch_add(1, Ordering::Relaxed);
        }
        outcome
    })
}

/// The size of the file each entry names, 0 where there is none to hash
/// (missing, refused, not a regular file): how work is split by bytes.
/// Fails only when cancelled.
pub fn entry_sizes(
    confined: &Confined,
    entries: &[Entry],
    rt: &Runtime,
) -> Result<Vec<u64>, RwError> {
    rt.map(entries, |e, _| {
        confined.size(&name_to_path(&e.name)).unwrap_or(0)
    })
}

/// Hashes the file in the algorithm most likely to match; when that does
/// not, and the digest may be another's, reads it again in the next
/// candidate, then once more in all the others at once (a file that matches
/// none was changed: rare, and each digest is still computed once). A
/// mismatch is reported in the entry's first algorithm.
fn check(
    entry: &Entry,
    file: &mut OpenFile,
    cancel: &Cancel,
    progress: Option<&Progress>,
    learned: &Learned,
) -> Outcome {
    let bytes_done = progress.map(|p| &p.bytes_done);
    let first = if entry.fallback {
        learned.first(entry)
    } else {
        entry.algo
    };
    let unreadable = Outcome::unhashed(Status::Unreadable, entry.algo);
    // The caller sees the cancel flag and discards every outcome.
    let Ok(actual) = hash_one(file, first, cancel, bytes_done) else {
        return unreadable;
    };
    let found = |algo: Algo, actual: String, status: Status| Outcome {
        status,
        algo,
        actual: Some(actual),
        found_as: None,
    };
    if actual == entry.expected {
        if entry.fallback && first != entry.algo {
            learned.matched(first);
        }
        return found(first, actual, Status::Ok);
    }
    let others: Vec<Algo> = entry.candidates().filter(|&a| a != first).collect();
    let mut digests = vec![(first, actual)];
    // Read again, the bytes not counted twice: the next candidate, then
    // all the rest at once.
    for pass in [others.get(..1), others.get(1..)].into_iter().flatten() {
        if pass.is_empty() {
            continue;
        }
        let again = file
            .rewind()
            .map_err(HashFailure::Unreadable)
            .and_then(|()| with_buffer(|buf| digest(file, pass, buf, cancel, None)));
        let Ok(again) = again else {
            return unreadable;
        };
        for (&algo, actual) in pass.iter().zip(again) {
            if actual == entry.expected {
                learned.matched(algo);
                return found(algo, actual, Status::Ok);
            }
            digests.push((algo, actual));
        }
    }
    let primary = digests
        .iter()
        .position(|(a, _)| *a == entry.algo)
        .unwrap_or(0);
    let (_, actual) = digests.swap_remove(primary);
    found(entry.algo, actual, Status::Mismatch)
}

fn hash_one(
    file: &mut OpenFile,
    algo: Algo,
    cancel: &Cancel,
    bytes_done: Option<&std::sync::atomic::AtomicU64>,
) -> Result<String, HashFailure> {
    let mut digests = with_buffer(|buf| digest(file, &[algo], buf, cancel, bytes_done))?;
    digests
        .pop()
        .ok_or_else(|| HashFailure::Unreadable(RwError::Internal("no digest".into())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{hash_bytes, Algo};
    use crate::manifest::{parse, Hint, Reading};
    use crate::test_support::tree;
    use std::path::Path;

    fn line(content: &str, name: &str) -> String {
        format!("{}  {name}\n", hash_bytes(Algo::Sha1, content.as_bytes()))
    }

    fn statuses(
        dir: &Path,
        manifest: &str,
        allow_outside: bool,
        threads: usize,
    ) -> Vec<&'static str> {
        let entries = parse(manifest.as_bytes(), Reading::default()).entries;
        let rt = Runtime::new(threads, None);
        let confined = Confined::new(dir, allow_outside).unwrap();
        let inline = verify_entries(&confined, &entries, &rt, None).unwrap();
        let rt = rt.all_on_workers();
        let outcomes = verify_entries(&confined, &entries, &rt, None).unwrap();
        assert_eq!(inline, outcomes, "inline and on workers");
        outcomes.iter().map(|o| o.status.name()).collect()
    }

    #[test]
    fn every_status_in_manifest_order() {
        let outside = tree(&[("secret", "s")]);
        let dir = tree(&[("a", "A"), ("b", "B"), ("sub/c", "C"), ("sub/d/e", "E")]);
        let abs = outside.path().join("secret");
        let manifest = [
            line("A", "a"),
            line("wrong", "b"),
            line("C", "sub/c"),
            line("x", "nope"),
            line("x", "sub"),
            line("s", "../secret"),
            line("s", abs.to_str().unwrap()),
            line("A", "sub/../a"),
            line("E", "./sub/d/../d/e"),
            line("x", "sub/../../x"),
            line("A", "nope/../a"),
        ]
        .concat();
        let want = [
            "ok",
            "mismatch",
            "ok",
            "missing",
            "unreadable",
            "refused",
            "refused",
            "ok",
            "ok",
            "refused",
            "missing",
        ];
        for threads in [1, 2] {
            assert_eq!(statuses(dir.path(), &manifest, false, threads), want);
        }
        let allowed = statuses(dir.path(), &manifest, true, 2);
        assert_eq!(
            allowed[5..7],
            ["missing", "ok"],
            "../secret is not next to dir"
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_only_inside() {
        let outside = tree(&[("secret", "s")]);
        let dir = tree(&[("a", "A")]);
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("out")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("in")).unwrap();
        let manifest = [line("s", "out"), line("A", "in")].concat();
        for threads in [1, 2] {
            assert_eq!(
                statuses(dir.path(), &manifest, false, threads),
                ["refused", "ok"]
            );
        }
        assert_eq!(statuses(dir.path(), &manifest, true, 2), ["ok", "ok"]);
    }

    #[cfg(unix)]
    #[test]
    fn fifo_is_unreadable_at_once() {
        let dir = tree(&[("a", "A")]);
        crate::test_support::fifo(&dir.path().join("fifo"));
        let started = std::time::Instant::now();
        let got = statuses(
            dir.path(),
            &[line("", "fifo"), line("A", "a")].concat(),
            false,
            2,
        );
        assert_eq!(got, ["unreadable", "ok"]);
        assert!(started.elapsed().as_secs() < 2);
    }

    #[test]
    fn actual_digest_and_progress() {
        let dir = tree(&[("a", "hello"), ("b", "world!")]);
        let entries = parse(
            [line("hello", "a"), line("x", "b")].concat().as_bytes(),
            Reading::default(),
        )
        .entries;
        let progress = Progress::default();
        let confined = Confined::new(dir.path(), false).unwrap();
        let out =
            verify_entries(&confined, &entries, &Runtime::new(2, None), Some(&progress)).unwrap();
        assert_eq!(
            out[1].actual.as_deref(),
            Some(hash_bytes(Algo::Sha1, b"world!").as_str())
        );
        assert_eq!(progress.bytes_total.load(Ordering::Relaxed), 11);
        assert_eq!(progress.bytes_done.load(Ordering::Relaxed), 11);
        assert_eq!(progress.files_done.load(Ordering::Relaxed), 2);
        let rt = Runtime::new(2, None);
        rt.cancel().set();
        let err = verify_entries(&confined, &entries, &rt, None).unwrap_err();
        assert_eq!(err.kind(), "interrupt");
    }

    /// Outcomes (status, algorithm, actual digest) of a manifest of
    /// untagged lines, read with `reading`, inline and on workers.
    fn outcomes(dir: &Path, text: &str, reading: Reading) -> Vec<(Status, Algo, Option<String>)> {
        let entries = parse(text.as_bytes(), reading).entries;
        let confined = Confined::new(dir, false).unwrap();
        let inline = verify_entries(&confined, &entries, &Runtime::new(2, None), None).unwrap();
        let rt = Runtime::new(2, None).all_on_workers();
        let on_workers = verify_entries(&confined, &entries, &rt, None).unwrap();
        assert_eq!(inline, on_workers);
        inline
            .into_iter()
            .map(|o| (o.status, o.algo, o.actual))
            .collect()
    }

    #[test]
    fn an_untagged_digest_is_checked_in_every_algorithm_of_its_length() {
        let dir = tree(&[("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")]);
        let b2 = Algo::blake2b(256).unwrap();
        // b3sum's lines, then one of every other 64-digit algorithm, then a
        // file changed since: untagged, they could all be SHA-256.
        let text = [
            format!("{}  a\n", hash_bytes(Algo::Blake3, b"A")),
            format!("{}  b\n", hash_bytes(Algo::Blake3, b"B")),
            format!("{}  c\n", hash_bytes(Algo::Sha3_256, b"C")),
            format!("{}  d\n", hash_bytes(b2, b"D")),
            format!("{}  a\n", hash_bytes(Algo::Blake2s, b"A")),
            format!("{}  b\n", hash_bytes(Algo::Sha256, b"B")),
            format!("{}  c\n", hash_bytes(Algo::Blake3, b"changed")),
            format!("{}  missing\n", hash_bytes(Algo::Blake3, b"x")),
        ]
        .concat();
        let got = outcomes(dir.path(), &text, Reading::default());
        let found: Vec<(Status, Algo)> = got.iter().map(|o| (o.0, o.1)).collect();
        use Status::*;
        assert_eq!(
            found,
            [
                (Ok, Algo::Blake3),
                (Ok, Algo::Blake3),
                (Ok, Algo::Sha3_256),
                (Ok, b2),
                (Ok, Algo::Blake2s),
                (Ok, Algo::Sha256),
                (Mismatch, Algo::Sha256),
                (Missing, Algo::Sha256),
            ]
        );
        // Each actual digest is in the algorithm reported.
        for ((_, algo, actual), content) in got.iter().zip(["A", "B", "C", "D", "A", "B", "C"]) {
            assert_eq!(
                actual.as_deref(),
                Some(&*hash_bytes(*algo, content.as_bytes()))
            );
        }
        // The file name's hint comes first, and names the mismatch.
        let hint = Reading {
            named: None,
            hint: Some(Hint::One(Algo::Blake3)),
        };
        let hinted = outcomes(dir.path(), &text, hint);
        assert_eq!((hinted[5].0, hinted[5].1), (Ok, Algo::Sha256));
        assert_eq!((hinted[6].0, hinted[6].1), (Mismatch, Algo::Blake3));
        assert_eq!(hinted[6].2, Some(hash_bytes(Algo::Blake3, b"C")));
        // A named algorithm settles it: no other is tried.
        let named = Reading {
            named: Some(Algo::Sha256),
            hint: None,
        };
        let statuses: Vec<Status> = outcomes(dir.path(), &text, named)
            .iter()
            .map(|o| o.0)
            .collect();
        assert_eq!(
            statuses,
            [Mismatch, Mismatch, Mismatch, Mismatch, Mismatch, Ok, Mismatch, Missing]
        );
    }

    #[test]
    fn a_tagged_digest_is_checked_in_its_algorithm_only() {
        let dir = tree(&[("a", "A")]);
        // A BLAKE3 digest under an SHA256 tag is a mismatch, as sha256sum -c says.
        let text = format!("SHA256 (a) = {}\n", hash_bytes(Algo::Blake3, b"A"));
        let got = outcomes(dir.path(), &text, Reading::default());
        assert_eq!((got[0].0, got[0].1), (Status::Mismatch, Algo::Sha256));
    }
}
