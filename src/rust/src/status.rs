//! The outcome vocabulary: what checking one file found, in `verify()`,
//! in an audit and in a bag, and the names R shows for it. Never touches R.

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
