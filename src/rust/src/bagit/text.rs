//! The text of a bag's tag files as RFC 8493 (BagIt 1.0) and the drafts
//! before it (0.93 to 0.97) write it: the bag declaration, `Label: value`
//! metadata, manifest lines, fetch lines, percent-encoded paths and the tag
//! file encodings. Parsing never fails as a whole: each line is taken or
//! reported, and the caller decides what makes a bag invalid. Never touches
//! R or the file system.

use crate::hash::Algo;
use crate::manifest::is_hex;
use std::fmt;

/// A BagIt version, `M.N` in `bagit.txt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
}

impl Version {
    pub const V1_0: Version = Version { major: 1, minor: 0 };

    /// `M.N`, digits only, as the declaration writes it.
    pub fn parse(text: &str) -> Option<Version> {
        let (major, minor) = text.split_once('.')?;
        let number = |s: &str| {
            (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        Some(Version {
            major: number(major)?,
            minor: number(minor)?,
        })
    }

    /// The versions this module knows the rules of: 0.93 to 0.97 and 1.0.
    pub fn is_known(self) -> bool {
        self == Version::V1_0 || (self.major == 0 && (93..=97).contains(&self.minor))
    }

    /// RFC 8493's stricter rules: percent-encoded paths, every payload file
    /// in every payload manifest, one line per file, the exact `Label: value`.
    pub fn is_rfc(self) -> bool {
        self >= Version::V1_0
    }

    /// The metadata tag file: `package-info.txt` before 0.96.
    pub fn info_file(self) -> &'static str {
        if self
            < (Version {
                major: 0,
                minor: 96,
            })
        {
            "package-info.txt"
        } else {
            "bag-info.txt"
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The tag file encodings read here (RFC 8493 allows any IANA charset;
/// these cover the bags that exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Ascii,
    Latin1,
    /// `UTF-16`: the byte order its byte-order mark gives; without one,
    /// the order in which the text's ASCII characters make sense (tag
    /// files are mostly ASCII), big-endian when that does not settle it
    /// (RFC 2781).
    Utf16,
    Utf16Be,
    Utf16Le,
}

/// Where decoding stopped: the byte offset of the first byte that is not
/// text in the encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotText {
    pub offset: usize,
}

impl Encoding {
    /// The encoding an IANA charset name or alias denotes (any case).
    pub fn from_label(label: &str) -> Option<Encoding> {
        const UTF8: [&str; 2] = ["utf-8", "csutf8"];
        const ASCII: [&str; 10] = [
            "us-ascii",
            "ascii",
            "iso-ir-6",
            "ansi_x3.4-1968",
            "ansi_x3.4-1986",
            "iso_646.irv:1991",
            "iso646-us",
            "us",
            "ibm367",
            "csascii",
        ];
        const LATIN1: [&str; 9] = [
            "iso-8859-1",
            "iso_8859-1:1987",
            "iso-ir-100",
            "iso_8859-1",
            "latin1",
            "l1",
            "ibm819",
            "cp819",
            "csisolatin1",
        ];
        let label = label.to_ascii_lowercase();
        let is = |names: &[&str]| names.contains(&label.as_str());
        if is(&UTF8) {
            Some(Encoding::Utf8)
        } else if is(&ASCII) {
            Some(Encoding::Ascii)
        } else if is(&LATIN1) {
            Some(Encoding::Latin1)
        } else if is(&["utf-16", "csutf16"]) {
            Some(Encoding::Utf16)
        } else if is(&["utf-16be", "csutf16be"]) {
            Some(Encoding::Utf16Be)
        } else if is(&["utf-16le", "csutf16le"]) {
            Some(Encoding::Utf16Le)
        } else {
            None
        }
    }

    /// The encoding's IANA name, as messages and new tag files give it.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Ascii => "US-ASCII",
            Encoding::Latin1 => "ISO-8859-1",
            Encoding::Utf16 => "UTF-16",
            Encoding::Utf16Be => "UTF-16BE",
            Encoding::Utf16Le => "UTF-16LE",
        }
    }

    /// Whether a byte-order mark is the usual start of a file in it (not
    /// worth a doubt).
    pub fn expects_bom(self) -> bool {
        matches!(
            self,
            Encoding::Utf16 | Encoding::Utf16Be | Encoding::Utf16Le
        )
    }

    /// `text` in this encoding (a UTF-16 file big-endian, with a
    /// byte-order mark, as Python's `utf-16` codec writes it on most
    /// machines); `None` when a character has no code in it.
    pub fn encode(self, text: &str) -> Option<Vec<u8>> {
        match self {
            Encoding::Utf8 => Some(text.as_bytes().to_vec()),
            Encoding::Ascii => text.is_ascii().then(|| text.as_bytes().to_vec()),
            Encoding::Latin1 => text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).ok())
                .collect(),
            Encoding::Utf16 | Encoding::Utf16Be => {
                let mut out = if self == Encoding::Utf16 {
                    vec![0xfe, 0xff]
                } else {
                    Vec::new()
                };
                out.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
                Some(out)
            }
            Encoding::Utf16Le => Some(text.encode_utf16().flat_map(u16::to_le_bytes).collect()),
        }
    }

    /// The text of `bytes`; a UTF-8 byte-order mark is kept, for the caller
    /// to see (see [`strip_bom`]).
    pub fn decode(self, bytes: &[u8]) -> Result<String, NotText> {
        match self {
            Encoding::Utf8 => std::str::from_utf8(bytes)
                .map(str::to_owned)
                .map_err(|e| NotText {
                    offset: e.valid_up_to(),
                }),
            Encoding::Ascii => match bytes.iter().position(|b| !b.is_ascii()) {
                Some(offset) => Err(NotText { offset }),
                None => Ok(bytes.iter().map(|&b| b as char).collect()),
            },
            Encoding::Latin1 => Ok(bytes.iter().map(|&b| b as char).collect()),
            Encoding::Utf16 => {
                let big = match bytes {
                    [0xfe, 0xff, ..] => true,
                    [0xff, 0xfe, ..] => false,
                    _ => big_endian_guess(bytes),
                };
                decode_utf16(bytes, big)
            }
            Encoding::Utf16Be => decode_utf16(bytes, true),
            Encoding::Utf16Le => decode_utf16(bytes, false),
        }
    }
}

/// Whether UTF-16 text without a byte-order mark is big-endian: its zero
/// bytes (the high halves of ASCII characters) fall on even offsets.
fn big_endian_guess(bytes: &[u8]) -> bool {
    let zeros = |start: usize| {
        bytes
            .iter()
            .skip(start)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    zeros(0) >= zeros(1)
}

/// UTF-16 in the byte order given; a byte-order mark is kept, as for UTF-8.
fn decode_utf16(bytes: &[u8], big: bool) -> Result<String, NotText> {
    let units = bytes.chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if big {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    });
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut offset = 0;
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => {
                text.push(c);
                offset += c.len_utf16() * 2;
            }
            Err(_) => return Err(NotText { offset }),
        }
    }
    if bytes.len() % 2 == 1 {
        return Err(NotText {
            offset: bytes.len() - 1,
        });
    }
    Ok(text)
}

/// `text` without a leading byte-order mark, and whether it had one.
pub fn strip_bom(text: &str) -> (&str, bool) {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, true),
        None => (text, false),
    }
}

/// The lines of a tag file, numbered from 1, without their endings: LF,
/// CRLF or CR each end a line, as RFC 8493 allows; a final ending makes no
/// empty last line.
pub fn lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, after) = match rest.find(['\n', '\r']) {
            Some(i) => {
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                (&rest[..i], &rest[i + skip..])
            }
            None => (rest, ""),
        };
        out.push((out.len() + 1, line));
        rest = after;
    }
    out
}

/// Linear whitespace: a space or a tab.
pub fn is_lws(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// One `Label: value` line, and how closely it keeps RFC 8493's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagLine<'a> {
    pub label: &'a str,
    /// Everything after the colon and the one whitespace that follows it.
    pub value: &'a str,
    pub form: TagForm,
}

/// How a `Label: value` line departs from RFC 8493's exact form (a label,
/// a colon, one space or tab, the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagForm {
    Exact,
    /// More whitespace after the colon: the value starts with a blank.
    BlankValueStart,
    /// Whitespace before the colon, or none after it: accepted before 1.0.
    Loose,
}

/// Splits `Label: value` at the first colon. `None` when there is no
/// colon or no label.
pub fn tag_line(line: &str) -> Option<TagLine<'_>> {
    let (raw_label, after) = line.split_once(':')?;
    let label = raw_label.trim_end_matches(is_lws);
    if label.is_empty() || label.starts_with(is_lws) {
        return None;
    }
    let after_one = after.strip_prefix(is_lws);
    let form = match after_one {
        _ if label.len() != raw_label.len() => TagForm::Loose,
        None if !after.is_empty() => TagForm::Loose,
        Some(v) if v.starts_with(is_lws) => TagForm::BlankValueStart,
        _ => TagForm::Exact,
    };
    Some(TagLine {
        label,
        value: after_one.unwrap_or(after),
        form,
    })
}

/// What a tag file of `Label: value` lines (bag-info.txt) holds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// Labels and values in file order; a continued value is joined with
    /// a line feed, its indentation dropped; blanks at both ends trimmed.
    pub fields: Vec<(String, String)>,
    /// Lines that are neither a label nor a continuation: (line, text).
    pub bad: Vec<(usize, String)>,
    /// Lines not in the exact 1.0 form: (line, form).
    pub loose: Vec<(usize, TagForm)>,
    pub blank_lines: Vec<usize>,
}

pub fn parse_metadata(text: &str) -> Metadata {
    let mut meta = Metadata::default();
    for (n, line) in lines(text) {
        if line.trim_matches(is_lws).is_empty() {
            meta.blank_lines.push(n);
        } else if line.contains('\0') {
            meta.bad.push((n, line.to_string()));
        } else if line.starts_with(is_lws) {
            match meta.fields.last_mut() {
                Some((_, value)) => {
                    value.push('\n');
                    value.push_str(line.trim_matches(is_lws));
                }
                None => meta.bad.push((n, line.to_string())),
            }
        } else if let Some(tag) = tag_line(line) {
            if tag.form != TagForm::Exact {
                meta.loose.push((n, tag.form));
            }
            let value = tag.value.trim_matches(is_lws).to_string();
            meta.fields.push((tag.label.to_string(), value));
        } else {
            meta.bad.push((n, line.to_string()));
        }
    }
    meta
}

/// `Payload-Oxum`: `OctetCount.StreamCount`.
pub fn parse_oxum(value: &str) -> Option<(u64, u64)> {
    let (octets, streams) = value.split_once('.')?;
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    Some((number(octets)?, number(streams)?))
}

/// How a path is written in manifests and fetch.txt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathCoding {
    /// RFC 8493: LF, CR and `%` are `%0A`, `%0D` and `%25`, and no other
    /// `%` may appear.
    Percent,
    /// Before 1.0: names as they are, except `%0A` and `%0D`, which
    /// bagit-python (which writes 0.97 bags) uses for LF and CR.
    Legacy,
}

impl PathCoding {
    pub fn of(version: Version) -> PathCoding {
        if version.is_rfc() {
            PathCoding::Percent
        } else {
            PathCoding::Legacy
        }
    }
}

/// The path a manifest or fetch.txt writes as `coded`; `None` when a `%`
/// starts no permitted escape in RFC 8493's coding.
pub fn decode_path(coded: &str, coding: PathCoding) -> Option<String> {
    let mut out = String::with_capacity(coded.len());
    let mut rest = coded;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let escape = rest.get(i + 1..i + 3).map(str::to_ascii_uppercase);
        let decoded = match (escape.as_deref(), coding) {
            (Some("0A"), _) => Some('\n'),
            (Some("0D"), _) => Some('\r'),
            (Some("25"), PathCoding::Percent) => Some('%'),
            (_, PathCoding::Percent) => return None,
            (_, PathCoding::Legacy) => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[i + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

/// A path as RFC 8493 writes it in a manifest: `%`, LF and CR encoded.
pub fn encode_path(path: &str) -> String {
    encode_path_in(path, PathCoding::Percent)
}

/// A path as a manifest of `coding` writes it: before 1.0, only LF and CR
/// are encoded, as bagit-python does.
pub fn encode_path_in(path: &str, coding: PathCoding) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' if coding == PathCoding::Percent => out.push_str("%25"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            c => out.push(c),
        }
    }
    out
}

/// One line of a payload or tag manifest: `checksum filepath`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestLine {
    pub line: usize,
    /// Lowercase hex.
    pub digest: String,
    /// Decoded, without a `*` marker.
    pub path: String,
    /// The path had a `*` before it, as `sha256sum` writes in binary mode.
    pub star: bool,
}

/// Why a manifest line was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineFault {
    /// Not `checksum`, whitespace, `filepath`.
    Grammar,
    /// A checksum of the wrong length for the algorithm.
    Length { got: usize, want: usize },
    /// A `%` that starts no permitted escape (1.0).
    Percent,
    /// A NUL byte, which no path holds.
    Nul,
}

/// Everything a manifest or fetch.txt holds: its lines of `L`, those that
/// do not parse (line, text, why), and the blank and comment lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<L, F> {
    pub lines: Vec<L>,
    pub faults: Vec<(usize, String, F)>,
    pub blank_lines: Vec<usize>,
    /// Lines starting with `#` where they are comments: to bagit-python in
    /// a manifest (none in the RFC).
    pub comment_lines: Vec<usize>,
}

impl<L, F> Parsed<L, F> {
    /// Each line of `text` parsed by `parse(line number, line)`, but for
    /// blank lines and, with `comments`, lines starting with `#`.
    fn of(text: &str, comments: bool, parse: impl Fn(usize, &str) -> Result<L, F>) -> Self {
        let mut out = Parsed {
            lines: Vec::new(),
            faults: Vec::new(),
            blank_lines: Vec::new(),
            comment_lines: Vec::new(),
        };
        for (n, line) in lines(text) {
            if line.trim_matches(is_lws).is_empty() {
                out.blank_lines.push(n);
            } else if comments && line.starts_with('#') {
                out.comment_lines.push(n);
            } else {
                match parse(n, line) {
                    Ok(parsed) => out.lines.push(parsed),
                    Err(fault) => out.faults.push((n, line.to_string(), fault)),
                }
            }
        }
        out
    }
}

/// Everything a manifest holds.
pub type ManifestText = Parsed<ManifestLine, LineFault>;

/// Parses a manifest's text. `algo` (when rwbridge knows it) fixes the
/// checksum length.
pub fn parse_manifest(text: &str, algo: Option<Algo>, coding: PathCoding) -> ManifestText {
    Parsed::of(text, true, |n, line| {
        let (digest, path, star) = parse_manifest_line(line, algo, coding)?;
        Ok(ManifestLine {
            line: n,
            digest,
            path,
            star,
        })
    })
}

fn parse_manifest_line(
    line: &str,
    algo: Option<Algo>,
    coding: PathCoding,
) -> Result<(String, String, bool), LineFault> {
    if line.contains('\0') {
        return Err(LineFault::Nul);
    }
    let digits = line.bytes().take_while(|&b| is_hex(b)).count();
    let (digest, rest) = line.split_at(digits);
    let path = rest.trim_start_matches(is_lws);
    if digits == 0 || path.len() == rest.len() || path.is_empty() {
        return Err(LineFault::Grammar);
    }
    if let Some(algo) = algo {
        if digits != algo.hex_len() {
            return Err(LineFault::Length {
                got: digits,
                want: algo.hex_len(),
            });
        }
    }
    let (path, star) = match path.strip_prefix('*') {
        Some(p) if !p.is_empty() => (p, true),
        _ => (path, false),
    };
    let path = decode_path(path, coding).ok_or(LineFault::Percent)?;
    Ok((digest.to_ascii_lowercase(), path, star))
}

/// One line of fetch.txt: `url length filepath`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchLine {
    pub line: usize,
    pub url: String,
    /// `None` for `-` (unknown).
    pub length: Option<u64>,
    pub path: String,
}

/// What fetch.txt holds: its lines, and those that do not parse (with why).
pub type FetchText = Parsed<FetchLine, &'static str>;

pub fn parse_fetch(text: &str, coding: PathCoding) -> FetchText {
    Parsed::of(text, false, |n, line| {
        let (url, length, path) = parse_fetch_line(line, coding)?;
        Ok(FetchLine {
            line: n,
            url,
            length,
            path,
        })
    })
}

fn parse_fetch_line(
    line: &str,
    coding: PathCoding,
) -> Result<(String, Option<u64>, String), &'static str> {
    let grammar = "not `url length filepath`";
    if line.contains('\0') {
        return Err("a NUL byte, which no URL or path holds");
    }
    let mut rest = line;
    let mut field = || {
        let end = rest.find(is_lws)?;
        let (value, after) = rest.split_at(end);
        rest = after.trim_start_matches(is_lws);
        Some(value)
    };
    let (url, length) = match (field(), field()) {
        (Some(url), Some(length)) if !url.is_empty() && !rest.is_empty() => (url, length),
        _ => return Err(grammar),
    };
    if !is_absolute_uri(url) {
        return Err("the URL is not absolute (no scheme)");
    }
    let length = match length {
        "-" => None,
        digits if digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some(digits.parse().map_err(|_| "the length is too large")?)
        }
        _ => return Err("the length is neither a number of octets nor `-`"),
    };
    let path = decode_path(rest, coding).ok_or("a `%` in the path starts no escape")?;
    Ok((url.to_string(), length, path))
}

/// `scheme:rest`, the scheme a letter then letters, digits, `+`, `-`, `.`.
fn is_absolute_uri(url: &str) -> bool {
    match url.split_once(':') {
        Some((scheme, rest)) => {
            let mut chars = scheme.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.is_empty()
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(Version::parse("1.0"), Some(Version::V1_0));
        let v097 = Version::parse("0.97").unwrap();
        assert!(v097.is_known() && !v097.is_rfc());
        assert_eq!(v097.info_file(), "bag-info.txt");
        assert_eq!(
            Version::parse("0.95").unwrap().info_file(),
            "package-info.txt"
        );
        for bad in ["1", "1.", ".0", "1.0 ", "v1.0", "1.0.0", "-1.0", "1.a"] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
        for unknown in ["0.92", "0.98", "1.1", "2.0"] {
            assert!(!Version::parse(unknown).unwrap().is_known(), "{unknown}");
        }
        assert_eq!(v097.to_string(), "0.97");
    }

    #[test]
    fn encodings() {
        assert_eq!(Encoding::from_label("UTF-8"), Some(Encoding::Utf8));
        assert_eq!(Encoding::from_label("utf-8"), Some(Encoding::Utf8));
        assert_eq!(Encoding::from_label("ISO-8859-1"), Some(Encoding::Latin1));
        assert_eq!(Encoding::from_label("US-ASCII"), Some(Encoding::Ascii));
        assert_eq!(Encoding::from_label("UTF-16"), Some(Encoding::Utf16));
        assert_eq!(Encoding::from_label("utf-16le"), Some(Encoding::Utf16Le));
        assert_eq!(Encoding::from_label("UTF-32"), None);
        assert_eq!(Encoding::from_label("UTF8 "), None);
        assert_eq!(Encoding::Latin1.decode(b"caf\xe9").unwrap(), "caf\u{e9}");
        assert_eq!(
            Encoding::Utf8.decode(b"ab\xffc"),
            Err(NotText { offset: 2 })
        );
        assert_eq!(
            Encoding::Ascii.decode("\u{e9}".as_bytes()),
            Err(NotText { offset: 0 })
        );
        // UTF-16 in both byte orders, with and without a byte-order mark.
        let text = "Label: caf\u{e9} \u{1f600}\n";
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let bom = |mark: [u8; 2], body: &[u8]| [&mark[..], body].concat();
        for (bytes, encoding) in [
            (bom([0xfe, 0xff], &be), Encoding::Utf16),
            (bom([0xff, 0xfe], &le), Encoding::Utf16),
            (be.clone(), Encoding::Utf16),
            (le.clone(), Encoding::Utf16),
            (be.clone(), Encoding::Utf16Be),
            (le.clone(), Encoding::Utf16Le),
        ] {
            let decoded = encoding.decode(&bytes).unwrap();
            assert_eq!(strip_bom(&decoded).0, text, "{encoding:?} {bytes:?}");
        }
        assert_eq!(
            Encoding::Utf16.encode(text).unwrap(),
            bom([0xfe, 0xff], &be)
        );
        assert_eq!(Encoding::Utf16Le.encode(text).unwrap(), le);
        assert_eq!(Encoding::Latin1.encode("caf\u{e9}").unwrap(), b"caf\xe9");
        assert_eq!(Encoding::Latin1.encode("\u{1f600}"), None);
        assert_eq!(Encoding::Ascii.encode("caf\u{e9}"), None);
        // A lone surrogate and an odd byte count are not text.
        assert_eq!(
            Encoding::Utf16Be.decode(&[0, 0x41, 0xd8, 0x00, 0, 0x41]),
            Err(NotText { offset: 2 })
        );
        assert_eq!(
            Encoding::Utf16Be.decode(&[0, 0x41, 0]),
            Err(NotText { offset: 2 })
        );
        assert_eq!(strip_bom("\u{feff}x"), ("x", true));
        assert_eq!(strip_bom("x"), ("x", false));
    }

    #[test]
    fn line_endings() {
        assert_eq!(
            lines("a\nb\r\nc\rd"),
            [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
        );
        assert_eq!(lines("a\n\nb\n"), [(1, "a"), (2, ""), (3, "b")]);
        assert_eq!(lines("a\r\n"), [(1, "a")]);
        assert!(lines("").is_empty());
    }

    #[test]
    fn tag_lines() {
        let exact = tag_line("BagIt-Version: 1.0").unwrap();
        assert_eq!(
            (exact.label, exact.value, exact.form),
            ("BagIt-Version", "1.0", TagForm::Exact)
        );
        assert_eq!(tag_line("Label:\tv").unwrap().form, TagForm::Exact);
        assert_eq!(tag_line("Label:").unwrap().form, TagForm::Exact);
        assert_eq!(
            tag_line("Label:  v").unwrap().form,
            TagForm::BlankValueStart
        );
        assert_eq!(tag_line("Label : v").unwrap().form, TagForm::Loose);
        let tight = tag_line("Label:v").unwrap();
        assert_eq!((tight.value, tight.form), ("v", TagForm::Loose));
        assert_eq!(tag_line("Time: 12:30").unwrap().value, "12:30");
        assert_eq!(tag_line("no colon"), None);
        assert_eq!(tag_line(": empty label"), None);
    }

    #[test]
    fn metadata_with_continuations_repeats_and_faults() {
        let text = "Contact-Name: A\nContact-Name: B\nExternal-Description: one\n  two\n\tthree\n\nnonsense\nPayload-Oxum : 5.1\n";
        let meta = parse_metadata(text);
        assert_eq!(
            meta.fields,
            [
                ("Contact-Name".into(), "A".into()),
                ("Contact-Name".into(), "B".into()),
                ("External-Description".into(), "one\ntwo\nthree".into()),
                ("Payload-Oxum".into(), "5.1".into()),
            ]
        );
        assert_eq!(meta.bad, [(7, "nonsense".to_string())]);
        assert_eq!(meta.blank_lines, [6]);
        assert_eq!(meta.loose, [(8, TagForm::Loose)]);
        assert_eq!(parse_metadata("  leading\n").bad.len(), 1);
    }

    #[test]
    fn oxum() {
        assert_eq!(parse_oxum("1024.3"), Some((1024, 3)));
        assert_eq!(parse_oxum("0.0"), Some((0, 0)));
        for bad in [
            "1024",
            "1024.",
            ".3",
            "1,024.3",
            "1.2.3",
            "-1.2",
            "99999999999999999999.1",
        ] {
            assert_eq!(parse_oxum(bad), None, "{bad}");
        }
    }

    #[test]
    fn percent_coding() {
        let p = PathCoding::Percent;
        assert_eq!(
            decode_path("data/a%0Ab%0dc%25d", p).as_deref(),
            Some("data/a\nb\rc%d")
        );
        assert_eq!(decode_path("data/100%", p), None);
        assert_eq!(decode_path("data/a%20b", p), None);
        let legacy = PathCoding::Legacy;
        assert_eq!(
            decode_path("data/100%", legacy).as_deref(),
            Some("data/100%")
        );
        assert_eq!(
            decode_path("data/a%25%0A", legacy).as_deref(),
            Some("data/a%25\n")
        );
        let name = "data/50% off\r\nnow";
        assert_eq!(encode_path(name), "data/50%25 off%0D%0Anow");
        assert_eq!(decode_path(&encode_path(name), p).as_deref(), Some(name));
    }

    #[test]
    fn manifest_lines() {
        let sha1 = "a9993e364706816aba3e25717850c26c9cd0d89d";
        let text = format!(
            "{sha1}  data/a b\n{}\tdata/x\n\n# note\n{sha1} *data/bin\n{sha1}data/glued\nzz  data/z\n{sha1}  data/bad%\nabc  data/short\n{sha1}   \n",
            sha1.to_uppercase()
        );
        let parsed = parse_manifest(&text, Some(Algo::Sha1), PathCoding::Percent);
        let got: Vec<(usize, &str, bool)> = parsed
            .lines
            .iter()
            .map(|l| (l.line, l.path.as_str(), l.star))
            .collect();
        assert_eq!(
            got,
            [
                (1, "data/a b", false),
                (2, "data/x", false),
                (5, "data/bin", true)
            ]
        );
        assert!(parsed.lines.iter().all(|l| l.digest == sha1));
        assert_eq!(parsed.blank_lines, [3]);
        assert_eq!(parsed.comment_lines, [4]);
        let faults: Vec<(usize, &LineFault)> =
            parsed.faults.iter().map(|(n, _, f)| (*n, f)).collect();
        assert_eq!(
            faults,
            [
                (6, &LineFault::Grammar),
                (7, &LineFault::Grammar),
                (8, &LineFault::Percent),
                (9, &LineFault::Length { got: 3, want: 40 }),
                (10, &LineFault::Grammar),
            ]
        );
        // An algorithm rwbridge does not compute: any length is taken.
        let other = parse_manifest("abc  data/short\n", None, PathCoding::Percent);
        assert_eq!(other.lines.len(), 1);
    }

    #[test]
    fn fetch_lines() {
        let text = "https://example.org/a 10 data/a\nhttp://h/b - data/b c\nnot-a-url 1 data/c\nhttps://h/d ten data/d\nhttps://h/e 1\n";
        let parsed = parse_fetch(text, PathCoding::Percent);
        assert_eq!(parsed.lines.len(), 2);
        assert_eq!(parsed.lines[0].length, Some(10));
        assert_eq!(parsed.lines[1].length, None);
        assert_eq!(parsed.lines[1].path, "data/b c");
        let lines: Vec<usize> = parsed.faults.iter().map(|f| f.0).collect();
        assert_eq!(lines, [3, 4, 5]);
    }
}
