//! The one error type of the crate. Every fallible core function returns
//! `Result<T, RwError>`; the binding turns an `RwError` into an R condition
//! whose class is `rwbridge_<kind>_error`. Wrong argument types are R's to
//! catch (`R/errors.R`), so there is no kind for them here. Never touches R.

use std::io;
use std::path::{Path, PathBuf};

/// What went wrong, with the path or argument it concerns and the reason.
#[derive(Debug, thiserror::Error)]
pub enum RwError {
    /// The file system said no; `source` says why.
    #[error("cannot {op} {}: {}", quoted_path(path), os_text(source))]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Text mode met a NUL byte or invalid UTF-8.
    #[error(
        "cannot read {} as text: {what} at byte offset {offset}",
        quoted_path(path)
    )]
    Encoding {
        path: PathBuf,
        offset: u64,
        what: &'static str,
    },
    /// An argument of the right type with a bad value.
    #[error("`{arg}` {reason}")]
    Value { arg: &'static str, reason: String },
    /// The user pressed Ctrl-C; the work was cancelled.
    #[error("interrupted")]
    Interrupted,
    /// A bug: a panic or a broken invariant.
    #[error("internal error in rwbridge: {0}")]
    Internal(String),
}

impl RwError {
    /// An I/O error on `path`, with the OS reason as base R words it
    /// ("No such file or directory"), without Rust's "(os error 2)" suffix.
    pub fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        Self::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }

    /// An I/O failure that is not an OS error code, such as "not a regular file".
    pub fn io_reason(op: &'static str, path: &Path, reason: impl Into<String>) -> Self {
        Self::io(op, path, io::Error::other(reason.into()))
    }

    /// Why it failed, without the operation and the path, to follow a name
    /// in a list: "no such file or directory" for an I/O error, the whole
    /// message otherwise.
    pub fn reason(&self) -> String {
        match self {
            Self::Io { source, .. } => {
                let reason = os_text(source);
                let mut chars = reason.chars();
                match chars.next() {
                    Some(first) => first.to_lowercase().chain(chars).collect(),
                    None => reason,
                }
            }
            other => other.to_string(),
        }
    }

    /// The class stem: the condition class is `rwbridge_<kind>_error`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Io { .. } => "io",
            Self::Encoding { .. } => "encoding",
            Self::Value { .. } => "value",
            Self::Interrupted => "interrupt",
            Self::Internal(_) => "internal",
        }
    }

    /// The path the error concerns, when it concerns one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Io { path, .. } | Self::Encoding { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// An empty vector with room for `len` items, or `on_failure()`: a plain
/// allocation that fails aborts the process, and R with it.
pub fn try_vec<T>(len: u64, on_failure: impl FnOnce() -> RwError) -> Result<Vec<T>, RwError> {
    let mut v = Vec::new();
    match usize::try_from(len) {
        Ok(n) if v.try_reserve_exact(n).is_ok() => Ok(v),
        _ => Err(on_failure()),
    }
}

/// At most this many bytes of an input (a line, a name, a path) are
/// quoted in a message.
pub const QUOTED_MAX: usize = 200;

/// `text` as a message shows it: NUL bytes as `\0`, bytes that are not
/// UTF-8 as `\xNN` (as R prints them), and beyond [`QUOTED_MAX`] bytes cut
/// at a character, with `...` and the whole length in bytes.
pub fn shown(text: impl AsRef<[u8]>) -> String {
    let (head, total) = cut(text.as_ref());
    match total {
        Some(total) => format!("{head}... ({total} bytes)"),
        None => head,
    }
}

/// `text` in quotes, as [`shown`] shows it: `'head...' (N bytes)` when
/// it is cut.
pub fn quoted(text: impl AsRef<[u8]>) -> String {
    quoted_in(text, "'")
}

/// [`quoted`] with `mark` for the quotes.
pub fn quoted_in(text: impl AsRef<[u8]>, mark: &str) -> String {
    let (head, total) = cut(text.as_ref());
    match total {
        Some(total) => format!("{mark}{head}...{mark} ({total} bytes)"),
        None => format!("{mark}{head}{mark}"),
    }
}

fn quoted_path(path: &Path) -> String {
    quoted(path.as_os_str().as_encoded_bytes())
}

/// The text shown of `bytes`, and their whole length when cut.
fn cut(bytes: &[u8]) -> (String, Option<usize>) {
    let (head, total) = if bytes.len() > QUOTED_MAX {
        // Not inside a character: back to the start of the one cut.
        let mut end = QUOTED_MAX;
        while end > QUOTED_MAX - 3 && (0x80..0xc0).contains(&bytes[end]) {
            end -= 1;
        }
        (&bytes[..end], Some(bytes.len()))
    } else {
        (bytes, None)
    };
    let mut shown = String::with_capacity(head.len() + 8);
    for chunk in head.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\0' => shown.push_str("\\0"),
                c => shown.push(c),
            }
        }
        for b in chunk.invalid() {
            shown.push_str(&format!("\\x{b:02x}"));
        }
    }
    (shown, total)
}

/// The OS's own words for an I/O error, as `strerror()` gives them: Rust's
/// " (os error N)" suffix dropped, and only that (a reason that quotes
/// another error goes on to its end).
pub fn os_text(err: &io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(cut) if text.ends_with(')') && err.raw_os_error().is_some() => text[..cut].to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_reason_drops_the_os_error_suffix() {
        let err = io::Error::from_raw_os_error(libc::ENOENT);
        let e = RwError::io("open", Path::new("/no/such"), err);
        assert_eq!(
            e.to_string(),
            "cannot open '/no/such': No such file or directory"
        );
        assert_eq!(e.kind(), "io");
        assert_eq!(e.path(), Some(Path::new("/no/such")));
        assert_eq!(e.reason(), "no such file or directory");
        let source = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<io::Error>());
        assert_eq!(source.map(io::Error::kind), Some(io::ErrorKind::NotFound));
    }

    #[test]
    fn a_reason_that_quotes_an_os_error_is_kept_whole() {
        let inner = io::Error::from_raw_os_error(libc::EACCES);
        let reason = format!("step failed; restoring failed too: {inner}; moved files are in /t/x");
        let e = RwError::io_reason("make a bag of", Path::new("/d"), reason);
        assert!(e.to_string().ends_with("moved files are in /t/x"), "{e}");
    }

    #[test]
    fn inputs_are_quoted_short_with_nul_and_bad_bytes_visible() {
        assert_eq!(quoted("abc"), "'abc'");
        assert_eq!(quoted(b"a\0b\xe9c"), "'a\\0b\\xe9c'");
        assert_eq!(shown(b"caf\xe9"), "caf\\xe9");
        let exact = "x".repeat(QUOTED_MAX);
        assert_eq!(quoted(&exact), format!("'{exact}'"));
        // Cut before the character that would not fit: 'é' is two bytes.
        let long = format!("a{}", "\u{e9}".repeat(150));
        let want = format!("'a{}...' (301 bytes)", "\u{e9}".repeat(99));
        assert_eq!(quoted(&long), want);
        assert_eq!(shown(&long), want[1..].replace("...'", "..."));
        let huge = vec![b'x'; 100 << 20];
        let q = quoted(&huge);
        assert!(
            q.len() < 250 && q.ends_with("...' (104857600 bytes)"),
            "{q}"
        );
        let err = RwError::io(
            "open",
            Path::new(&"d/".repeat(5000)),
            io::Error::other("no"),
        );
        assert!(err.to_string().len() < 300);
    }

    #[test]
    fn every_kind_has_its_class_stem() {
        let cases = [
            (
                RwError::Encoding {
                    path: "p".into(),
                    offset: 3,
                    what: "a NUL byte",
                },
                "encoding",
            ),
            (
                RwError::Value {
                    arg: "x",
                    reason: "is negative".into(),
                },
                "value",
            ),
            (RwError::Interrupted, "interrupt"),
            (RwError::Internal("boom".into()), "internal"),
        ];
        for (err, kind) in cases {
            assert_eq!(err.kind(), kind, "{err}");
        }
    }
}
