//! The outcome vocabulary: what checking one file found, in `verify()`,
//! in an audit and in a bag, and the names R shows for it; and why a file
//! could not be opened. Never touches R.

use std::io;

/// What checking one entry (a manifest line, or a file no manifest
/// line names) found: by `verify()`, in an audit and in a bag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Mismatch,
    Missing,
    Unreadable,
    Refused,
    /// A file under the directory that the manifest does not list (an
    /// audit), or a payload file a payload manifest does not list (a bag).
    Extra,
    /// Audit only: a missing file whose content is under the directory by
    /// another name.
    Moved,
    /// Bag only: absent, but listed in fetch.txt, still to be fetched.
    Unfetched,
    /// Bag only: there, not hashed (`fast`, or an algorithm rwbridge lacks).
    Present,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Ok,
        Status::Mismatch,
        Status::Missing,
        Status::Unreadable,
        Status::Refused,
        Status::Extra,
        Status::Moved,
        Status::Unfetched,
        Status::Present,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Mismatch => "mismatch",
            Status::Missing => "missing",
            Status::Unreadable => "unreadable",
            Status::Refused => "refused",
            Status::Extra => "extra",
            Status::Moved => "moved",
            Status::Unfetched => "unfetched",
            Status::Present => "present",
        }
    }
}

/// Why a name gives no file to read: the status that makes, and the
/// system's reason (for messages that name the file).
#[derive(Debug)]
pub struct Denied {
    pub status: Status,
    pub source: io::Error,
}

impl Denied {
    /// `Missing` for "no such file", `Unreadable` for any other failure.
    pub fn from_io(source: io::Error) -> Denied {
        let status = if source.kind() == io::ErrorKind::NotFound {
            Status::Missing
        } else {
            Status::Unreadable
        };
        Denied { status, source }
    }

    /// The name leads outside the directory (whatever is there).
    pub fn refused() -> Denied {
        Denied {
            status: Status::Refused,
            source: io::Error::other("it leads outside the directory"),
        }
    }

    /// The name denotes something that is not a regular file.
    pub fn not_regular(what: &str) -> Denied {
        Denied {
            status: Status::Unreadable,
            source: io::Error::other(format!("not a regular file ({what})")),
        }
    }
}
