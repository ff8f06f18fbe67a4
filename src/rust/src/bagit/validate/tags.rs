//! Reading a bag's tag files: the declaration (bagit.txt), the metadata
//! (bag-info.txt), fetch.txt and every manifest, each read once, with
//! where each manifest line leads as far as its name says. The
//! [`Checker`] gathers what they say; `plan.rs` goes on from there. Never
//! touches R.

use super::report::{BagCheck, Code, Doubts, Finding, ManifestInfo};
use crate::bagit::archive::Archive;
use crate::bagit::names::{bag_path, in_payload, Outside};
use crate::bagit::text::{
    is_lws, lines, parse_fetch, parse_manifest, parse_metadata, parse_oxum, strip_bom, tag_line,
    Encoding, LineFault, PathCoding, TagForm, TagLine, Version,
};
use crate::bagit::{bag_algo, bag_names, manifest_kind};
use crate::errors::quoted;
use crate::status::Status;
use crate::tree::{name_to_path, Confined, Exclude};
use std::collections::HashMap;
use std::path::Path;

/// Where a bag's files are: a directory, or a serialized bag.
pub(super) enum Source<'a> {
    Dir(Confined<'a>),
    Archive(Box<Archive>),
}

impl Source<'_> {
    /// The size of the regular file `name` leads to, or why it cannot be
    /// read (`Refused` when it leads outside the bag).
    pub(super) fn locate(&self, name: &str) -> Result<u64, Status> {
        match self {
            Source::Dir(confined) => confined.size(&name_to_path(name.as_bytes())),
            Source::Archive(archive) => archive.locate(name).map(|(_, size)| size),
        }
    }
}

pub(super) struct Checker<'a> {
    pub(super) bag: &'a Path,
    /// Unlisted payload files left out of the check (relative to data/).
    pub(super) exclude: Option<&'a Exclude>,
    pub(super) source: Source<'a>,
    /// The rules in force: the declared version's, else 1.0's.
    pub(super) version: Version,
    pub(super) coding: PathCoding,
    pub(super) out: BagCheck,
    pub(super) doubts: Doubts,
    /// The tag files read so far, by name: hashed from memory, never re-read.
    pub(super) tag_bytes: HashMap<String, Vec<u8>>,
}

/// What a manifest line leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// Outside the bag, or outside (inside) data/ for a payload (tag)
    /// manifest: never read; the problem is already reported.
    Refused,
    /// A file of the data/ listing.
    Payload(usize),
    /// A file found by its path alone (a tag file, or a payload file the
    /// listing did not show).
    Path(String),
    Unfetched,
    Failed(Status),
}

pub(super) struct Listed {
    pub(super) manifest: usize,
    pub(super) line: usize,
    pub(super) written: String,
    pub(super) digest: String,
    pub(super) target: Target,
}

pub(super) struct Fetch {
    /// Normalised path to (line, length) of every usable fetch line.
    pub(super) paths: HashMap<String, (usize, Option<u64>)>,
}

impl Checker<'_> {
    pub(super) fn problem(&mut self, code: Code, message: String) {
        self.out.problems.push(Finding { code, message });
    }

    /// Reads the tag file `name` at the bag's top into `tag_bytes`:
    /// `Ok(false)` when it is absent, `Err(())` when it is there but cannot
    /// be read (reported as a problem).
    pub(super) fn read_tag(&mut self, name: &str) -> Result<bool, ()> {
        let opened = match &self.source {
            Source::Dir(confined) => confined.open(Path::new(name)).map(|file| {
                file.read_all()
                    .map_err(|e| format!("cannot read {name}: {}", e.reason()))
            }),
            Source::Archive(archive) => archive.read(name).map(Ok),
        };
        let failure = match opened {
            Ok(Ok(bytes)) => {
                self.tag_bytes.insert(name.to_string(), bytes);
                return Ok(true);
            }
            Ok(Err(message)) => (Code::Unreadable, message),
            Err(Status::Missing) => return Ok(false),
            Err(Status::Refused) => (
                Code::Outside,
                format!("{name} is a symbolic link that leads outside the bag"),
            ),
            Err(_) => (
                Code::Unreadable,
                format!("{name} is not a regular file, or cannot be read"),
            ),
        };
        self.problem(failure.0, failure.1);
        Err(())
    }

    /// The text of the tag file `name` in the declared encoding, without a
    /// byte-order mark; `None` when it is absent, cannot be read or is not
    /// text in that encoding (a problem, then).
    pub(super) fn tag_text(&mut self, name: &str, encoding: Encoding) -> Option<String> {
        if self.read_tag(name) != Ok(true) {
            return None;
        }
        match encoding.decode(&self.tag_bytes[name]) {
            Ok(mut text) => {
                let bom = text.len() - strip_bom(&text).0.len();
                text.drain(..bom);
                if bom > 0 && !encoding.expects_bom() {
                    self.doubts
                        .add(Code::Bom, name, "starts with a byte-order mark", None);
                }
                Some(text)
            }
            Err(e) => {
                self.problem(
                    Code::Encoding,
                    format!(
                        "{name} is not {} text: byte offset {} is not valid",
                        encoding.name(),
                        e.offset
                    ),
                );
                None
            }
        }
    }

    /// Reads bagit.txt; sets the rules in force; the encoding of the other
    /// tag files, `None` when they cannot be read.
    pub(super) fn declaration(&mut self) -> Option<Encoding> {
        match self.read_tag("bagit.txt") {
            Ok(true) => {}
            Ok(false) => {
                self.problem(
                    Code::Declaration,
                    "no bagit.txt: the bag declaration is missing".into(),
                );
                return Some(Encoding::Utf8);
            }
            Err(()) => return Some(Encoding::Utf8),
        }
        let decl = parse_declaration(&self.tag_bytes["bagit.txt"], &mut self.out.problems);
        self.out.version = decl.version_text;
        self.out.encoding = decl.encoding_text.clone();
        if let Some(version) = decl.version.filter(|v| v.is_known()) {
            self.version = version;
            self.coding = PathCoding::of(version);
        }
        match (decl.encoding, decl.encoding_text) {
            (Some(encoding), _) => Some(encoding),
            // Named but not readable here: the other tag files are not read.
            (None, Some(_)) => None,
            (None, None) => Some(Encoding::Utf8),
        }
    }

    /// Finds the manifests in the bag's top directory.
    pub(super) fn manifest_list(&mut self, top: &[String]) {
        let mut payload = Vec::new();
        let mut tags = Vec::new();
        for name in top {
            if let Some((tag, algo_name)) = manifest_kind(name) {
                let info = ManifestInfo {
                    file: name.clone(),
                    algo_name: algo_name.to_string(),
                    algo: bag_algo(algo_name),
                    tag,
                };
                if tag {
                    tags.push(info);
                } else {
                    payload.push(info);
                }
            }
        }
        if payload.is_empty() {
            self.problem(
                Code::Structure,
                "no payload manifest (manifest-<algorithm>.txt)".into(),
            );
        }
        for m in payload.iter().chain(&tags) {
            if m.algo.is_none() {
                let known: Vec<&str> = bag_names().collect();
                self.problem(
                    Code::Algorithm,
                    format!(
                        "{}: rwbridge does not compute '{}' (it computes {}), so its checksums were not checked",
                        m.file,
                        m.algo_name,
                        known.join(", ")
                    ),
                );
            }
        }
        self.out.manifests = payload.into_iter().chain(tags).collect();
    }

    /// Reads the metadata file; its Payload-Oxum values.
    pub(super) fn metadata(&mut self, encoding: Encoding) -> Vec<(u64, u64)> {
        let name = self.version.info_file();
        let Some(text) = self.tag_text(name, encoding) else {
            return Vec::new();
        };
        let meta = parse_metadata(&text);
        for (n, line) in &meta.bad {
            self.problem(
                Code::BagInfo,
                format!("{name} line {n} is not `Label: value`: {}", quoted(line)),
            );
        }
        // Before 1.0, blanks around the colon are allowed (RFC 8493, 2.2.2),
        // and the conformance suite's valid bags have them.
        let rfc = self.version.is_rfc();
        for (n, form) in meta.loose.iter().filter(|_| rfc) {
            if *form == TagForm::Loose {
                self.problem(
                    Code::BagInfo,
                    format!(
                        "{name} line {n} is not in the form `Label: value` (no blank before the colon, one after it)"
                    ),
                );
            } else {
                self.doubts
                    .add(Code::BagInfo, name, "blanks around a colon", Some(*n));
            }
        }
        for &n in &meta.blank_lines {
            self.doubts.add(Code::Blank, name, "blank lines", Some(n));
        }
        // RFC 8493 asks for these once; the drafts before it did not.
        let once_labels = [
            "Bagging-Date",
            "Bag-Size",
            "Payload-Oxum",
            "Bag-Group-Identifier",
            "Bag-Count",
        ];
        for once in once_labels.into_iter().filter(|_| rfc) {
            let count = meta
                .fields
                .iter()
                .filter(|(l, _)| l.eq_ignore_ascii_case(once))
                .count();
            if count > 1 {
                self.doubts.add(
                    Code::BagInfo,
                    name,
                    &format!("{once} appears {count} times; RFC 8493 says it should appear once"),
                    None,
                );
            }
        }
        let mut oxum = Vec::new();
        for (label, value) in &meta.fields {
            if !label.eq_ignore_ascii_case("Payload-Oxum") {
                continue;
            }
            match parse_oxum(value) {
                Some(pair) => oxum.push(pair),
                None => self.problem(
                    Code::Oxum,
                    format!(
                        "Payload-Oxum {} is not OctetCount.StreamCount",
                        quoted(value)
                    ),
                ),
            }
        }
        self.out.info = meta.fields;
        oxum
    }

    pub(super) fn fetch(&mut self, encoding: Encoding) -> Fetch {
        let mut fetch = Fetch {
            paths: HashMap::new(),
        };
        let Some(text) = self.tag_text("fetch.txt", encoding) else {
            return fetch;
        };
        let parsed = parse_fetch(&text, self.coding);
        for (n, line, why) in &parsed.faults {
            self.problem(
                Code::Fetch,
                format!("fetch.txt line {n}: {why}: {}", quoted(line)),
            );
        }
        for &n in &parsed.blank_lines {
            self.doubts
                .add(Code::Blank, "fetch.txt", "blank lines", Some(n));
        }
        for line in parsed.lines {
            match bag_path(&line.path) {
                Ok(p) if in_payload(&p.path) => {
                    fetch.paths.insert(p.path, (line.line, line.length));
                }
                Ok(_) => self.problem(
                    Code::Fetch,
                    format!(
                        "fetch.txt line {}: {} is not in data/ (fetch.txt lists payload files only)",
                        line.line, quoted(&line.path)
                    ),
                ),
                Err(_) => self.problem(
                    Code::Outside,
                    format!(
                        "fetch.txt line {}: {} leads outside the bag",
                        line.line, quoted(&line.path)
                    ),
                ),
            }
        }
        fetch
    }

    /// Reads and parses every manifest: its lines, with where each leads
    /// settled as far as the names go.
    pub(super) fn manifests(&mut self, encoding: Encoding) -> Vec<Listed> {
        let mut listed = Vec::new();
        let rfc = self.version.is_rfc();
        for m in 0..self.out.manifests.len() {
            let info = self.out.manifests[m].clone();
            let file = info.file.as_str();
            let Some(text) = self.tag_text(file, encoding) else {
                continue;
            };
            let parsed = parse_manifest(&text, info.algo, self.coding);
            for (n, line, fault) in &parsed.faults {
                let why = match fault {
                    LineFault::Grammar => "is not `checksum filepath`".to_string(),
                    LineFault::Length { got, want } => format!(
                        "has a checksum of {got} hex digits; {} has {want}",
                        info.algo_name
                    ),
                    LineFault::Percent => {
                        "has a `%` that is not %0A, %0D or %25 (RFC 8493 percent-encoding)".into()
                    }
                    LineFault::Nul => "has a NUL byte, which no path holds".into(),
                };
                self.problem(
                    Code::Manifest,
                    format!("{file} line {n} {why}: {}", quoted(line)),
                );
            }
            for &n in &parsed.blank_lines {
                self.doubts.add(Code::Blank, file, "blank lines", Some(n));
            }
            for &n in &parsed.comment_lines {
                self.doubts.add(
                    Code::Comment,
                    file,
                    "comment lines (bagit-python skips them; RFC 8493 has none)",
                    Some(n),
                );
            }
            let mut seen: HashMap<String, (usize, String)> = HashMap::new();
            let mut dot_slash = Vec::new();
            let path_lines = parsed.lines.len();
            for line in parsed.lines {
                let n = line.line;
                if line.star {
                    self.doubts.add(
                        Code::Star,
                        file,
                        "a `*` (binary-mode marker) before the path, taken as no part of it",
                        Some(n),
                    );
                }
                let target = match bag_path(&line.path) {
                    Err(why) => {
                        let how = match why {
                            Outside::Absolute => "is absolute",
                            Outside::Escapes => "leads outside the bag",
                            Outside::Empty => "names no file",
                        };
                        self.problem(
                            Code::Outside,
                            format!("{file} line {n}: {} {how}", quoted(&line.path)),
                        );
                        Target::Refused
                    }
                    Ok(p) => {
                        if p.dot_slash {
                            dot_slash.push(n);
                        }
                        if p.roundabout {
                            self.doubts.add(
                                Code::Roundabout,
                                file,
                                "paths with '//', '/./', '..' or a final '/'",
                                Some(n),
                            );
                        }
                        let payload = in_payload(&p.path);
                        if payload == info.tag {
                            let why = if info.tag {
                                "is a payload file; a tag manifest lists tag files only"
                            } else {
                                "is not in data/; a payload manifest lists payload files only"
                            };
                            self.problem(
                                Code::Outside,
                                format!("{file} line {n}: {} {why}", quoted(&line.path)),
                            );
                            Target::Refused
                        } else {
                            match seen.get(&p.path) {
                                Some((_, digest)) if *digest == line.digest && !rfc => {
                                    self.doubts.add(
                                        Code::Duplicate,
                                        file,
                                        "paths listed again with the same checksum (allowed before BagIt 1.0)",
                                        Some(n),
                                    );
                                }
                                Some((first, digest)) => {
                                    let how = if *digest == line.digest {
                                        "again (BagIt 1.0 lists each file once)"
                                    } else {
                                        "again with another checksum"
                                    };
                                    let message = format!(
                                        "{file} line {n}: {} is listed on line {first} and {how}",
                                        quoted(&line.path)
                                    );
                                    self.problem(Code::Duplicate, message);
                                }
                                None => {
                                    seen.insert(p.path.clone(), (n, line.digest.clone()));
                                }
                            }
                            Target::Path(p.path)
                        }
                    }
                };
                listed.push(Listed {
                    manifest: m,
                    line: n,
                    written: line.path,
                    digest: line.digest,
                    target,
                });
            }
            // Before 1.0 a `./` on some lines is the drafts' own form (the
            // suite's valid bags have it); a manifest that writes every
            // path so was made relative to somewhere else: a doubt.
            if rfc || (!dot_slash.is_empty() && dot_slash.len() == path_lines) {
                for n in dot_slash {
                    self.doubts
                        .add(Code::DotSlash, file, "paths starting with './'", Some(n));
                }
            }
        }
        listed
    }
}

/// What bagit.txt declares.
#[derive(Debug, Default, PartialEq, Eq)]
struct Declaration {
    version: Option<Version>,
    version_text: Option<String>,
    encoding: Option<Encoding>,
    encoding_text: Option<String>,
}

const VERSION_LABEL: &str = "BagIt-Version";
const ENCODING_LABEL: &str = "Tag-File-Character-Encoding";

/// Parses bagit.txt, adding every way it breaks RFC 8493 (or, for an
/// older version, that version's looser form) to `problems`.
fn parse_declaration(bytes: &[u8], problems: &mut Vec<Finding>) -> Declaration {
    let mut decl = Declaration::default();
    let mut problem = |code: Code, message: String| problems.push(Finding { code, message });
    let (bytes, bom) = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => (rest, 3),
        None => (bytes, 0),
    };
    if bom > 0 {
        problem(
            Code::Declaration,
            "bagit.txt starts with a byte-order mark, which the bag declaration must not have"
                .into(),
        );
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            problem(
                Code::Encoding,
                format!(
                    "bagit.txt is not UTF-8: byte offset {} is not valid",
                    e.valid_up_to() + bom
                ),
            );
            return decl;
        }
    };
    if let Some(at) = text.find('\0') {
        problem(
            Code::Declaration,
            format!("bagit.txt holds a NUL byte (at byte offset {})", at + bom),
        );
    }
    let lines = lines(text);
    let tags: Vec<(usize, &str, Option<TagLine>)> =
        lines.iter().map(|&(n, l)| (n, l, tag_line(l))).collect();
    let find = |label: &str| {
        tags.iter()
            .find(|(_, _, t)| t.as_ref().is_some_and(|t| t.label == label))
            .map(|(n, _, t)| (*n, t.as_ref().map(|t| t.value).unwrap_or_default()))
    };
    let version = find(VERSION_LABEL);
    let encoding = find(ENCODING_LABEL);
    if let Some((_, value)) = version {
        let value = value.trim_matches(is_lws);
        decl.version_text = Some(value.to_string());
        decl.version = Version::parse(value);
        match decl.version {
            None => problem(
                Code::Version,
                format!("BagIt-Version {} is not a version (M.N)", quoted(value)),
            ),
            Some(v) if !v.is_known() => problem(
                Code::Version,
                format!("BagIt-Version {v} is not one rwbridge knows (0.93 to 0.97, 1.0)"),
            ),
            Some(_) => {}
        }
    }
    if let Some((_, value)) = encoding {
        let value = value.trim_matches(is_lws);
        decl.encoding_text = Some(value.to_string());
        decl.encoding = Encoding::from_label(value);
        if decl.encoding.is_none() {
            problem(
                Code::Encoding,
                format!(
                    "Tag-File-Character-Encoding {} is not one rwbridge reads (UTF-8, US-ASCII, ISO-8859-1, UTF-16), so no other tag file was read",
                    quoted(value)
                ),
            );
        }
    }
    let in_order = matches!((version, encoding), (Some((1, _)), Some((2, _))));
    if lines.len() != 2 || !in_order {
        problem(
            Code::Declaration,
            format!(
                "bagit.txt must hold exactly two lines, `{VERSION_LABEL}: M.N` then `{ENCODING_LABEL}: ENCODING`; it holds {}",
                describe_lines(&tags)
            ),
        );
    }
    // Before 1.0, blanks around the colon are allowed (RFC 8493, 2.2.2).
    let strict = decl.version.map_or(true, |v| v.is_rfc() || !v.is_known());
    if strict {
        for (n, line, tag) in &tags {
            let exact = tag.as_ref().is_some_and(|t| {
                t.form == TagForm::Exact && t.value == t.value.trim_matches(is_lws)
            });
            if !exact && (*n == 1 || *n == 2) {
                problem(
                    Code::Declaration,
                    format!(
                        "bagit.txt line {n} is not in the exact form `Label: value` (one space after the colon, no other blanks): {}",
                        quoted(line)
                    ),
                );
            }
        }
    }
    decl
}

fn describe_lines(tags: &[(usize, &str, Option<TagLine>)]) -> String {
    if tags.is_empty() {
        return "nothing".into();
    }
    let labels: Vec<String> = tags
        .iter()
        .map(|(_, line, tag)| match tag {
            Some(t) => format!("`{}`", t.label),
            None => quoted(line),
        })
        .collect();
    format!("{} line(s): {}", tags.len(), labels.join(", "))
}
