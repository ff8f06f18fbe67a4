//! One bag per rule, valid and not, written by hand from RFC 8493 (and the
//! drafts before it) or made by `make_bag` and then damaged.

use super::*;
use crate::bagit::make::{make_bag, Request};
use crate::hash::{hash_bytes, Algo};
use crate::test_support::tree;
use std::sync::atomic::Ordering;

/// A bag written by hand: bagit.txt of `version`, the files under data/,
/// and manifest-sha256.txt listing them.
struct Bag {
    dir: tempfile::TempDir,
}

fn sha256(content: &str) -> String {
    hash_bytes(Algo::Sha256, content.as_bytes())
}

fn line(content: &str, path: &str) -> String {
    format!("{}  {path}\n", sha256(content))
}

impl Bag {
    fn new(version: &str, files: &[(&str, &str)]) -> Bag {
        let data: Vec<(String, &str)> = files
            .iter()
            .map(|(n, c)| (format!("data/{n}"), *c))
            .collect();
        let dir = tree(&data);
        fs::create_dir_all(dir.path().join("data")).unwrap();
        let bag = Bag { dir };
        bag.write(
            "bagit.txt",
            &format!("BagIt-Version: {version}\nTag-File-Character-Encoding: UTF-8\n"),
        );
        let manifest: String = files
            .iter()
            .map(|(n, c)| line(c, &format!("data/{n}")))
            .collect();
        bag.write("manifest-sha256.txt", &manifest);
        bag
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) {
        self.write_bytes(name, text.as_bytes());
    }

    fn write_bytes(&self, name: &str, bytes: &[u8]) {
        let path = self.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    fn check(&self) -> BagCheck {
        check(self.path(), false)
    }
}

fn check(dir: &Path, fast: bool) -> BagCheck {
    let inline = check_bag(dir, fast, None, &Runtime::new(2, None), None).unwrap();
    let rt = Runtime::new(2, None).all_on_workers();
    let workers = check_bag(dir, fast, None, &rt, None).unwrap();
    assert_eq!(inline, workers, "inline and on workers");
    inline
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code.name()).collect()
}

fn statuses(check: &BagCheck) -> Vec<&'static str> {
    check.rows.iter().map(|r| r.status.name()).collect()
}

#[track_caller]
fn only_problem(check: &BagCheck, code: &str, says: &str) {
    assert_eq!(codes(&check.problems), [code], "{:?}", check.problems);
    let message = &check.problems[0].message;
    assert!(message.contains(says), "{message:?} does not say {says:?}");
}

#[track_caller]
fn valid(check: &BagCheck) {
    assert!(check.problems.is_empty(), "{:?}", check.problems);
}

fn made(files: &[(&str, &str)], algos: &[Algo]) -> tempfile::TempDir {
    let dir = tree(files);
    let info = [("Contact-Name".to_string(), "Tester".to_string())];
    make_bag(
        dir.path(),
        &Request::for_test(algos, &info, &Runtime::new(2, None), &Default::default()),
    )
    .unwrap();
    dir
}

#[test]
fn a_made_bag_is_valid_with_every_row_ok() {
    let dir = made(
        &[("a.txt", "alpha"), ("sub/b.bin", "beta")],
        &[Algo::Sha256, Algo::Sha512],
    );
    let got = check(dir.path(), false);
    valid(&got);
    assert!(got.doubts.is_empty(), "{:?}", got.doubts);
    assert_eq!(got.version.as_deref(), Some("1.0"));
    assert_eq!(got.encoding.as_deref(), Some("UTF-8"));
    let files: Vec<&str> = got.manifests.iter().map(|m| m.file.as_str()).collect();
    assert_eq!(
        files,
        [
            "manifest-sha256.txt",
            "manifest-sha512.txt",
            "tagmanifest-sha256.txt",
            "tagmanifest-sha512.txt"
        ]
    );
    assert!(
        got.rows.iter().all(|r| r.status == Status::Ok),
        "{:?}",
        got.rows
    );
    // 2 payload files in 2 manifests; 4 tag files in 2 tag manifests.
    assert_eq!(got.rows.len(), 2 * 2 + 4 * 2);
    assert_eq!(got.rows[1].file, b"data/sub/b.bin");
    assert_eq!(got.rows[1].actual.as_deref(), Some(sha256("beta").as_str()));
    assert_eq!(got.info[0], ("Contact-Name".into(), "Tester".into()));
    assert_eq!(got.info[1], ("Payload-Oxum".into(), "9.2".into()));
}

#[test]
fn each_payload_file_is_read_once_for_all_its_digests() {
    let dir = made(
        &[("a", "12345"), ("b", "678")],
        &[Algo::Sha256, Algo::Sha512, Algo::Md5],
    );
    let progress = Progress::default();
    let got = check_bag(
        dir.path(),
        false,
        None,
        &Runtime::new(2, None),
        Some(&progress),
    )
    .unwrap();
    valid(&got);
    // Tag files come from memory (counted as files, not as bytes read).
    assert_eq!(progress.bytes_done.load(Ordering::Relaxed), 8);
    assert_eq!(progress.bytes_total.load(Ordering::Relaxed), 8);
    let files_done = progress.files_done.load(Ordering::Relaxed);
    assert_eq!(files_done, 2 + 5, "2 payload files, 5 tag files, each once");
}

#[test]
fn a_hand_written_minimal_bag_of_each_version_is_valid() {
    for version in ["0.93", "0.94", "0.95", "0.96", "0.97", "1.0"] {
        let bag = Bag::new(version, &[("x", "X")]);
        let got = bag.check();
        valid(&got);
        assert_eq!(statuses(&got), ["ok"], "{version}");
    }
    // An empty payload is a bag too.
    valid(&Bag::new("1.0", &[]).check());
}

#[test]
fn the_declaration_is_checked_to_the_letter() {
    let bag = Bag::new("1.0", &[("x", "X")]);
    let cases: [(&[u8], &str, &str); 9] = [
        (
            b"\xef\xbb\xbfBagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
            "declaration",
            "byte-order mark",
        ),
        (
            b"Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n",
            "declaration",
            "exactly two lines",
        ),
        (b"BagIt-Version: 1.0\n", "declaration", "exactly two lines"),
        (
            b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\nExtra: x\n",
            "declaration",
            "exactly two lines",
        ),
        (
            b"BagIt-Version:1.0\nTag-File-Character-Encoding: UTF-8\n",
            "declaration",
            "exact form",
        ),
        (
            b"BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n",
            "declaration",
            "exact form",
        ),
        (
            b"BagIt-Version: 1.1\nTag-File-Character-Encoding: UTF-8\n",
            "version",
            "1.1 is not one",
        ),
        (
            b"BagIt-Version: one\nTag-File-Character-Encoding: UTF-8\n",
            "version",
            "not a version",
        ),
        (
            b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\xff\n",
            "encoding",
            "not UTF-8",
        ),
    ];
    for (text, code, says) in cases {
        bag.write_bytes("bagit.txt", text);
        only_problem(&bag.check(), code, says);
    }
    // CRLF endings are line endings, and 0.97 allows blanks around the colon.
    bag.write(
        "bagit.txt",
        "BagIt-Version: 1.0\r\nTag-File-Character-Encoding: UTF-8\r\n",
    );
    valid(&bag.check());
    bag.write(
        "bagit.txt",
        "BagIt-Version :  0.97\nTag-File-Character-Encoding:UTF-8\n",
    );
    valid(&bag.check());
    fs::remove_file(bag.path().join("bagit.txt")).unwrap();
    only_problem(&bag.check(), "declaration", "no bagit.txt");
}

#[test]
fn tag_file_encodings() {
    let bag = Bag::new("1.0", &[("x", "X")]);
    bag.write(
        "bagit.txt",
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: ISO-8859-1\n",
    );
    bag.write_bytes("bag-info.txt", b"Contact-Name: Jos\xe9\n");
    let got = bag.check();
    valid(&got);
    assert_eq!(got.info, [("Contact-Name".into(), "Jos\u{e9}".into())]);
    // UTF-8 is the default; the same byte is then invalid.
    bag.write(
        "bagit.txt",
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
    );
    only_problem(
        &bag.check(),
        "encoding",
        "bag-info.txt is not UTF-8 text: byte offset 17",
    );
    fs::remove_file(bag.path().join("bag-info.txt")).unwrap();
    // An encoding not read here: said once, and no other tag file is read.
    bag.write(
        "bagit.txt",
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-32\n",
    );
    let got = bag.check();
    only_problem(&got, "encoding", "'UTF-32' is not one rwbridge reads");
    assert!(got.rows.is_empty());
    // A byte-order mark in another tag file is doubtful, not invalid.
    bag.write(
        "bagit.txt",
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
    );
    bag.write(
        "manifest-sha256.txt",
        &format!("\u{feff}{}", line("X", "data/x")),
    );
    let got = bag.check();
    valid(&got);
    assert_eq!(codes(&got.doubts), ["bom"]);
}

#[test]
fn structure_and_algorithms() {
    let bag = Bag::new("1.0", &[("x", "X")]);
    fs::remove_file(bag.path().join("manifest-sha256.txt")).unwrap();
    only_problem(&bag.check(), "structure", "no payload manifest");
    bag.write("manifest-sha256.txt", &line("X", "data/x"));
    fs::remove_dir_all(bag.path().join("data")).unwrap();
    let got = bag.check();
    assert_eq!(
        codes(&got.problems),
        ["structure", "missing"],
        "{:?}",
        got.problems
    );
    assert!(got.problems[0].message.contains("no payload directory"));
    // A manifest whose algorithm rwbridge lacks is still read for
    // completeness, but the bag cannot be called valid.
    let bag = Bag::new("1.0", &[("x", "X")]);
    bag.write("manifest-shake_128.txt", "abcd  data/x\n");
    let got = bag.check();
    only_problem(&got, "algorithm", "does not compute 'shake_128'");
    assert_eq!(statuses(&got), ["ok", "present"]);
}

#[test]
fn manifest_lines_follow_bagit_grammar() {
    let bag = Bag::new("1.0", &[("x", "X")]);
    let good = line("X", "data/x");
    for (bad, says) in [
        (
            format!("{}data/x\n", sha256("X")),
            "not `checksum filepath`",
        ),
        ("abc  data/x\n".to_string(), "3 hex digits; sha256 has 64"),
        (format!("  {good}"), "not `checksum filepath`"),
        (format!("{}  data/100%\n", sha256("X")), "percent-encoding"),
    ] {
        bag.write("manifest-sha256.txt", &format!("{good}{bad}"));
        only_problem(&bag.check(), "manifest", says);
    }
    // Tabs and several blanks separate too; CRLF endings; uppercase hex.
    bag.write(
        "manifest-sha256.txt",
        &format!("{}\t \tdata/x\r\n", sha256("X").to_uppercase()),
    );
    valid(&bag.check());
}

#[test]
fn percent_encoded_names_in_1_0_and_literal_ones_before() {
    let names = [
        ("a\nb", "data/a%0Ab"),
        ("c\rd", "data/c%0Dd"),
        ("50%", "data/50%25"),
    ];
    let files: Vec<(&str, &str)> = names.iter().map(|(n, _)| (*n, "content")).collect();
    let bag = Bag::new("1.0", &files);
    let manifest: String = names
        .iter()
        .map(|(_, coded)| line("content", coded))
        .collect();
    bag.write("manifest-sha256.txt", &manifest);
    let got = bag.check();
    valid(&got);
    assert_eq!(got.rows[0].file, b"data/a\nb");
    // 0.97: `%` is a plain character; bagit-python's %0A and %0D decode.
    let bag = Bag::new("0.97", &[("50%25", "y"), ("a\nb", "z")]);
    bag.write(
        "manifest-sha256.txt",
        &(line("y", "data/50%25") + &line("z", "data/a%0Ab")),
    );
    valid(&bag.check());
}

#[cfg(unix)]
#[test]
fn nothing_outside_the_bag_is_read() {
    let outside = tree(&[("secret", "S")]);
    let bag = Bag::new("1.0", &[("x", "X")]);
    let secret = outside.path().join("secret");
    std::os::unix::fs::symlink(&secret, bag.path().join("data/link")).unwrap();
    bag.write(
        "manifest-sha256.txt",
        &[
            line("X", "data/x"),
            line("S", "data/link"),
            line("S", "data/../../secret"),
            line("S", secret.to_str().unwrap()),
            line("X", "bagit.txt"),
        ]
        .concat(),
    );
    let got = bag.check();
    assert_eq!(
        statuses(&got),
        ["ok", "refused", "refused", "refused", "refused"]
    );
    assert_eq!(
        codes(&got.problems),
        ["outside", "outside", "outside", "outside", "outside"],
        "{:?}",
        got.problems
    );
    assert!(got
        .rows
        .iter()
        .all(|r| r.status == Status::Ok || r.actual.is_none()));
    // A tag manifest must not list payload files.
    let bag = Bag::new("1.0", &[("x", "X")]);
    bag.write("tagmanifest-sha256.txt", &line("X", "data/x"));
    only_problem(&bag.check(), "outside", "is a payload file");
    // Links that stay inside are followed.
    let bag = Bag::new("1.0", &[("x", "X")]);
    std::os::unix::fs::symlink("x", bag.path().join("data/y")).unwrap();
    bag.write(
        "manifest-sha256.txt",
        &(line("X", "data/x") + &line("X", "data/y")),
    );
    valid(&bag.check());
}

#[test]
fn completeness_both_ways() {
    let bag = Bag::new("1.0", &[("x", "X"), ("y", "Y")]);
    fs::remove_file(bag.path().join("data/y")).unwrap();
    bag.write("data/new", "N");
    let got = bag.check();
    assert_eq!(
        codes(&got.problems),
        ["unlisted", "missing"],
        "{:?}",
        got.problems
    );
    assert_eq!(statuses(&got), ["ok", "missing", "extra"]);
    let extra = &got.rows[2];
    assert_eq!(
        (extra.file.as_slice(), extra.line),
        (&b"data/new"[..], None)
    );
    assert_eq!(extra.actual.as_deref(), Some(sha256("N").as_str()));
    // 1.0: every payload file in every payload manifest.
    let bag = Bag::new("1.0", &[("x", "X"), ("y", "Y")]);
    let md5 = format!("{}  data/x\n", hash_bytes(Algo::Md5, b"X"));
    bag.write("manifest-md5.txt", &md5);
    let got = bag.check();
    only_problem(&got, "unlisted", "data/y is not listed in manifest-md5.txt");
    assert_eq!(statuses(&got), ["ok", "extra", "ok", "ok"]);
    // Before 1.0, one manifest is enough: doubtful only.
    let bag = Bag::new("0.97", &[("x", "X"), ("y", "Y")]);
    bag.write("manifest-md5.txt", &md5);
    let got = bag.check();
    valid(&got);
    assert_eq!(codes(&got.doubts), ["partial"]);
}

#[test]
fn files_to_fetch_may_be_absent() {
    let bag = Bag::new("1.0", &[("x", "X"), ("far", "F")]);
    fs::remove_file(bag.path().join("data/far")).unwrap();
    bag.write("fetch.txt", "https://example.org/far 1 data/far\n");
    bag.write("bag-info.txt", "Payload-Oxum: 2.2\n");
    let got = bag.check();
    valid(&got);
    assert_eq!(statuses(&got), ["ok", "unfetched"]);
    bag.write("bag-info.txt", "Payload-Oxum: 2.1\n");
    only_problem(&bag.check(), "oxum", "counting 1 still to fetch");
    for (fetch, says) in [
        ("example.org/far 1 data/far\n", "not absolute"),
        ("https://e/far ten data/far\n", "neither a number"),
        ("https://e/far 1\n", "not `url length filepath`"),
        ("https://e/t 1 bag-info.txt\n", "payload files only"),
    ] {
        bag.write("bag-info.txt", "Payload-Oxum: 2.2\n");
        bag.write(
            "fetch.txt",
            &format!("https://example.org/far 1 data/far\n{fetch}"),
        );
        only_problem(&bag.check(), "fetch", says);
    }
    bag.write(
        "fetch.txt",
        "https://e/far 1 data/far\nhttps://e/z 1 data/z\n",
    );
    bag.write("bag-info.txt", "Payload-Oxum: 3.3\n");
    only_problem(
        &bag.check(),
        "fetch",
        "'data/z' is not listed in manifest-sha256.txt",
    );
}

#[test]
fn payload_oxum() {
    let bag = Bag::new("1.0", &[("x", "XX"), ("y", "Y")]);
    bag.write("bag-info.txt", "Payload-Oxum: 3.2\n");
    valid(&bag.check());
    bag.write("bag-info.txt", "Payload-Oxum: 3.1\n");
    only_problem(
        &bag.check(),
        "oxum",
        "3 octets in 1 files; the payload has 3 octets in 2 files",
    );
    bag.write("bag-info.txt", "Payload-Oxum: 3\n");
    only_problem(&bag.check(), "oxum", "not OctetCount.StreamCount");
    bag.write("bag-info.txt", "Payload-Oxum: 3.2\nPayload-Oxum: 3.2\n");
    let got = bag.check();
    valid(&got);
    assert_eq!(codes(&got.doubts), ["bag_info"]);
    // Fast: the Oxum and completeness, nothing hashed.
    bag.write("data/x", "ZZ");
    let fast = check(bag.path(), true);
    valid(&fast);
    assert_eq!(statuses(&fast), ["present", "present"]);
    assert!(fast.rows.iter().all(|r| r.actual.is_none()));
    only_problem(
        &bag.check(),
        "mismatch",
        "'data/x' does not have the sha256 checksum",
    );
    bag.write("data/x", "ZZZ");
    bag.write("bag-info.txt", "Payload-Oxum: 3.2\n");
    only_problem(&check(bag.path(), true), "oxum", "the payload has 4 octets");
}

#[test]
fn bag_info_lines() {
    let bag = Bag::new("1.0", &[("x", "X")]);
    bag.write(
        "bag-info.txt",
        "Source-Organization: Lab\nExternal-Description: one\n  two\nContact-Name: A\nContact-Name: B\n",
    );
    let got = bag.check();
    valid(&got);
    assert_eq!(got.info[1].1, "one\ntwo");
    assert_eq!(got.info.len(), 4);
    bag.write("bag-info.txt", "Source-Organization Lab\n");
    only_problem(&bag.check(), "bag_info", "line 1 is not `Label: value`");
    bag.write("bag-info.txt", "Source-Organization:Lab\n");
    only_problem(&bag.check(), "bag_info", "line 1 is not in the form");
    let bag = Bag::new("0.97", &[("x", "X")]);
    bag.write("bag-info.txt", "Source-Organization :Lab\n");
    let got = bag.check();
    valid(&got);
    assert_eq!(got.info[0].1, "Lab");
    // Before 0.96 the metadata file is package-info.txt.
    let bag = Bag::new("0.95", &[("x", "X")]);
    bag.write("package-info.txt", "Payload-Oxum: 9.9\n");
    only_problem(&bag.check(), "oxum", "9 octets");
}

#[test]
fn duplicates_by_version() {
    let twice = line("X", "data/x") + &line("X", "data/x");
    let bag = Bag::new("1.0", &[("x", "X")]);
    bag.write("manifest-sha256.txt", &twice);
    only_problem(
        &bag.check(),
        "duplicate",
        "listed on line 1 and again (BagIt 1.0",
    );
    let old = Bag::new("0.97", &[("x", "X")]);
    old.write("manifest-sha256.txt", &twice);
    let got = old.check();
    valid(&got);
    assert_eq!(codes(&got.doubts), ["duplicate"]);
    old.write(
        "manifest-sha256.txt",
        &(line("X", "data/x") + &line("Y", "data/x")),
    );
    let got = old.check();
    assert_eq!(codes(&got.problems), ["duplicate", "mismatch"]);
    assert!(got.problems[0]
        .message
        .contains("again with another checksum"));
}

#[test]
fn checksums_of_payload_and_tag_files() {
    let dir = made(&[("a", "A"), ("b", "B")], &[Algo::Sha256]);
    fs::write(dir.path().join("data/b"), "Z").unwrap();
    let got = check(dir.path(), false);
    only_problem(&got, "mismatch", "manifest-sha256.txt line 2: 'data/b'");
    assert_eq!(got.rows[1].actual.as_deref(), Some(sha256("Z").as_str()));
    let dir = made(&[("a", "A")], &[Algo::Sha256]);
    fs::write(
        dir.path().join("bag-info.txt"),
        "Contact-Name: Changed\nPayload-Oxum: 1.1\n",
    )
    .unwrap();
    only_problem(
        &check(dir.path(), false),
        "mismatch",
        "tagmanifest-sha256.txt line 1: 'bag-info.txt'",
    );
    fs::remove_file(dir.path().join("bag-info.txt")).unwrap();
    only_problem(
        &check(dir.path(), false),
        "missing",
        "'bag-info.txt' is missing",
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_in_the_payload_is_unreadable_and_never_blocks() {
    let bag = Bag::new("1.0", &[("x", "X")]);
    crate::test_support::fifo(&bag.path().join("data/pipe"));
    bag.write(
        "manifest-sha256.txt",
        &(line("X", "data/x") + &line("", "data/pipe")),
    );
    let started = std::time::Instant::now();
    let got = bag.check();
    only_problem(&got, "unreadable", "'data/pipe' is not a regular file");
    assert!(started.elapsed().as_secs() < 2);
}

#[test]
fn doubtful_but_valid() {
    let bag = Bag::new("1.0", &[("x", "X"), ("y", "Y"), ("z", "Z")]);
    bag.write(
        "manifest-sha256.txt",
        &format!(
            "{}{} *data/y\n\n# made by hand\n{}",
            line("X", "./data/x"),
            sha256("Y"),
            line("Z", "data/sub/../z")
        ),
    );
    let got = bag.check();
    valid(&got);
    assert_eq!(
        codes(&got.doubts),
        ["blank_line", "comment", "star", "roundabout", "dot_slash"]
    );
    assert_eq!(got.rows[1].file, b"data/y");
    assert_eq!(
        got.doubts[4].message,
        "manifest-sha256.txt: paths starting with './' (line 1)"
    );
}

#[test]
fn before_1_0_the_forms_the_suites_valid_bags_have_are_not_doubtful() {
    let bag = Bag::new("0.97", &[("x", "X"), ("y", "Y")]);
    // A `./` on some lines: the drafts' own form.
    bag.write(
        "manifest-sha256.txt",
        &[line("X", "data/x"), line("Y", "./data/y")].concat(),
    );
    // Blanks around the colon, and reserved labels given twice.
    bag.write(
        "bag-info.txt",
        "Bagging-Date: 2001-01-01\nBagging-Date: 2002-02-02\nTag : 1\nTag:   2\n",
    );
    let got = bag.check();
    valid(&got);
    assert!(got.doubts.is_empty(), "{:?}", got.doubts);
    // Every path with `./`: made relative to somewhere else, doubtful.
    bag.write(
        "manifest-sha256.txt",
        &[line("X", "./data/x"), line("Y", "./data/y")].concat(),
    );
    assert_eq!(codes(&bag.check().doubts), ["dot_slash"]);
    // In 1.0 each of them is doubtful (or a problem).
    bag.write(
        "bagit.txt",
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
    );
    bag.write(
        "manifest-sha256.txt",
        &[line("X", "data/x"), line("Y", "./data/y")].concat(),
    );
    bag.write(
        "bag-info.txt",
        "Bagging-Date: 2001-01-01\nBagging-Date: 2002-02-02\nTag:   2\n",
    );
    assert_eq!(
        codes(&bag.check().doubts),
        ["bag_info", "bag_info", "dot_slash"]
    );
}

#[cfg(unix)]
#[test]
fn names_found_only_without_case_and_system_files_gone_are_doubts() {
    let bag = Bag::new("0.97", &[("hello.txt", "hi"), ("Thumbs.db", "")]);
    bag.write(
        "manifest-sha256.txt",
        &[
            line("hi", "data/hello.txt"),
            line("hi", "data/HELLO.txt"),
            line("", "data/.DS_Store"),
            line("", "data/Thumbs.db"),
        ]
        .concat(),
    );
    bag.write("bag-info.txt", "Payload-Oxum: 2.3\n");
    let got = bag.check();
    valid(&got);
    assert_eq!(statuses(&got), ["ok", "ok", "missing", "ok"]);
    assert_eq!(codes(&got.doubts), ["system_file", "names", "system_file"]);
    // A file of the user's that is gone is still a problem, and so is an
    // Oxum that counts more than the system files gone.
    fs::remove_file(bag.path().join("data/hello.txt")).unwrap();
    let codes_now = codes(&bag.check().problems);
    assert_eq!(codes_now, ["oxum", "missing", "missing"]);
}

#[cfg(unix)]
#[test]
fn names_equal_up_to_case_or_normalisation() {
    let composed = "caf\u{e9}";
    let decomposed = "cafe\u{301}";
    let bag = Bag::new(
        "1.0",
        &[(decomposed, "C"), ("README", "R"), ("readme", "r")],
    );
    bag.write(
        "manifest-sha256.txt",
        &[
            line("C", &format!("data/{composed}")),
            line("R", "data/README"),
            line("r", "data/readme"),
        ]
        .concat(),
    );
    let got = bag.check();
    valid(&got);
    assert_eq!(statuses(&got), ["ok", "ok", "ok"]);
    assert_eq!(codes(&got.doubts), ["names", "names"]);
    assert!(got
        .doubts
        .iter()
        .any(|d| d.message.contains("only after Unicode normalisation")));
    assert!(got
        .doubts
        .iter()
        .any(|d| d.message.contains("'data/README' and 'data/readme'")));
}

#[test]
fn cancelled_checks_stop() {
    let dir = made(&[("a", "A")], &[Algo::Sha256]);
    let rt = Runtime::new(2, None);
    rt.cancel().set();
    let err = check_bag(dir.path(), false, None, &rt, None).unwrap_err();
    assert_eq!(err.kind(), "interrupt");
}

#[test]
fn a_missing_bag_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(1, None);
    let err = check_bag(&dir.path().join("nope"), false, None, &rt, None).unwrap_err();
    assert_eq!(err.kind(), "io");
    let (_d, file) = crate::test_support::one_file("f", "x");
    let err = check_bag(&file, false, None, &rt, None).unwrap_err();
    assert!(
        err.to_string()
            .contains("neither a directory nor a serialized bag"),
        "{err}"
    );
}

#[test]
fn many_files_with_two_digests_point_at_the_damaged_one() {
    let sizes = [0usize, 5, 200, 70_000, 300_000, 1_000];
    let files: Vec<(String, String)> = sizes
        .iter()
        .map(|&n| (format!("f{n}"), "x".repeat(n)))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let dir = made(&refs, &[Algo::Sha512, Algo::Sha256]);
    let got = check(dir.path(), false);
    valid(&got);
    fs::write(dir.path().join("data/f70000"), "y".repeat(70_000)).unwrap();
    let got = check(dir.path(), false);
    assert_eq!(codes(&got.problems), ["mismatch", "mismatch"]);
    let bad: Vec<&[u8]> = got
        .rows
        .iter()
        .filter(|r| r.status == Status::Mismatch)
        .map(|r| r.file.as_slice())
        .collect();
    assert_eq!(bad, [b"data/f70000", b"data/f70000"]);
}

#[test]
fn digests_found_in_parts_elsewhere_give_the_same_check() {
    let files: Vec<(String, String)> = (0..8)
        .map(|i| (format!("d{}/f{i}", i % 2), "z".repeat(i * 1000)))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let dir = made(&refs, &[Algo::Sha512, Algo::Md5]);
    fs::write(dir.path().join("data/d1/f3"), "damaged").unwrap();
    fs::write(dir.path().join("data/unlisted"), "new").unwrap();
    let whole = check(dir.path(), false);
    assert_eq!(
        codes(&whole.problems),
        ["unlisted", "oxum", "mismatch", "mismatch"]
    );

    let pending = prepare(dir.path(), false, None).unwrap();
    let shared: Vec<Job> = pending
        .jobs()
        .iter()
        .filter(|j| !pending.in_memory(j))
        .cloned()
        .collect();
    assert_eq!(shared.len(), 9, "the payload files, not the tag files");
    // Parts as workers hash them, their digests in another order; the
    // first file in no part (it is hashed here, as the tag files are).
    let rt = Runtime::new(1, None);
    let mut parts = Vec::new();
    for part in shared[1..].chunks(5) {
        let jobs: Vec<Job> = part
            .iter()
            .map(|j| Job {
                algos: j.algos.iter().rev().copied().collect(),
                ..j.clone()
            })
            .collect();
        let found = hash_part(dir.path(), &jobs, &rt, None).unwrap();
        parts.extend(jobs.into_iter().zip(found.into_iter().map(Some)));
    }
    let digests = pending.merge_parts(parts.clone(), &rt).unwrap();
    assert_eq!(pending.finish(digests), whole);

    // A part that failed: its files' rows are left out, and only theirs.
    let lost = parts[0].0.path.clone();
    parts[0].1 = None;
    let pending = prepare(dir.path(), false, None).unwrap();
    let digests = pending.merge_parts(parts, &rt).unwrap();
    let partial = pending.finish(digests);
    let kept: Vec<&Row> = whole.rows.iter().filter(|r| r.file != lost).collect();
    assert_eq!(whole.rows.len() - kept.len(), 2, "one row in each manifest");
    assert_eq!(partial.rows.iter().collect::<Vec<_>>(), kept);
}

#[test]
fn a_nul_byte_in_a_tag_file_is_a_problem_shown_visibly() {
    let bag = Bag::new("1.0", &[("a", "A")]);
    let manifest = format!("{}{}  data/x\0y\n", line("A", "data/a"), sha256("X"));
    bag.write("manifest-sha256.txt", &manifest);
    let got = bag.check();
    only_problem(&got, "manifest", "line 2 has a NUL byte");
    assert!(got.problems[0].message.contains("data/x\\0y"));
    assert!(!got.problems[0].message.contains('\0'));
    assert_eq!(statuses(&got), ["ok"]);
    // In bag-info.txt and fetch.txt too.
    let bag = Bag::new("1.0", &[("a", "A")]);
    bag.write("bag-info.txt", "Contact-Name: A\0B\n");
    bag.write("fetch.txt", "https://example.org/x 1 data/\0\n");
    let got = bag.check();
    assert_eq!(codes(&got.problems), ["bag_info", "fetch"]);
    for problem in &got.problems {
        assert!(!problem.message.contains('\0'), "{}", problem.message);
        assert!(problem.message.contains("\\0"), "{}", problem.message);
    }
    assert!(got.info.is_empty());
}

#[test]
fn a_huge_line_is_quoted_short() {
    let bag = Bag::new("1.0", &[("a", "A")]);
    let huge = "z".repeat(10 << 20);
    bag.write(
        "manifest-sha256.txt",
        &format!("{}{huge}\n", line("A", "data/a")),
    );
    let got = bag.check();
    only_problem(&got, "manifest", &format!("...' ({} bytes)", huge.len()));
    assert!(got.problems[0].message.len() < 400);
}

#[test]
fn unlisted_files_exclude_matches_are_no_part_of_the_check() {
    let bag = Bag::new("1.0", &[("a", "A"), ("s/k.tmp", "K")]);
    bag.write("bag-info.txt", "Payload-Oxum: 2.2\n");
    for (name, content) in [
        ("data/.DS_Store", "finder"),
        ("data/s/x.tmp", "scratch"),
        ("data/cache/c", "cached"),
        // Names that differ only by case: a doubt, unless left out.
        ("data/S/Y.tmp", "y"),
        ("data/s/y.tmp", "y"),
    ] {
        bag.write(name, content);
    }
    let exclude = Exclude::new(&["*.tmp", ".DS_Store", "cache/"]).unwrap();
    let rt = Runtime::new(2, None);
    for fast in [false, true] {
        let got = check_bag(bag.path(), fast, Some(&exclude), &rt, None).unwrap();
        valid(&got);
        assert!(got.doubts.is_empty(), "{:?}", got.doubts);
        let files: Vec<&[u8]> = got.rows.iter().map(|r| r.file.as_slice()).collect();
        assert_eq!(files, [&b"data/a"[..], b"data/s/k.tmp"]);
        let plain = check_bag(bag.path(), fast, None, &rt, None).unwrap();
        assert!(codes(&plain.problems).contains(&"unlisted"));
        assert!(codes(&plain.problems).contains(&"oxum"));
        assert_eq!(codes(&plain.doubts), ["names", "system_file"]);
    }
    // Nothing left out is even planned for hashing.
    let pending = prepare(bag.path(), false, Some(&exclude)).unwrap();
    let planned: Vec<&[u8]> = pending.jobs().iter().map(|j| j.path.as_slice()).collect();
    assert_eq!(planned, [&b"data/a"[..], b"data/s/k.tmp"]);
    // A listed file a pattern matches is checked as always.
    bag.write("data/s/k.tmp", "damaged");
    let got = check_bag(bag.path(), false, Some(&exclude), &rt, None).unwrap();
    assert_eq!(
        codes(&got.problems),
        ["oxum", "mismatch"],
        "{:?}",
        got.problems
    );
}
