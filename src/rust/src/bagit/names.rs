//! Paths inside a bag: the lexical form a manifest path denotes, whether
//! it stays inside the bag and the payload directory, and the keys under
//! which names that differ only by Unicode normalisation or by case meet.
//! Never touches R or the file system.

use unicode_normalization::UnicodeNormalization;

/// A manifest path reduced to the form a directory listing gives
/// (`data/a/b`), and what was unusual about how it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagPath {
    pub path: String,
    /// Written with a leading `./`.
    pub dot_slash: bool,
    /// Written with `//`, `/./`, `..` or a trailing `/` (other than a
    /// leading `./`).
    pub roundabout: bool,
}

/// Why a path names nothing inside the bag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outside {
    Absolute,
    Escapes,
    /// Empty, or the bag itself.
    Empty,
}

/// The path `written` denotes, relative to the bag, `/`-separated.
pub fn bag_path(written: &str) -> Result<BagPath, Outside> {
    if written.starts_with('/') {
        return Err(Outside::Absolute);
    }
    let dot_slash = written.starts_with("./");
    let body = written.trim_start_matches("./");
    let mut parts: Vec<&str> = Vec::new();
    let mut roundabout = false;
    for part in body.split('/') {
        match part {
            "" | "." => roundabout = true,
            ".." => {
                roundabout = true;
                parts.pop().ok_or(Outside::Escapes)?;
            }
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err(Outside::Empty);
    }
    Ok(BagPath {
        path: parts.join("/"),
        dot_slash,
        roundabout,
    })
}

/// Whether `path` (as [`bag_path`] gives it) lies in the payload directory.
pub fn in_payload(path: &str) -> bool {
    path.starts_with("data/")
}

/// The key under which names equal up to Unicode normalisation meet (NFC).
pub fn nfc(name: &str) -> String {
    name.nfc().collect()
}

/// The key under which names equal up to normalisation and case meet, as
/// on a case-insensitive file system.
pub fn folded(name: &str) -> String {
    name.nfc().collect::<String>().to_lowercase()
}

/// Whether the last component of `path` names a file that an operating
/// system makes by itself (Finder's `.DS_Store` and `._*` AppleDouble
/// files, Explorer's `Thumbs.db` and `desktop.ini`, macOS's `Icon\r`):
/// files that copying tools drop or add on their own.
pub fn is_system_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        ".DS_Store" | "Thumbs.db" | "ehthumbs.db" | "desktop.ini" | "Icon\r"
    ) || (name.starts_with("._") && name.len() > 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_reduce_as_a_listing_spells_them() {
        let plain = bag_path("data/a b/c").unwrap();
        assert_eq!(plain.path, "data/a b/c");
        assert!(!plain.dot_slash && !plain.roundabout);
        let dotted = bag_path("./data/x").unwrap();
        assert_eq!(dotted.path, "data/x");
        assert!(dotted.dot_slash && !dotted.roundabout);
        for (written, want) in [
            ("data//x", "data/x"),
            ("data/./x", "data/x"),
            ("data/sub/../x", "data/x"),
            ("data/x/", "data/x"),
            ("data/../bagit.txt", "bagit.txt"),
        ] {
            let got = bag_path(written).unwrap();
            assert_eq!(got.path, want, "{written}");
            assert!(got.roundabout, "{written}");
        }
        assert_eq!(bag_path("/etc/passwd"), Err(Outside::Absolute));
        assert_eq!(bag_path("../x"), Err(Outside::Escapes));
        assert_eq!(bag_path("data/../../x"), Err(Outside::Escapes));
        assert_eq!(bag_path("./"), Err(Outside::Empty));
        assert!(in_payload("data/x"));
        assert!(!in_payload("data"));
        assert!(!in_payload("database/x"));
    }

    #[test]
    fn normalisation_and_case_keys() {
        let composed = "caf\u{e9}";
        let decomposed = "cafe\u{301}";
        assert_ne!(composed, decomposed);
        assert_eq!(nfc(composed), nfc(decomposed));
        assert_eq!(folded("README.TXT"), folded("readme.txt"));
        assert_eq!(folded("CAF\u{c9}"), folded(decomposed));
        assert_ne!(nfc("a"), nfc("A"));
    }

    #[test]
    fn system_files() {
        for name in [
            "data/.DS_Store",
            "data/a/Thumbs.db",
            "desktop.ini",
            "data/._x.tif",
        ] {
            assert!(is_system_file(name), "{name}");
        }
        for name in [
            "data/DS_Store",
            "data/thumbs.db.txt",
            "data/._",
            "data/a._b",
        ] {
            assert!(!is_system_file(name), "{name}");
        }
    }
}
