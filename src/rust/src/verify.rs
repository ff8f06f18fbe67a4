//! Checks manifest entries against the files under a directory, as the
//! runtime decides (inline while small, then on workers), and returns one
//! outcome per entry in manifest order. Names are opened through
//! [`Confined`], so those that lead outside the directory are refused
//! unless allowed; anything that is not a regular file is unreadable and
//! never read. Never touches R; safe on worker threads.

use crate::errors::RwError;
use crate::fileio::OpenFile;
use crate::hash::{digest, with_buffer, HashFailure};
use crate::manifest::Entry;
use crate::runtime::{Cancel, Progress, Runtime};
use crate::status::Status;
use crate::tree::{name_to_path, Confined};
use std::sync::atomic::Ordering;

/// The status of one entry, the digest computed if the file was hashed,
/// and for a moved file the name it was found under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub actual: Option<String>,
    pub found_as: Option<Vec<u8>>,
}

impl Outcome {
    pub fn unhashed(status: Status) -> Outcome {
        Outcome {
            status,
            actual: None,
            found_as: None,
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
    rt.map(entries, |entry, cancel| {
        let outcome = match confined.open(&name_to_path(&entry.name)) {
            Ok(mut file) => check(entry, &mut file, cancel, progress),
            Err(status) => Outcome::unhashed(status),
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

fn check(
    entry: &Entry,
    file: &mut OpenFile,
    cancel: &Cancel,
    progress: Option<&Progress>,
) -> Outcome {
    let bytes_done = progress.map(|p| &p.bytes_done);
    match with_buffer(|buf| digest(file, &[entry.algo], buf, cancel, bytes_done)) {
        Ok(mut digests) => {
            let actual = digests.pop().unwrap_or_default();
            Outcome {
                status: if actual == entry.expected {
                    Status::Ok
                } else {
                    Status::Mismatch
                },
                actual: Some(actual),
                found_as: None,
            }
        }
        // The caller sees the cancel flag and discards every outcome.
        Err(HashFailure::Cancelled) | Err(HashFailure::Unreadable(_)) => {
            Outcome::unhashed(Status::Unreadable)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{hash_bytes, Algo};
    use crate::manifest::parse;
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
        let entries = parse(manifest.as_bytes(), None).entries;
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
            None,
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
}
