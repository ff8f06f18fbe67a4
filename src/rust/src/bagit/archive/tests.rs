use super::*;
use crate::bagit::make::{make_bag, Hooks, Request};
use crate::bagit::validate::{check_bag, BagCheck};
use crate::test_support::{assert_says, tree};
use std::fs;
use std::io::Write;

/// A bag made by `make_bag()`, its name `name` in a temporary folder.
fn a_bag(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let holder = tempfile::tempdir().unwrap();
    let bag = holder.path().join("my-bag");
    let src = tree(files);
    fs::rename(src.path(), &bag).unwrap();
    let rt = Runtime::new(2, None);
    let info = [("Contact-Name".to_string(), "Ada".to_string())];
    make_bag(
        &bag,
        &Request::for_test(&[Algo::Sha256, Algo::Md5], &info, &rt, &Hooks::default()),
    )
    .unwrap();
    (holder, bag)
}

/// Every entry under `dir` (sorted), with its path below `dir`'s parent.
fn entries(dir: &Path) -> Vec<(String, PathBuf)> {
    let parent = dir.parent().unwrap();
    let mut out: Vec<(String, PathBuf)> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            let name = e
                .path()
                .strip_prefix(parent)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, e.path().to_path_buf())
        })
        .collect();
    out.sort();
    out
}

fn write_tar<W: Write>(dir: &Path, to: W) -> W {
    let mut builder = tar::Builder::new(to);
    builder.follow_symlinks(false);
    for (name, path) in entries(dir) {
        builder.append_path_with_name(&path, &name).unwrap();
    }
    builder.into_inner().unwrap()
}

fn write_zip(dir: &Path, to: &Path) {
    let mut zip = zip::ZipWriter::new(File::create(to).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, path) in entries(dir) {
        if path.is_dir() {
            zip.add_directory(name, options).unwrap();
        } else {
            zip.start_file(name, options).unwrap();
            zip.write_all(&fs::read(&path).unwrap()).unwrap();
        }
    }
    zip.finish().unwrap();
}

/// The bag serialized in every form read.
fn serialized(bag: &Path) -> Vec<PathBuf> {
    let out = bag.parent().unwrap();
    let tar = out.join("my-bag.tar");
    write_tar(bag, File::create(&tar).unwrap());
    let tgz = out.join("my-bag.tgz");
    let gz =
        flate2::write::GzEncoder::new(File::create(&tgz).unwrap(), flate2::Compression::fast());
    write_tar(bag, gz).finish().unwrap();
    let targz = out.join("MY-BAG.TAR.GZ");
    fs::copy(&tgz, &targz).unwrap();
    let zip = out.join("my-bag.zip");
    write_zip(bag, &zip);
    vec![tar, tgz, targz, zip]
}

fn check(path: &Path) -> Result<BagCheck, RwError> {
    check_bag(path, false, None, &Runtime::new(2, None), None)
}

#[test]
fn a_serialized_bag_gives_what_the_unpacked_bag_gives() {
    let (_holder, bag) = a_bag(&[("a.txt", "alpha"), ("sub/b.bin", "beta"), ("sub/c/d", "")]);
    fs::write(bag.join("data/sub/b.bin"), "BETA").unwrap();
    fs::write(bag.join("data/extra"), "not listed").unwrap();
    let unpacked = check(&bag).unwrap();
    assert_eq!(
        unpacked.problems.len(),
        4,
        "two mismatches, unlisted, the Oxum: {:?}",
        unpacked.problems
    );
    for path in serialized(&bag) {
        assert_eq!(check(&path).unwrap(), unpacked, "{}", path.display());
        let fast = check_bag(&path, true, None, &Runtime::new(1, None), None).unwrap();
        let fast_unpacked = check_bag(&bag, true, None, &Runtime::new(1, None), None).unwrap();
        assert_eq!(fast, fast_unpacked, "{}", path.display());
    }
}

#[test]
fn a_compressed_tar_with_the_payload_first_is_read_again_for_it() {
    let (_holder, bag) = a_bag(&[("a", "A"), ("b", "B")]);
    let out = bag.parent().unwrap();
    // The payload before the tag files, and MD5 not among the algorithms
    // assumed before any manifest is met.
    let mut names = entries(&bag);
    names.sort_by_key(|(n, _)| !n.contains("/data"));
    let tgz = out.join("first.tar.gz");
    let gz =
        flate2::write::GzEncoder::new(File::create(&tgz).unwrap(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    for (name, path) in names {
        builder.append_path_with_name(&path, &name).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
    let got = check(&tgz).unwrap();
    assert_eq!(got, check(&bag).unwrap());
    assert!(got.problems.is_empty(), "{:?}", got.problems);
}

#[test]
fn members_that_lead_outside_are_problems_and_never_read() {
    let (_holder, bag) = a_bag(&[("a", "A")]);
    let out = bag.parent().unwrap();
    let tar = out.join("evil.tar");
    let mut builder = tar::Builder::new(File::create(&tar).unwrap());
    for (name, path) in entries(&bag) {
        builder.append_path_with_name(&path, &name).unwrap();
    }
    // A link in data/ that leaves the bag, and a member named with `..`.
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    builder
        .append_link(&mut link, "my-bag/data/link", "../../etc/passwd")
        .unwrap();
    let mut evil = tar::Header::new_gnu();
    evil.set_size(1);
    evil.set_entry_type(tar::EntryType::Regular);
    let name = b"my-bag/../evil";
    evil.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
    evil.set_cksum();
    builder.append(&evil, &b"x"[..]).unwrap();
    builder.into_inner().unwrap();
    let got = check(&tar).unwrap();
    let messages: Vec<&str> = got.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        messages[0].contains("'my-bag/../evil' leads outside"),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("data/link is a symbolic link that leads outside")),
        "{messages:?}"
    );
}

#[test]
fn what_is_not_a_serialized_bag_is_an_error() {
    let out = tempfile::tempdir().unwrap();
    let not = out.path().join("not.zip");
    fs::write(&not, "this is not a zip file").unwrap();
    assert_says(&check(&not).unwrap_err(), "not a zip archive");
    let not = out.path().join("not.tar.gz");
    fs::write(&not, "nor a gzip stream").unwrap();
    assert_says(&check(&not).unwrap_err(), "gzip-compressed tar");
    let other = out.path().join("bag.rar");
    fs::write(&other, "x").unwrap();
    assert_says(
        &check(&other).unwrap_err(),
        "neither a directory nor a serialized bag",
    );
    // Empty, two top folders, one top-level file.
    let empty = out.path().join("empty.tar");
    tar::Builder::new(File::create(&empty).unwrap())
        .into_inner()
        .unwrap();
    assert_says(&check(&empty).unwrap_err(), "it is empty");
    let (_holder, bag) = a_bag(&[("a", "A")]);
    let two = out.path().join("two.zip");
    let mut zip = zip::ZipWriter::new(File::create(&two).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    for name in ["one/bagit.txt", "two/bagit.txt"] {
        zip.start_file(name, options).unwrap();
        zip.write_all(b"x").unwrap();
    }
    zip.finish().unwrap();
    assert_says(
        &check(&two).unwrap_err(),
        "2 top-level members ('one', 'two')",
    );
    let single = out.path().join("single.tar");
    let mut builder = tar::Builder::new(File::create(&single).unwrap());
    builder
        .append_path_with_name(bag.join("bagit.txt"), "bagit.txt")
        .unwrap();
    builder.into_inner().unwrap();
    assert_says(
        &check(&single).unwrap_err(),
        "'bagit.txt' is not a directory",
    );
    assert_eq!(
        fs::read_dir(out.path()).unwrap().count(),
        6,
        "nothing written"
    );
}

#[test]
fn links_inside_the_archive_are_followed_there() {
    let archive = Archive {
        path: PathBuf::from("x.tar"),
        kind: Kind::Tar,
        file: Arc::new(File::open(file!()).unwrap()),
        members: [
            ("data", Member::Dir),
            (
                "data/f",
                Member::File {
                    size: 3,
                    at: At::Tar(0),
                },
            ),
            ("data/l", Member::Link("f".into())),
            ("data/up", Member::Link("../bagit.txt".into())),
            ("data/out", Member::Link("../../x".into())),
            ("data/abs", Member::Link("/etc/passwd".into())),
            ("data/loop", Member::Link("loop".into())),
            ("data/hard", Member::HardLink("data/f".into())),
            ("data/dirlink", Member::Link(".".into())),
            (
                "bagit.txt",
                Member::File {
                    size: 5,
                    at: At::Tar(0),
                },
            ),
        ]
        .into_iter()
        .map(|(k, m)| (k.to_string(), m))
        .collect(),
        outside: Vec::new(),
        tags: HashMap::new(),
        streamed: HashMap::new(),
    };
    assert_eq!(archive.locate("data/l"), Ok(("data/f".into(), 3)));
    assert_eq!(archive.locate("data/up"), Ok(("bagit.txt".into(), 5)));
    assert_eq!(archive.locate("data/hard"), Ok(("data/f".into(), 3)));
    assert_eq!(archive.locate("data/dirlink/f"), Ok(("data/f".into(), 3)));
    assert_eq!(archive.locate("data/out"), Err(Status::Refused));
    assert_eq!(archive.locate("data/abs"), Err(Status::Refused));
    assert_eq!(archive.locate("data/loop"), Err(Status::Unreadable));
    assert_eq!(archive.locate("data/nope"), Err(Status::Missing));
    assert_eq!(archive.locate("data"), Err(Status::Unreadable));
    assert_eq!(archive.locate("../x"), Err(Status::Refused));
}
