//! What a check of a bag reports: its rows, the problems that make it
//! not valid and the doubts about it, each a finding with a code, and the
//! doubts gathered so that one kind in one file is one finding. Never
//! touches R or the file system.

use crate::hash::Algo;
use crate::status::Status;

/// The kind of a finding: the `code` column of `problems` and `doubts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    // Problems: each makes the bag not valid.
    Declaration,
    Version,
    Encoding,
    Structure,
    Manifest,
    Algorithm,
    Outside,
    Duplicate,
    BagInfo,
    Fetch,
    Oxum,
    Missing,
    Unlisted,
    Unreadable,
    Mismatch,
    Interrupted,
    // Doubts only: valid, but worth a look.
    DotSlash,
    Star,
    Roundabout,
    Names,
    Blank,
    Comment,
    Bom,
    Partial,
    System,
}

impl Code {
    pub fn name(self) -> &'static str {
        match self {
            Code::Declaration => "declaration",
            Code::Version => "version",
            Code::Encoding => "encoding",
            Code::Structure => "structure",
            Code::Manifest => "manifest",
            Code::Algorithm => "algorithm",
            Code::Outside => "outside",
            Code::Duplicate => "duplicate",
            Code::BagInfo => "bag_info",
            Code::Fetch => "fetch",
            Code::Oxum => "oxum",
            Code::Missing => "missing",
            Code::Unlisted => "unlisted",
            Code::Unreadable => "unreadable",
            Code::Mismatch => "mismatch",
            Code::Interrupted => "interrupted",
            Code::DotSlash => "dot_slash",
            Code::Star => "star",
            Code::Roundabout => "roundabout",
            Code::Names => "names",
            Code::Blank => "blank_line",
            Code::Comment => "comment",
            Code::Bom => "bom",
            Code::Partial => "partial",
            Code::System => "system_file",
        }
    }
}

/// One reason the bag is not valid, or one doubtful thing in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    pub message: String,
}

/// A manifest of the bag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestInfo {
    /// Its name, `manifest-sha256.txt`.
    pub file: String,
    /// The algorithm its name gives, known to rwbridge or not.
    pub algo_name: String,
    pub algo: Option<Algo>,
    pub tag: bool,
}

/// One row of the result: a manifest line, or a payload file a payload
/// manifest does not list (`line` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Index into [`BagCheck::manifests`].
    pub manifest: usize,
    pub line: Option<usize>,
    /// The path as listed (decoded), or the unlisted file's name (its
    /// bytes: a name in data/ need not be UTF-8).
    pub file: Vec<u8>,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub status: Status,
}

/// Everything a check of a bag found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BagCheck {
    /// As declared in bagit.txt.
    pub version: Option<String>,
    pub encoding: Option<String>,
    pub manifests: Vec<ManifestInfo>,
    pub rows: Vec<Row>,
    /// Each a reason the bag is not valid; none for a valid bag.
    pub problems: Vec<Finding>,
    /// Valid but doubtful.
    pub doubts: Vec<Finding>,
    /// The metadata file's fields in file order.
    pub info: Vec<(String, String)>,
}

/// Doubtful things, gathered so that one kind in one file is one finding
/// naming its lines.
#[derive(Default)]
pub(super) struct Doubts {
    items: Vec<(Code, String, String, Vec<usize>)>,
}

impl Doubts {
    pub(super) fn add(&mut self, code: Code, place: &str, what: &str, line: Option<usize>) {
        let found = self
            .items
            .iter_mut()
            .find(|(c, p, w, _)| *c == code && p == place && w == what);
        let item = match found {
            Some(item) => item,
            None => {
                self.items
                    .push((code, place.to_string(), what.to_string(), Vec::new()));
                let last = self.items.len() - 1;
                &mut self.items[last]
            }
        };
        if let Some(line) = line {
            item.3.push(line);
        }
    }

    pub(super) fn len(&self) -> usize {
        self.items.len()
    }

    /// A doubt of its own (no lines) placed at `at`, before those found
    /// after it.
    pub(super) fn insert(&mut self, at: usize, code: Code, place: &str, what: &str) {
        let item = (code, place.to_string(), what.to_string(), Vec::new());
        self.items.insert(at.min(self.items.len()), item);
    }

    pub(super) fn render(self) -> Vec<Finding> {
        self.items
            .into_iter()
            .map(|(code, place, what, lines)| {
                let at = match lines.len() {
                    0 => String::new(),
                    1 => format!(" (line {})", lines[0]),
                    n => {
                        let shown: Vec<String> =
                            lines.iter().take(5).map(|l| l.to_string()).collect();
                        let more = if n > 5 {
                            format!(" and {} more", n - 5)
                        } else {
                            String::new()
                        };
                        format!(" (lines {}{more})", shown.join(", "))
                    }
                };
                Finding {
                    code,
                    message: format!("{place}: {what}{at}"),
                }
            })
            .collect()
    }
}
