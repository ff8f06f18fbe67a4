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
    make_bag(dir, algos, &info, &Runtime::new(2, None), None, fail_at)
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
    let check = check_bag(dir.path(), false, &Runtime::new(2, None), None).unwrap();
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
    let check = check_bag(dir.path(), false, &Runtime::new(1, None), None).unwrap();
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
    let check = check_bag(dir.path(), false, &Runtime::new(1, None), None).unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
}

#[test]
fn a_failure_at_any_step_leaves_the_directory_as_it_was() {
    let files = [("a", "A"), ("b/c", "C"), ("bagit.txt", "not a bag yet")];
    let dir = tree(&files);
    fs::create_dir(dir.path().join("empty")).unwrap();
    let before = snapshot(dir.path());
    // Steps: 4 moves, the rename to data/, then 2 + 2 + 2 tag files.
    for fail_at in 1..=11 {
        let err = make(dir.path(), &[Algo::Sha256, Algo::Md5], fail_at).unwrap_err();
        assert_says(&err, &format!("failure injected at step {fail_at}"));
        assert_eq!(snapshot(dir.path()), before, "step {fail_at}");
    }
    make(dir.path(), &[Algo::Sha256, Algo::Md5], 12).unwrap();
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
    let err = make_bag(dir.path(), &[Algo::Sha256], &[], &rt, None, 0).unwrap_err();
    assert_eq!(err.kind(), "interrupt");
    assert!(dir.path().join("a").exists() && !dir.path().join("data").exists());
}
