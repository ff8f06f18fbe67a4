//! The one error type of the crate. Every fallible core function returns
//! `Result<T, RwError>`; the binding turns an `RwError` into an R condition
//! whose class is `rwbridge_<kind>_error`. Wrong argument types are R's to
//! catch (`R/errors.R`), so there is no kind for them here. Never touches R.

use std::io;
use std::path::Path;

/// What went wrong, with the path or argument it concerns and the reason.
#[derive(Debug, thiserror::Error)]
pub enum RwError {
    /// The file system said no; `source` says why.
    #[error("cannot {op} '{path}': {}", os_text(source))]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: io::Error,
    },
    /// Text mode met a NUL byte or invalid UTF-8.
    #[error("cannot read '{path}' as text: {what} at byte offset {offset}")]
    Encoding {
        path: String,
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
            path: path.display().to_string(),
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
    pub fn path(&self) -> Option<&str> {
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
        assert_eq!(e.path(), Some("/no/such"));
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
