//! The listing, and names opened under a directory: every way a name can
//! lead inside or outside, with and without `openat2()`, and a directory
//! swapped for a link while names are opened.

use super::*;
use crate::test_support::tree;

#[test]
fn listing_is_sorted_recursive_and_skips_the_manifest() {
    let dir = tree(&["b", "a/z", "a/b c", "A", "sha1sum.txt"].map(|n| (n, n)));
    fs::create_dir(dir.path().join("empty")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("b"), dir.path().join("link")).unwrap();
    let manifest = dir.path().join("sha1sum.txt");
    let names = list_files(dir.path(), Some(&manifest), None).unwrap();
    let names: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
    assert_eq!(names, vec![&b"A"[..], b"a/b c", b"a/z", b"b"]);
    let all = list_files(dir.path(), None, None).unwrap();
    assert_eq!(all.len(), 5);
}

#[test]
fn names_escape_on_their_face() {
    for name in [
        "../x",
        "a/../../x",
        "/etc/passwd",
        "./../x",
        "a/b/../../../x",
    ] {
        assert!(escapes(Path::new(name)), "{name}");
    }
    for name in ["x", "a/../x", "./a/./b", "a/b/../../x", "..a", "a/.."] {
        assert!(!escapes(Path::new(name)), "{name}");
    }
}

#[cfg(unix)]
mod unix {
    use super::*;
    use crate::status::Status;
    use std::os::unix::fs::symlink;

    /// What opening `name` gives: the content read, or the status.
    fn opened(confined: &Confined, name: &str) -> Result<String, Status> {
        let mut file = confined.open(Path::new(name))?;
        let mut buf = vec![0; 64];
        let n = file.fill(&mut buf).unwrap();
        Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// `dir` with files, links inside and out, and a directory outside
    /// holding `secret.txt`, next to it (so `up/outside` reaches it).
    struct Scene {
        top: tempfile::TempDir,
    }

    impl Scene {
        fn new() -> Scene {
            let top = tree(&[
                ("d/a", "A"),
                ("d/sub/f", "F"),
                ("d/sub/deep/g", "G"),
                ("outside/secret.txt", "SECRET"),
            ]);
            let d = top.path().join("d");
            let real_d = fs::canonicalize(&d).unwrap();
            let outside = fs::canonicalize(top.path().join("outside")).unwrap();
            let links: [(&str, PathBuf); 12] = [
                ("abs", real_d.join("sub/f")),
                ("abs_dir", real_d.join("sub")),
                ("abs_up", real_d.join("sub/../../outside/secret.txt")),
                ("rel", "sub/f".into()),
                ("sub/back", "../a".into()),
                ("up", "..".into()),
                ("out", outside.join("secret.txt")),
                ("out_dir", outside.clone()),
                ("dangling_out", outside.join("nosuch")),
                ("dangling_in", "nosuch".into()),
                ("loop", "loop".into()),
                ("to_deep", "sub/deep".into()),
            ];
            for (name, target) in links {
                symlink(target, d.join(name)).unwrap();
            }
            crate::test_support::fifo(&d.join("fifo"));
            Scene { top }
        }

        fn dir(&self) -> PathBuf {
            self.top.path().join("d")
        }
    }

    const OK: [(&str, &str); 11] = [
        ("a", "A"),
        ("sub/f", "F"),
        ("./sub/./deep/../f", "F"),
        ("abs", "F"),
        ("abs_dir/f", "F"),
        ("rel", "F"),
        ("sub/back", "A"),
        ("to_deep/g", "G"),
        ("to_deep/../f", "F"),
        ("sub/../a", "A"),
        ("abs_dir/deep/../../a", "A"),
    ];

    const NOT_OK: [(&str, Status); 18] = [
        ("nosuch", Status::Missing),
        ("nosuch/../a", Status::Missing),
        ("dangling_in", Status::Missing),
        ("../outside/secret.txt", Status::Refused),
        ("sub/../../outside/secret.txt", Status::Refused),
        ("/etc/passwd", Status::Refused),
        ("up/outside/secret.txt", Status::Refused),
        // Out and back in is out, as the kernel's RESOLVE_BENEATH has it.
        ("up/d/a", Status::Refused),
        ("up/outside/nosuch", Status::Refused),
        ("up/nowhere/nosuch", Status::Refused),
        ("out", Status::Refused),
        ("out_dir/secret.txt", Status::Refused),
        ("dangling_out", Status::Refused),
        ("abs_up", Status::Refused),
        ("loop", Status::Unreadable),
        ("sub", Status::Unreadable),
        ("fifo", Status::Unreadable),
        ("a/", Status::Unreadable),
    ];

    fn check_every_name(confined: &Confined) {
        for (name, want) in OK {
            assert_eq!(opened(confined, name).as_deref(), Ok(want), "{name}");
        }
        for (name, want) in NOT_OK {
            assert_eq!(opened(confined, name), Err(want), "{name}");
        }
    }

    #[test]
    fn every_name_inside_opens_and_every_name_outside_is_refused() {
        let scene = Scene::new();
        let dir = scene.dir();
        let started = std::time::Instant::now();
        check_every_name(&Confined::new(&dir, false).unwrap());
        // The walk alone, as on kernels without openat2().
        let confined = Confined::new(&dir, false).unwrap();
        confined.walk_only();
        check_every_name(&confined);
        assert!(started.elapsed().as_secs() < 2, "a FIFO blocked");
        // Given as a relative path, or through a link, it is the same.
        let through = scene.top.path().join("link_to_d");
        symlink(&dir, &through).unwrap();
        let confined = Confined::new(&through, false).unwrap();
        confined.walk_only();
        assert_eq!(opened(&confined, "abs").as_deref(), Ok("F"));
        assert_eq!(opened(&confined, "out"), Err(Status::Refused));
        // With allow_outside, names are paths.
        let open = Confined::new(&dir, true).unwrap();
        assert_eq!(opened(&open, "out").as_deref(), Ok("SECRET"));
        assert_eq!(
            opened(&open, "../outside/secret.txt").as_deref(),
            Ok("SECRET")
        );
        assert_eq!(opened(&open, "dangling_out"), Err(Status::Missing));
    }

    #[test]
    fn a_missing_directory_is_an_error_and_reasons_name_the_path() {
        let scene = Scene::new();
        let err = Confined::new(&scene.top.path().join("nope"), false)
            .err()
            .unwrap();
        assert_eq!(err.kind(), "io");
        let dir = scene.dir();
        let confined = Confined::new(&dir, false).unwrap();
        let err = confined.open_reason(Path::new("nosuch")).err().unwrap();
        crate::test_support::assert_says(&err, "No such file or directory");
        crate::test_support::assert_says(&err, "nosuch");
        let err = confined.open_reason(Path::new("out")).err().unwrap();
        crate::test_support::assert_says(&err, "leads outside");
        assert_eq!(confined.size(Path::new("sub/f")), Ok(1));
        assert_eq!(confined.size(Path::new("out")), Err(Status::Refused));
    }

    /// The race of issue 18: `abs` is an absolute link to `sub/f` inside;
    /// another thread keeps swapping `sub` for a link to a directory
    /// outside that holds another `f` (on Linux exchanging the two
    /// atomically, as fast as it can, as the attacker did).
    /// Opening `abs` must give the inside file or no file, never the
    /// outside one, with or without openat2().
    #[test]
    fn swapping_a_directory_for_a_link_never_leads_outside() {
        let top = tree(&[("d/sub/f", "inside"), ("elsewhere/f", "OUTSIDE")]);
        let d = fs::canonicalize(top.path().join("d")).unwrap();
        symlink(d.join("sub/f"), d.join("abs")).unwrap();
        let elsewhere = fs::canonicalize(top.path().join("elsewhere")).unwrap();
        let stop = std::sync::atomic::AtomicBool::new(false);
        let (sub, link) = (d.join("sub"), d.join("sub.link"));
        symlink(&elsewhere, &link).unwrap();
        // Stops the swapping however the checks end, a failed assertion
        // included (the scope would otherwise wait for it forever).
        struct Stop<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        std::thread::scope(|scope| {
            let _stop = Stop(&stop);
            scope.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    swap(&sub, &link, &d);
                }
            });
            let mut seen: std::collections::BTreeMap<&str, usize> = Default::default();
            for walk_only in [false, true] {
                let confined = Confined::new(&d, false).unwrap();
                if walk_only {
                    confined.walk_only();
                }
                for name in ["abs", "sub/f", "sub.link/f"] {
                    for _ in 0..5_000 {
                        let got = confined.open(Path::new(name)).map(|mut file| {
                            let mut content = String::new();
                            file_text(&mut file, &mut content);
                            assert_eq!(content, "inside", "{name} read outside");
                        });
                        let status = got.map_or_else(|s| s.name(), |()| "ok");
                        *seen.entry(status).or_default() += 1;
                    }
                }
            }
            // Both outcomes happened: the race was run, not avoided.
            assert!(
                seen.contains_key("ok") && seen.contains_key("refused"),
                "{seen:?}"
            );
            let other: Vec<_> = seen
                .keys()
                .filter(|s| !["ok", "refused", "missing"].contains(s))
                .collect();
            assert!(other.is_empty(), "{seen:?}");
        });
    }

    /// Swaps the directory `sub` with the link `link` once: atomically on
    /// Linux, else by renames (the directory away, the link in, and back).
    fn swap(sub: &Path, link: &Path, d: &Path) {
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::{renameat_with, RenameFlags, CWD};
            let _ = d;
            renameat_with(CWD, sub, CWD, link, RenameFlags::EXCHANGE).unwrap();
        }
        #[cfg(not(target_os = "linux"))]
        {
            let kept = d.join("sub.kept");
            fs::rename(sub, &kept).unwrap();
            fs::rename(link, sub).unwrap();
            fs::rename(sub, link).unwrap();
            fs::rename(&kept, sub).unwrap();
        }
    }

    fn file_text(file: &mut crate::fileio::OpenFile, out: &mut String) {
        let mut buf = vec![0; 64];
        let n = file.fill(&mut buf).unwrap();
        out.push_str(std::str::from_utf8(&buf[..n]).unwrap());
    }
}
