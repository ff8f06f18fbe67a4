//! What a listing leaves out (`exclude =`): `.gitignore`-style globs, and
//! manifest names spelled as a listing spells them, to compare the two.
//! Never touches R.

use super::name_to_path;
use crate::errors::{quoted, RwError};
use std::path::Path;

/// What a listing leaves out: glob patterns with `.gitignore`'s rules,
/// matched against names relative to the listed directory with `/`
/// between folders (a pattern without a `/` but at its end matches in
/// every folder, one with a `/` from the top; `!` takes a name back, but
/// never out of a folder left out; a trailing `/` matches folders only).
/// The `ignore` crate's gitignore matcher, as ripgrep uses it.
pub struct Exclude {
    matcher: ignore::gitignore::Gitignore,
}

impl Exclude {
    /// The patterns, in order (a later one wins); a pattern that is not a
    /// glob is a `Value` error naming the argument `exclude`.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Exclude, RwError> {
        let mut builder = ignore::gitignore::GitignoreBuilder::new("");
        for pattern in patterns {
            let pattern = pattern.as_ref();
            builder
                .add_line(None, pattern)
                .map_err(|e| RwError::Value {
                    arg: "exclude",
                    reason: format!(
                        "holds {}, which is not a glob: {}",
                        quoted(pattern),
                        glob_error(&e)
                    ),
                })?;
        }
        let matcher = builder.build().map_err(|e| RwError::Value {
            arg: "exclude",
            reason: format!("is not a set of globs: {e}"),
        })?;
        Ok(Exclude { matcher })
    }

    /// Whether the file (or folder) at `relative` is left out by the
    /// patterns themselves (a listing does not enter folders left out).
    pub fn excludes(&self, relative: &Path, is_dir: bool) -> bool {
        self.matcher.matched(relative, is_dir).is_ignore()
    }

    /// Whether the file a manifest or the user names (relative to the
    /// directory, `/`-separated) is left out, by itself or by a folder
    /// above it; a name that leads outside the directory never is.
    pub fn excludes_name(&self, name: &[u8]) -> bool {
        let Some(name) = normal_name(name) else {
            return false;
        };
        // As a listing meets it: each folder from the top, then the file.
        let folders = name.iter().enumerate().filter(|(_, &b)| b == b'/');
        let mut paths: Vec<(&[u8], bool)> = folders.map(|(i, _)| (&name[..i], true)).collect();
        paths.push((&name, false));
        paths
            .into_iter()
            .any(|(path, is_dir)| self.excludes(&name_to_path(path), is_dir))
    }
}

/// The glob's own complaint, without the crate's "error parsing glob" and
/// the pattern repeated.
fn glob_error(e: &ignore::Error) -> String {
    let text = e.to_string();
    match text.split_once("': ") {
        Some((_, reason)) if text.starts_with("error parsing glob") => reason.to_string(),
        _ => text,
    }
}

/// A manifest name as a listing spells it (`./a` and `sub//../a` are `a`),
/// or `None` for one that is absolute or leads outside.
pub fn normal_name(name: &[u8]) -> Option<Vec<u8>> {
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
    use crate::test_support::tree;
    use crate::tree::list_files;

    #[test]
    fn exclude_follows_gitignore_rules() {
        let files = [
            "a.tmp",
            "sub/b.tmp",
            "keep.tmp",
            "top.txt",
            "sub/top.txt",
            "cache/x",
            "sub/cache/y",
            ".DS_Store",
            "sub/.DS_Store",
            "logs/2026/z.log",
            "logs/readme",
            "plain",
        ];
        let dir = tree(&files.map(|n| (n, n)));
        let exclude = Exclude::new(&[
            "*.tmp",
            "!keep.tmp",
            "/top.txt",
            "cache/**",
            ".DS_Store",
            "logs/**/*.log",
        ])
        .unwrap();
        let names = list_files(dir.path(), None, Some(&exclude)).unwrap();
        let names: Vec<&str> = names
            .iter()
            .map(|n| std::str::from_utf8(n).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "keep.tmp",
                "logs/readme",
                "plain",
                "sub/cache/y",
                "sub/top.txt"
            ]
        );
        // A folder left out is not entered: nothing in it comes back.
        let folder = Exclude::new(&["sub/", "!sub/top.txt"]).unwrap();
        let names = list_files(dir.path(), None, Some(&folder)).unwrap();
        assert!(!names.iter().any(|n| n.starts_with(b"sub/")));
        assert!(folder.excludes_name(b"sub/top.txt"));
        assert!(folder.excludes_name(b"./sub//x"));
        assert!(!folder.excludes_name(b"../sub/x"));
        assert!(!folder.excludes_name(b"/abs/sub/x"));
        assert!(!Exclude::new(&[] as &[&str]).unwrap().excludes_name(b"a"));
    }

    #[test]
    fn a_bad_glob_is_a_value_error_naming_exclude() {
        for bad in ["a{b", "[z-a]", "x\\"] {
            let err = Exclude::new(&["*.tmp", bad]).err().unwrap();
            assert_eq!(err.kind(), "value");
            let message = err.to_string();
            assert!(message.starts_with("`exclude` holds '"), "{message}");
            assert!(message.contains(bad), "{message}");
        }
    }

    #[test]
    fn names_are_compared_as_the_listing_spells_them() {
        assert_eq!(normal_name(b"./a//b/./c"), Some(b"a/b/c".to_vec()));
        assert_eq!(normal_name(b"a/../b"), Some(b"b".to_vec()));
        assert_eq!(normal_name(b"../x"), None);
        assert_eq!(normal_name(b"/etc/passwd"), None);
        assert_eq!(normal_name(b"."), None);
    }
}
