use super::*;
use crate::bagit::validate::check_bag;
use crate::status::Status;
use crate::test_support::{assert_says, tree};
use std::collections::BTreeMap;

/// Every entry under `dir` with its content (`None` for a directory).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            let content = e.file_type().is_file().then(|| fs::read(e.path()).unwrap());
            (e.path().strip_prefix(dir).unwrap().to_path_buf(), content)
        })
        .collect()
}

fn make(dir: &Path, algos: &[Algo], fail_at: usize) -> Result<MadeBag, RwError> {
    let info = [
        ("Source-Organization".to_string(), "Lab".to_string()),
        ("External-Description".to_string(), "two\nlines".to_string()),
        ("Payload-Oxum".to_string(), "1.1".to_string()),
    ];
    let hooks = Hooks {
        fail_at,
        ..Hooks::default()
    };
    make_bag(
        dir,
        &Request::for_test(algos, &info, &Runtime::new(2, None), &hooks),
    )
}

/// A request for `algos`, without bag-info fields or progress.
fn req<'a, 'r>(algos: &'a [Algo], rt: &'a Runtime<'r>, hooks: &'a Hooks) -> Request<'a, 'r> {
    Request::for_test(algos, &[], rt, hooks)
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn a_directory_becomes_a_valid_1_0_bag() {
    let dir = tree(&[
        ("a.txt", "alpha"),
        ("sub/b.bin", "beta"),
        ("data", "a file named data"),
    ]);
    let made = make(dir.path(), &[Algo::Sha256, Algo::Sha512], 0).unwrap();
    assert_eq!(
        made,
        MadeBag {
            files: 3,
            octets: 26
        }
    );
    let mut top: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    top.sort();
    assert_eq!(
        top,
        [
            "bag-info.txt",
            "bagit.txt",
            "data",
            "manifest-sha256.txt",
            "manifest-sha512.txt",
            "tagmanifest-sha256.txt",
            "tagmanifest-sha512.txt"
        ]
    );
    assert_eq!(read(dir.path(), "data/a.txt"), "alpha");
    assert_eq!(
        read(dir.path(), "bagit.txt"),
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    );
    assert_eq!(
        read(dir.path(), "bag-info.txt"),
        "External-Description: two\n  lines\nPayload-Oxum: 26.3\nSource-Organization: Lab\n"
    );
    let sha = |c: &str| hash_bytes(Algo::Sha256, c.as_bytes());
    assert_eq!(
        read(dir.path(), "manifest-sha256.txt"),
        format!(
            "{}  data/a.txt\n{}  data/data\n{}  data/sub/b.bin\n",
            sha("alpha"),
            sha("a file named data"),
            sha("beta")
        )
    );
    let tags = read(dir.path(), "tagmanifest-sha256.txt");
    let listed: Vec<&str> = tags.lines().map(|l| &l[66..]).collect();
    assert_eq!(
        listed,
        [
            "bag-info.txt",
            "bagit.txt",
            "manifest-sha256.txt",
            "manifest-sha512.txt"
        ]
    );
    let check = check_bag(dir.path(), false, None, &Runtime::new(2, None), None).unwrap();
    assert!(
        check.problems.is_empty() && check.doubts.is_empty(),
        "{check:?}"
    );
    assert!(check.rows.iter().all(|r| r.status == Status::Ok));
    assert_eq!(
        check.info[0].1, "two\nlines",
        "a continued value comes back whole"
    );
}

#[test]
fn awkward_names_are_percent_encoded() {
    let mut names = vec!["50% off", "sp ace", "caf\u{e9}"];
    if cfg!(unix) {
        names.extend(["new\nline", "cr\rname", "back\\slash"]);
    }
    let dir = tree(&names.iter().map(|&n| (n, n)).collect::<Vec<_>>());
    make(dir.path(), &[Algo::Md5], 0).unwrap();
    let manifest = read(dir.path(), "manifest-md5.txt");
    assert!(manifest.contains("data/50%25 off\n"), "{manifest}");
    if cfg!(unix) {
        assert!(manifest.contains("data/new%0Aline\n"), "{manifest}");
        assert!(manifest.contains("data/cr%0Dname\n"), "{manifest}");
    }
    let check = check_bag(dir.path(), false, None, &Runtime::new(1, None), None).unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
}

#[test]
fn an_empty_directory_is_an_empty_bag() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("empty")).unwrap();
    let made = make(dir.path(), &[Algo::Sha256], 0).unwrap();
    assert_eq!(
        made,
        MadeBag {
            files: 0,
            octets: 0
        }
    );
    assert!(dir.path().join("data/empty").is_dir());
    assert_eq!(read(dir.path(), "manifest-sha256.txt"), "");
    let check = check_bag(dir.path(), false, None, &Runtime::new(1, None), None).unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
}

#[test]
fn a_failure_at_any_step_leaves_the_directory_as_it_was() {
    let files = [("a", "A"), ("b/c", "C"), ("bagit.txt", "not a bag yet")];
    let dir = tree(&files);
    fs::create_dir(dir.path().join("empty")).unwrap();
    let before = snapshot(dir.path());
    // Steps: hashed, the journal, 4 moves, the rename to data/, 2 + 2 + 2
    // tag files, the final check.
    for fail_at in 1..=14 {
        let err = make(dir.path(), &[Algo::Sha256, Algo::Md5], fail_at).unwrap_err();
        assert_says(&err, &format!("failure injected at step {fail_at}"));
        assert_eq!(snapshot(dir.path()), before, "step {fail_at}");
    }
    make(dir.path(), &[Algo::Sha256, Algo::Md5], 15).unwrap();
    assert_ne!(snapshot(dir.path()), before);
}

#[cfg(unix)]
#[test]
fn links_and_special_files_are_refused_before_anything_moves() {
    let dir = tree(&[("a", "A")]);
    std::os::unix::fs::symlink("a", dir.path().join("link")).unwrap();
    let before = snapshot(dir.path());
    let err = make(dir.path(), &[Algo::Sha256], 0).unwrap_err();
    assert_says(&err, "a symbolic link");
    assert_eq!(snapshot(dir.path()), before);
    let dir = tree(&[("a", "A")]);
    crate::test_support::fifo(&dir.path().join("pipe"));
    let err = make(dir.path(), &[Algo::Sha256], 0).unwrap_err();
    assert_says(&err, "not a regular file");
    assert!(dir.path().join("a").exists() && !dir.path().join("data").exists());
}

#[test]
fn not_a_directory_and_cancelled() {
    let (_d, file) = crate::test_support::one_file("f", "x");
    let err = make(&file, &[Algo::Sha256], 0).unwrap_err();
    assert_says(&err, "not a directory");
    let dir = tree(&[("a", "A")]);
    let rt = Runtime::new(2, None);
    rt.cancel().set();
    let err = make_bag(dir.path(), &req(&[Algo::Sha256], &rt, &Hooks::default())).unwrap_err();
    assert_eq!(err.kind(), "interrupt");
    assert!(dir.path().join("a").exists() && !dir.path().join("data").exists());
}

/// Runs `make` with a pause at `step`, doing `meanwhile` while it waits.
fn paused<T: Send>(
    step: usize,
    make: impl FnOnce(&Hooks) -> T + Send,
    meanwhile: impl FnOnce(),
) -> T {
    let flag = tempfile::tempdir().unwrap();
    let pause_file = flag.path().join("paused");
    let hooks = Hooks {
        pause_at: step,
        pause_file: Some(pause_file.clone()),
        ..Hooks::default()
    };
    std::thread::scope(|s| {
        let worker = s.spawn(|| make(&hooks));
        while !pause_file.exists() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        meanwhile();
        fs::remove_file(&pause_file).unwrap();
        worker.join().unwrap()
    })
}

#[test]
fn a_file_that_changes_after_it_was_hashed_fails_the_call_and_restores() {
    let dir = tree(&[("a", "AAAA"), ("b", "B")]);
    let before = snapshot(dir.path());
    let rt = Runtime::new(1, None);
    // Step 4: the journal written, one entry moved.
    let result = paused(
        4,
        |hooks| make_bag(dir.path(), &req(&[Algo::Md5], &rt, hooks)),
        || {
            let moved = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.is_dir())
                .unwrap();
            fs::write(moved.join("a"), "AA").unwrap();
        },
    );
    assert_says(&result.unwrap_err(), "'a' changed while it was bagged");
    let mut want = before;
    want.insert("a".into(), Some(b"AA".to_vec()));
    assert_eq!(snapshot(dir.path()), want);
}

#[test]
fn a_journal_left_by_a_failed_restore_is_rolled_back_by_the_next_call() {
    let dir = tree(&[("a", "A"), ("sub/b", "B"), ("data", "D")]);
    let before = snapshot(dir.path());
    let hooks = Hooks {
        fail_at: 7,
        fail_undo: true,
        ..Hooks::default()
    };
    let rt = Runtime::new(1, None);
    let err = make_bag(dir.path(), &req(&[Algo::Md5], &rt, &hooks)).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("failure injected at step 7"), "{text}");
    assert!(
        text.contains("restoring the directory failed too"),
        "{text}"
    );
    assert!(
        text.contains(".rwbridge-bag-"),
        "names where the files are: {text}"
    );
    assert!(text.ends_with("completes the restore"), "{text}");
    assert!(dir.path().join(journal::JOURNAL).exists());
    // The check names the journal.
    let check = check_bag(dir.path(), true, None, &rt, None).unwrap();
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.message.contains(journal::JOURNAL)),
        "{:?}",
        check.problems
    );
    make(dir.path(), &[Algo::Md5], 0).unwrap();
    let check = check_bag(dir.path(), false, None, &rt, None).unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    let payload: Vec<_> = snapshot(&dir.path().join("data")).into_iter().collect();
    let original: Vec<_> = before.into_iter().collect();
    assert_eq!(payload, original, "the payload is the directory as it was");
}

#[test]
fn a_second_writer_fails_at_once_while_the_first_holds_the_lock() {
    let dir = tree(&[("a", "A")]);
    let rt = Runtime::new(1, None);
    let other = tempfile::tempdir().unwrap();
    let dest = other.path().join("bag");
    let mut others = Vec::new();
    let first = paused(
        3,
        |hooks| make_bag(dir.path(), &req(&[Algo::Md5], &rt, hooks)),
        || {
            let none = Hooks::default();
            let started = std::time::Instant::now();
            others.push(make_bag(dir.path(), &req(&[Algo::Md5], &rt, &none)));
            others.push(copy::make_bag_at(
                dir.path(),
                &dest,
                &req(&[Algo::Md5], &rt, &none),
            ));
            assert!(started.elapsed().as_secs() < 2, "failed at once");
        },
    );
    first.unwrap();
    for other in others {
        assert_says(&other.unwrap_err(), "it is locked");
    }
    assert!(!dest.exists());
    let check = check_bag(dir.path(), false, None, &rt, None).unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
}

#[test]
fn a_bag_made_elsewhere_leaves_its_source_as_it_was() {
    let dir = tree(&[("a.txt", "alpha"), ("sub/b", "beta"), ("50% off", "x")]);
    fs::create_dir(dir.path().join("empty")).unwrap();
    let before = snapshot(dir.path());
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("bag");
    let rt = Runtime::new(2, None);
    let none = Hooks::default();
    let made = copy::make_bag_at(dir.path(), &dest, &req(&[Algo::Sha256], &rt, &none)).unwrap();
    assert_eq!(
        made,
        MadeBag {
            files: 3,
            octets: 10
        }
    );
    assert_eq!(snapshot(dir.path()), before);
    assert!(dest.join("data/empty").is_dir());
    let check = check_bag(&dest, false, None, &rt, None).unwrap();
    assert!(
        check.problems.is_empty() && check.doubts.is_empty(),
        "{check:?}"
    );
    let listed: Vec<_> = fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(listed.len(), 1, "nothing left beside the bag");
    // A destination that exists: an error, nothing written.
    let err = copy::make_bag_at(dir.path(), &dest, &req(&[Algo::Sha256], &rt, &none)).unwrap_err();
    assert_says(&err, "it exists");
    let inside = dir.path().join("bag");
    let err =
        copy::make_bag_at(dir.path(), &inside, &req(&[Algo::Sha256], &rt, &none)).unwrap_err();
    assert_eq!(err.kind(), "value");
    let err = copy::make_bag_at(
        dir.path(),
        &out.path().join("no/bag"),
        &req(&[Algo::Sha256], &rt, &none),
    )
    .unwrap_err();
    assert_says(&err, "parent directory does not exist");
    assert_eq!(snapshot(dir.path()), before);
    // Every step failing leaves nothing at or beside the destination.
    for fail_at in 1..=6 {
        let dest = out.path().join(format!("failed{fail_at}"));
        let hooks = Hooks {
            fail_at,
            ..Hooks::default()
        };
        let err =
            copy::make_bag_at(dir.path(), &dest, &req(&[Algo::Md5], &rt, &hooks)).unwrap_err();
        assert_says(&err, &format!("step {fail_at}"));
        assert_eq!(
            fs::read_dir(out.path()).unwrap().count(),
            1,
            "step {fail_at}"
        );
    }
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn an_update_rewrites_the_manifests_and_oxum_and_keeps_the_rest() {
    let dir = tree(&[("a", "A"), ("b", "BB")]);
    let info = [
        ("Bagging-Date".to_string(), "2001-02-03".to_string()),
        ("Contact-Name".to_string(), "Ada".to_string()),
    ];
    let rt = Runtime::new(2, None);
    let none = Hooks::default();
    make_bag(
        dir.path(),
        &Request::for_test(&[Algo::Sha256, Algo::Md5], &info, &rt, &none),
    )
    .unwrap();
    fs::write(dir.path().join("extra-tag.txt"), "a tag file of my own\n").unwrap();
    fs::remove_file(dir.path().join("data/a")).unwrap();
    fs::write(dir.path().join("data/b"), "changed").unwrap();
    fs::write(dir.path().join("data/new"), "new file").unwrap();
    assert!(!check_bag(dir.path(), false, None, &rt, None)
        .unwrap()
        .problems
        .is_empty());
    let made = update::update_bag(dir.path(), None, &rt, None, &none).unwrap();
    assert_eq!(
        made,
        MadeBag {
            files: 2,
            octets: 15
        }
    );
    let check = check_bag(dir.path(), false, None, &rt, None).unwrap();
    assert!(
        check.problems.is_empty() && check.doubts.is_empty(),
        "{check:?}"
    );
    assert_eq!(
        read(dir.path(), "bag-info.txt"),
        "Bagging-Date: 2001-02-03\nContact-Name: Ada\nPayload-Oxum: 15.2\n"
    );
    assert!(read(dir.path(), "tagmanifest-md5.txt").contains("  extra-tag.txt\n"));
    // Each step failing leaves the bag as it was.
    fs::write(dir.path().join("data/c"), "C").unwrap();
    let before = snapshot(dir.path());
    // Steps: hashed, 2 + 1 + 2 files written, then 5 renames.
    for fail_at in 1..=6 {
        let hooks = Hooks {
            fail_at,
            ..Hooks::default()
        };
        let err = update::update_bag(dir.path(), None, &rt, None, &hooks).unwrap_err();
        assert_says(&err, &format!("step {fail_at}"));
        assert_eq!(snapshot(dir.path()), before, "step {fail_at}");
    }
}

#[test]
fn an_update_killed_after_its_commit_is_completed_by_the_next() {
    let dir = tree(&[("a", "A")]);
    let rt = Runtime::new(1, None);
    let none = Hooks::default();
    make_bag(dir.path(), &req(&[Algo::Md5], &rt, &none)).unwrap();
    fs::write(dir.path().join("data/b"), "B").unwrap();
    // A failure after the commit (step 5: a rename) leaves the journal, as
    // a kill would; the next call completes the update.
    let hooks = Hooks {
        fail_at: 5,
        ..Hooks::default()
    };
    update::update_bag(dir.path(), None, &rt, None, &hooks).unwrap_err();
    assert!(dir.path().join(journal::JOURNAL).exists());
    assert_eq!(
        journal::recover(dir.path()).unwrap(),
        journal::Recovered::UpdateCompleted
    );
    let check = check_bag(dir.path(), false, None, &rt, None).unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
}

#[cfg(unix)]
#[test]
fn payload_files_are_hashed_without_leaving_the_folder() {
    // A folder swapped for a link to outside after the listing: what
    // digests_of() then meets is a name that leads outside, never read.
    let top = tree(&[("bag/data/sub/f", "inside"), ("outside/f", "OUTSIDE")]);
    let data = top.path().join("bag/data");
    fs::remove_dir_all(data.join("sub")).unwrap();
    std::os::unix::fs::symlink(top.path().join("outside"), data.join("sub")).unwrap();
    let rt = Runtime::new(2, None);
    let hooks = Hooks::default();
    let err = digests_of(
        &data,
        &["sub/f".to_string()],
        &req(&[Algo::Sha256], &rt, &hooks),
    )
    .err()
    .unwrap();
    assert_says(&err, "leads outside");
    // Inside, the digests are the files'.
    let inside = tree(&[("sub/f", "inside")]);
    let digests = digests_of(
        inside.path(),
        &["sub/f".to_string()],
        &req(&[Algo::Sha256], &rt, &hooks),
    )
    .unwrap();
    assert_eq!(digests, [vec![hash_bytes(Algo::Sha256, b"inside")]]);
}

#[test]
fn excluded_entries_stay_where_they_are_whatever_step_fails() {
    let dir = tree(&[
        ("a", "A"),
        ("sub/c", "C"),
        ("sub/b.tmp", "B"),
        ("sub/deep/e", "E"),
        ("cache/d", "D"),
        ("x.tmp", "X"),
    ]);
    // Left out, a link is never looked at.
    #[cfg(unix)]
    std::os::unix::fs::symlink("../a", dir.path().join("cache/link")).unwrap();
    let before = snapshot(dir.path());
    let exclude = Exclude::new(&["*.tmp", "cache/"]).unwrap();
    let rt = Runtime::new(2, None);
    let run = |hooks: &Hooks| {
        let mut r = req(&[Algo::Sha256], &rt, hooks);
        r.exclude = Some(&exclude);
        make_bag(dir.path(), &r)
    };
    // Steps: hashed, the journal, a, sub (made afresh), sub/c, sub/deep,
    // the rename to data/, 4 tag files, the final check.
    for fail_at in 1..=12 {
        let hooks = Hooks {
            fail_at,
            ..Hooks::default()
        };
        let err = run(&hooks).unwrap_err();
        assert_says(&err, &format!("failure injected at step {fail_at}"));
        assert_eq!(snapshot(dir.path()), before, "step {fail_at}");
    }
    // A restore that fails leaves the journal; recovering merges sub/ back.
    let hooks = Hooks {
        fail_at: 6,
        fail_undo: true,
        ..Hooks::default()
    };
    run(&hooks).unwrap_err();
    assert!(dir.path().join(journal::JOURNAL).exists());
    assert_eq!(
        journal::recover(dir.path()).unwrap(),
        journal::Recovered::MakeRolledBack
    );
    assert_eq!(snapshot(dir.path()), before);
    let made = run(&Hooks::default()).unwrap();
    assert_eq!(
        made,
        MadeBag {
            files: 3,
            octets: 3
        }
    );
    let sha = |c: &str| hash_bytes(Algo::Sha256, c.as_bytes());
    assert_eq!(
        read(dir.path(), "manifest-sha256.txt"),
        format!(
            "{}  data/a\n{}  data/sub/c\n{}  data/sub/deep/e\n",
            sha("A"),
            sha("C"),
            sha("E")
        )
    );
    let after = snapshot(dir.path());
    for name in ["sub/b.tmp", "cache/d", "x.tmp"] {
        let name = PathBuf::from(name);
        assert_eq!(after.get(&name), before.get(&name), "{}", name.display());
        assert!(!dir.path().join("data").join(&name).exists());
    }
    let check = check_bag(dir.path(), false, None, &rt, None).unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
}

#[test]
fn an_excluded_entry_in_the_way_of_the_bag_is_refused_before_anything_moves() {
    let rt = Runtime::new(1, None);
    let hooks = Hooks::default();
    for (files, pattern, says) in [
        (
            &[("data/x.tmp", "X"), ("data/y", "Y")][..],
            "*.tmp",
            "'data'",
        ),
        (
            &[("bagit.txt", "mine"), ("a", "A")][..],
            "/bagit.txt",
            "'bagit.txt'",
        ),
        (
            &[("tagmanifest-sha256.txt", "mine")][..],
            "tag*",
            "'tagmanifest-sha256.txt'",
        ),
    ] {
        let dir = tree(files);
        let before = snapshot(dir.path());
        let exclude = Exclude::new(&[pattern]).unwrap();
        let mut r = req(&[Algo::Sha256], &rt, &hooks);
        r.exclude = Some(&exclude);
        let err = make_bag(dir.path(), &r).unwrap_err();
        assert_eq!(err.kind(), "value");
        assert_says(&err, "`exclude` leaves out");
        assert_says(&err, says);
        assert_eq!(snapshot(dir.path()), before);
    }
}

#[test]
fn a_bag_made_elsewhere_copies_only_what_is_not_excluded() {
    let dir = tree(&[("a", "A"), ("sub/b.tmp", "B"), ("cache/d", "D")]);
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("bag");
    let before = snapshot(dir.path());
    let exclude = Exclude::new(&["*.tmp", "cache/"]).unwrap();
    let rt = Runtime::new(2, None);
    let hooks = Hooks::default();
    let mut r = req(&[Algo::Sha256], &rt, &hooks);
    r.exclude = Some(&exclude);
    let made = copy::make_bag_at(dir.path(), &dest, &r).unwrap();
    assert_eq!(made.files, 1);
    assert_eq!(snapshot(dir.path()), before);
    let data: Vec<PathBuf> = snapshot(&dest.join("data")).into_keys().collect();
    // The folder sub/ is bagged (empty), as an empty folder is.
    assert_eq!(data, [PathBuf::from("a"), PathBuf::from("sub")]);
}
