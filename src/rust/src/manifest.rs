//! Checksum manifests as the tools write them: GNU coreutils' `HASH  NAME`
//! and `HASH *NAME` with escaped names (a leading `\`, with `\\`, `\n`
//! and `\r` inside), BSD tags (`SHA1 (NAME) = HASH`, as `--tag`, `cksum`,
//! rhash and xxhsum write them, and openssl's `SHA3-256(NAME)= HASH`),
//! digests in hex or base64 (coreutils 9.2+ `--base64`), xxhsum 0.8.2's
//! `XXH3_HASH  NAME`, and NUL-terminated records (`-z`, names raw).
//! Parsing never fails as a whole: each line is an entry or a malformed
//! line. Works on bytes, because file names need not be UTF-8. Never
//! touches R.

use crate::errors::RwError;
use crate::fileio::read_bytes;
use crate::hash::{to_hex, Algo};
use base64::Engine;
use std::path::Path;

/// One well-formed line: a file and the digest it should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number in the manifest.
    pub line: usize,
    /// The file name as listed, unescaped.
    pub name: Vec<u8>,
    /// The tag's algorithm, the one named, or for an untagged digest the
    /// one the manifest's name hints at, else the most common of its length.
    pub algo: Algo,
    /// Lowercase hex (base64 digests too).
    pub expected: String,
    /// An untagged digest with no algorithm named: any algorithm of its
    /// length may be the one (see [`Entry::candidates`]).
    pub fallback: bool,
}

impl Entry {
    /// The algorithms this digest may be, `algo` first, then the others
    /// of its length, most common first.
    pub fn candidates(&self) -> impl Iterator<Item = Algo> + '_ {
        let others: &[Algo] = if self.fallback {
            Algo::candidates(self.algo.bytes())
        } else {
            &[]
        };
        std::iter::once(self.algo).chain(others.iter().copied().filter(|&a| a != self.algo))
    }
}

/// A line that is neither an entry, nor empty, nor a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub line: usize,
    /// The line without its line ending, invalid UTF-8 replaced.
    pub text: String,
    /// Why, when more can be said than that it is not a checksum line.
    pub reason: Option<String>,
}

/// Everything a manifest holds, in manifest order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub entries: Vec<Entry>,
    pub malformed: Vec<Malformed>,
}

/// How to read the lines of one manifest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reading {
    /// The algorithm of every untagged line, when the user named one.
    pub named: Option<Algo>,
    /// What the manifest's file name says of its algorithm.
    pub hint: Option<Hint>,
}

/// Parses a whole manifest. Lines end with LF (CRLF accepted), or, when the
/// manifest ends with a NUL byte, each record ends with NUL (`-z`: names
/// raw, never escaped). Empty lines and lines starting with `#` are
/// skipped, as GNU `sha1sum -c` skips them.
pub fn parse(bytes: &[u8], reading: Reading) -> Manifest {
    let mut manifest = Manifest::default();
    let (lines, zero) = records(bytes);
    for (i, raw) in lines.into_iter().enumerate() {
        let line = match zero {
            true => raw,
            false => raw.strip_suffix(b"\r").unwrap_or(raw),
        };
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        match parse_line(line, reading, !zero) {
            Ok(entry) => manifest.entries.push(Entry {
                line: i + 1,
                ..entry
            }),
            Err(reason) => manifest.malformed.push(Malformed {
                line: i + 1,
                text: String::from_utf8_lossy(line).into_owned(),
                reason,
            }),
        }
    }
    manifest
}

/// The records of a manifest, without their endings: its lines, or when it
/// ends with a NUL byte its NUL-terminated records (then `true`).
pub fn records(bytes: &[u8]) -> (Vec<&[u8]>, bool) {
    let zero = bytes.last() == Some(&0);
    let end = if zero { 0 } else { b'\n' };
    let mut records: Vec<&[u8]> = bytes.split(|&b| b == end).collect();
    if bytes.last() == Some(&end) {
        records.pop();
    }
    (records, zero)
}

/// Reads and parses the manifest at `path` (see [`parse`]); its file name
/// may hint at the algorithm ([`Hint::of_file_name`]).
pub fn read(path: &Path, named: Option<Algo>) -> Result<Manifest, RwError> {
    let hint = path
        .file_name()
        .and_then(|n| Hint::of_file_name(n.as_encoded_bytes()));
    Ok(parse(&read_bytes(path)?, Reading { named, hint }))
}

/// One line (no line ending) as an entry (line number 0), or why it is
/// malformed. `escapes`: a leading `\` marks an escaped name (not in `-z`
/// records).
pub fn parse_line(line: &[u8], reading: Reading, escapes: bool) -> Result<Entry, Option<String>> {
    // GNU skips leading blanks before the optional escape marker.
    let start = line
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .ok_or(None)?;
    let mut rest = &line[start..];
    let escaped = escapes && rest.first() == Some(&b'\\');
    if escaped {
        rest = &rest[1..];
    }
    let mut unknown = None;
    let tagged = match split_tagged(rest) {
        Some((tag, digest, name)) => match algo_of_tag(tag) {
            Some((algo, reversed)) => Some((algo, digest, name, reversed)),
            // A tool's tag spelled otherwise (`sha256`) is no tool's line,
            // but not an algorithm rwbridge lacks either.
            None => {
                unknown = (!known_in_any_case(tag)).then_some(tag);
                None
            }
        },
        None => None,
    };
    let (algo, expected, raw_name, fallback) = match tagged {
        Some((algo, digest, name, reversed)) => {
            let mut bytes = decode(digest, algo.bytes()).ok_or(None)?;
            if reversed {
                bytes.reverse();
            }
            (algo, to_hex(&bytes), name, false)
        }
        None => split_untagged(rest, reading).ok_or_else(|| {
            unknown.map(|tag| format!("unknown algorithm '{}'", String::from_utf8_lossy(tag)))
        })?,
    };
    let name = if escaped {
        unescape(raw_name).ok_or(None)?
    } else {
        raw_name.to_vec()
    };
    if name.is_empty() || name.contains(&0) {
        return Err(None);
    }
    Ok(Entry {
        line: 0,
        name,
        algo,
        expected,
        fallback,
    })
}

/// `TAG (NAME) = DIGEST` as coreutils writes it, `TAG   (NAME) = DIGEST`
/// (rhash pads tags) and `TAG(NAME)= DIGEST` (openssl): the name runs to
/// the last `)`, since BSD tools do not escape names. A tag is a letter
/// then letters, digits, `-` and `_`.
fn split_tagged(rest: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    if !rest.first()?.is_ascii_alphabetic() {
        return None;
    }
    let tag_len = rest
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))?;
    let (tag, after) = rest.split_at(tag_len);
    let after = &after[after.iter().position(|&b| b != b' ')?..];
    let inside = after.strip_prefix(b"(")?;
    let close = inside.iter().rposition(|&b| b == b')')?;
    let tail = trim_blanks(&inside[close + 1..]);
    let digest = trim_blanks(tail.strip_prefix(b"=")?);
    Some((tag, digest, &inside[..close]))
}

/// The algorithm a tag names, and whether its digest is written
/// little-endian (xxhsum's `--little-endian`: `XXH64_LE`).
fn algo_of_tag(tag: &[u8]) -> Option<(Algo, bool)> {
    if let Some(xxh) = tag.strip_suffix(b"_LE").filter(|t| t.starts_with(b"XXH")) {
        return Algo::from_tag(xxh).map(|a| (a, true));
    }
    Algo::from_tag(tag).map(|a| (a, false))
}

/// Whether `tag` is an algorithm's tag but for case.
fn known_in_any_case(tag: &[u8]) -> bool {
    let upper = |t: &[u8]| t.to_ascii_uppercase();
    let tag = upper(tag);
    let b2 = tag.strip_prefix(b"BLAKE2B-").map(|bits| {
        let mut spelled = b"BLAKE2b-".to_vec();
        spelled.extend_from_slice(bits);
        spelled
    });
    b2.is_some_and(|t| Algo::from_tag(&t).is_some())
        || Algo::ALL
            .iter()
            .flat_map(|a| a.tags())
            .any(|t| upper(t.as_bytes()) == tag)
}

/// `HASH  NAME` (text) or `HASH *NAME` (binary; the mode makes no
/// difference): the algorithm (with whether others of its length may be
/// it), the digest in lowercase hex, and the name.
fn split_untagged(rest: &[u8], reading: Reading) -> Option<(Algo, String, &[u8], bool)> {
    let digits = rest.iter().position(|&b| b == b' ')?;
    let (digest, name) = match &rest[digits..] {
        [b' ', b' ' | b'*', name @ ..] => (&rest[..digits], name),
        _ => return None,
    };
    // xxhsum 0.8.2 marks untagged XXH3 digests so.
    if let Some(xxh3) = digest.strip_prefix(b"XXH3_") {
        let expected = hex_digest(xxh3, Algo::Xxh3.bytes())?;
        return (reading.named.is_none() || reading.named == Some(Algo::Xxh3)).then_some((
            Algo::Xxh3,
            expected,
            name,
            false,
        ));
    }
    if let Some(algo) = reading.named {
        let expected = hex_digest(digest, algo.bytes())
            .or_else(|| decode(digest, algo.bytes()).map(|b| to_hex(&b)))?;
        return Some((algo, expected, name, false));
    }
    let (bytes, expected) = match digest.iter().all(|&b| is_hex(b)) && digest.len() % 2 == 0 {
        true => (digest.len() / 2, digest.to_ascii_lowercase()),
        // Untagged base64 of the common lengths only, or of the hinted
        // algorithm's: every 4 letters would be some BLAKE2b's otherwise.
        false => {
            let decoded = base64_digest(digest)?;
            let len = decoded.len();
            let known = Algo::candidates(len).len() > 1
                || reading.hint.is_some_and(|h| h.pick(len).is_some());
            (len, known.then(|| to_hex(&decoded).into_bytes())?)
        }
    };
    let candidates = Algo::candidates(bytes);
    let hinted = reading.hint.and_then(|h| h.pick(bytes));
    let algo = hinted.or_else(|| candidates.first().copied())?;
    let expected = String::from_utf8(expected).ok()?;
    Some((algo, expected, name, candidates.len() > 1))
}

/// A digest of `bytes` bytes, in hex or in base64 (with its `=` padding,
/// as `--base64` writes it).
fn decode(digest: &[u8], bytes: usize) -> Option<Vec<u8>> {
    if digest.len() == bytes * 2 && digest.iter().all(|&b| is_hex(b)) {
        return (0..bytes)
            .map(|i| std::str::from_utf8(&digest[2 * i..2 * i + 2]).ok())
            .map(|pair| pair.and_then(|p| u8::from_str_radix(p, 16).ok()))
            .collect();
    }
    base64_digest(digest).filter(|d| d.len() == bytes)
}

/// A hex digest of `bytes` bytes, lowercase.
fn hex_digest(digest: &[u8], bytes: usize) -> Option<String> {
    (digest.len() == bytes * 2 && digest.iter().all(|&b| is_hex(b)))
        .then(|| String::from_utf8(digest.to_ascii_lowercase()).ok())
        .flatten()
}

/// A base64 digest (RFC 4648, padded: coreutils' `--check` wants it
/// exactly as `--base64` writes it).
fn base64_digest(digest: &[u8]) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(digest)
        .ok()
        .filter(|d| !d.is_empty())
}

/// A table, not `is_ascii_hexdigit()`'s three ranges: on random digests the
/// ranges' branches mispredict, and parsing a big manifest took twice as long.
pub(crate) fn is_hex(b: u8) -> bool {
    const TABLE: [bool; 256] = {
        let mut table = [false; 256];
        let mut i = 0;
        while i < 256 {
            table[i] = (i as u8).is_ascii_hexdigit();
            i += 1;
        }
        table
    };
    TABLE[usize::from(b)]
}

fn trim_blanks(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(s.len());
    &s[start..]
}

fn unescape(name: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(name.len());
    let mut bytes = name.iter();
    while let Some(&b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        out.push(match bytes.next()? {
            b'\\' => b'\\',
            b'n' => b'\n',
            b'r' => b'\r',
            _ => return None,
        });
    }
    Some(out)
}

/// What a manifest's file name says of the algorithm of its untagged
/// lines: one algorithm, or a family whose digest length picks the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    One(Algo),
    /// `b2sum -l N`: BLAKE2b of the digest's length.
    Blake2b,
    /// `cksum -a sha3 -l N`.
    Sha3,
    /// `xxhsum -H0`, `-H1` (its default) or `-H2`.
    Xxh,
}

/// File name stems that hint at an algorithm, besides the names in R
/// (`md5`, `sha256`, `sha3-256`, `blake2b-256`, `xxh128`, ...).
const HINTS: [(&str, Hint); 9] = [
    ("b2", Hint::Blake2b),
    ("blake2", Hint::Blake2b),
    ("blake2b", Hint::Blake2b),
    ("b3", Hint::One(Algo::Blake3)),
    ("sha3", Hint::Sha3),
    ("xxh", Hint::Xxh),
    ("xxhash", Hint::Xxh),
    ("sha2-256", Hint::One(Algo::Sha256)),
    ("sha2-512", Hint::One(Algo::Sha512)),
];

impl Hint {
    /// The hint in a manifest's file name, as the tools' users name them:
    /// `SHA256SUMS`, `sha256sum.txt`, `sha256sums.txt`, `files.sha256`,
    /// `B3SUMS`, `b3sums.txt`, `x.b3`, `B2SUMS`, `x.b2`, `x.xxh128`,
    /// `MD5SUMS`, `manifest-sha256.txt` (BagIt), in any case. The name is
    /// lowercased, a `.txt` ending dropped; then its extension, its stem
    /// after a BagIt `manifest-` or `tagmanifest-`, or the whole stem, less
    /// an ending `sums` or `sum`, must name an algorithm (`_` read as `-`).
    pub fn of_file_name(name: &[u8]) -> Option<Hint> {
        let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
        let stem = lower.strip_suffix(".txt").unwrap_or(&lower);
        let extension = stem.rsplit_once('.').map(|(_, e)| e);
        let bagit = stem
            .strip_prefix("tagmanifest-")
            .or_else(|| stem.strip_prefix("manifest-"));
        for key in [extension, bagit, Some(stem)].into_iter().flatten() {
            if let Some(hint) = Hint::of_key(key) {
                return Some(hint);
            }
        }
        None
    }

    fn of_key(key: &str) -> Option<Hint> {
        let key = key.replace('_', "-");
        let key = ["sums", "sum"]
            .iter()
            .find_map(|s| key.strip_suffix(s).filter(|k| !k.is_empty()))
            .unwrap_or(&key);
        HINTS
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, h)| *h)
            .or_else(|| Algo::from_name(key).map(Hint::One))
    }

    /// The algorithm of a `bytes`-byte digest under this hint, if any.
    pub fn pick(self, bytes: usize) -> Option<Algo> {
        let family: &[Algo] = match self {
            Hint::One(algo) => return (algo.bytes() == bytes).then_some(algo),
            Hint::Blake2b => return Algo::blake2b(bytes * 8),
            Hint::Sha3 => &[
                Algo::Sha3_224,
                Algo::Sha3_256,
                Algo::Sha3_384,
                Algo::Sha3_512,
            ],
            Hint::Xxh => &[Algo::Xxh32, Algo::Xxh64, Algo::Xxh128],
        };
        family.iter().copied().find(|a| a.bytes() == bytes)
    }
}

/// The line for `name` (with its line ending) in the form the tool that
/// checks `algo` reads: GNU's `HASH  NAME` (`md5sum`, ..., `b2sum -l`,
/// `b3sum`, `xxhsum`), or tagged, `TAG (NAME) = HASH` (`cksum -a sha3`,
/// `xxhsum -H3`, rhash for CRC32C and BLAKE2s). Names holding a backslash,
/// a newline or a carriage return are escaped as coreutils 9 escapes them.
pub fn format_line(algo: Algo, digest: &str, name: &[u8]) -> Vec<u8> {
    format_record(algo, digest, name, false)
}

/// [`format_line`], or with `zero` the NUL-terminated record `-z` writes,
/// its name raw.
pub fn format_record(algo: Algo, digest: &str, name: &[u8], zero: bool) -> Vec<u8> {
    let needs_escape = !zero && name.iter().any(|&b| matches!(b, b'\\' | b'\n' | b'\r'));
    let mut line = Vec::with_capacity(digest.len() + name.len() + 24);
    if needs_escape {
        line.push(b'\\');
    }
    let tagged = algo.written_tagged();
    if tagged {
        line.extend_from_slice(algo.bsd_tag().as_bytes());
        line.extend_from_slice(b" (");
    } else {
        line.extend_from_slice(digest.as_bytes());
        line.extend_from_slice(b"  ");
    }
    for &b in name {
        match b {
            b'\\' if needs_escape => line.extend_from_slice(b"\\\\"),
            b'\n' if !zero => line.extend_from_slice(b"\\n"),
            b'\r' if !zero => line.extend_from_slice(b"\\r"),
            _ => line.push(b),
        }
    }
    if tagged {
        line.extend_from_slice(b") = ");
        line.extend_from_slice(digest.as_bytes());
    }
    line.push(if zero { 0 } else { b'\n' });
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SHA1_ABC: &str = "a9993e364706816aba3e25717850c26c9cd0d89d";
    const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    const MD5_ABC: &str = "900150983cd24fb0d6963f7d28e17f72";

    fn one(line: &str) -> Option<(Algo, String, Vec<u8>)> {
        named(line, None)
    }

    fn named(line: &str, named: Option<Algo>) -> Option<(Algo, String, Vec<u8>)> {
        let reading = Reading { named, hint: None };
        let entry = parse_line(line.as_bytes(), reading, true).ok()?;
        Some((entry.algo, entry.expected, entry.name))
    }

    fn none() -> Reading {
        Reading::default()
    }

    #[test]
    fn accepted_forms() {
        let upper = SHA1_ABC.to_uppercase();
        let cases: Vec<(String, &[u8])> = vec![
            (format!("{SHA1_ABC}  a.txt"), b"a.txt"),
            (format!("{SHA1_ABC} *bin/a b.dat"), b"bin/a b.dat"),
            (format!("{upper}  UP"), b"UP"),
            (format!("{SHA256_ABC}  s"), b"s"),
            (format!("{SHA1_ABC}   lead space"), b" lead space"),
            (format!("\\{SHA1_ABC}  a\\\\b\\nc\\rd"), b"a\\b\nc\rd"),
            (format!("{SHA1_ABC}  back\\slash"), b"back\\slash"),
            (format!("SHA1 (x (1).txt) = {SHA1_ABC}"), b"x (1).txt"),
            (format!("SHA256 (y) = {SHA256_ABC}"), b"y"),
            (format!("\\SHA1 (n\\nl) = {SHA1_ABC}"), b"n\nl"),
            (format!("  {SHA1_ABC}  indented"), b"indented"),
        ];
        for (line, name) in cases {
            // The digest in the line says which algorithm it is.
            let want = if line.contains(SHA256_ABC) {
                (Algo::Sha256, SHA256_ABC)
            } else {
                (Algo::Sha1, SHA1_ABC)
            };
            let (algo, digest, n) = one(&line).unwrap_or_else(|| panic!("rejected {line:?}"));
            assert_eq!((algo, digest.as_str()), want, "{line:?}");
            assert_eq!(n, name, "{line:?}");
        }
    }

    #[test]
    fn rejected_forms() {
        let short = &SHA1_ABC[..39];
        let cases = vec![
            format!("{SHA1_ABC} a.txt"),
            format!("{SHA1_ABC}"),
            format!("{SHA1_ABC}  "),
            format!("{short}  a"),
            format!("{SHA1_ABC}0  a"),
            format!("{}  a", &SHA1_ABC[..33]),
            format!("BLAKE2b-256 (x) = {SHA1_ABC}"),
            format!("BLAKE2b-7 (x) = {SHA1_ABC}"),
            format!("\\{SHA1_ABC}  bad\\escape"),
            format!("\\{SHA1_ABC}  trailing\\"),
            format!("SHA1 (x) = {SHA256_ABC}"),
            format!("MD5 (x) = {SHA1_ABC}"),
            format!("SHA1 (x) {SHA1_ABC}"),
            format!("{SHA1_ABC}\tx"),
            "   ".to_string(),
            "not a checksum line".to_string(),
            format!("{}  x", "g".repeat(40)),
        ];
        for line in cases {
            assert_eq!(one(&line), None, "accepted {line:?}");
        }
    }

    #[test]
    fn every_algorithm_by_tag_or_length_and_a_named_one_settles_lengths() {
        for algo in Algo::EVERY {
            let digest = crate::hash::hash_bytes(algo, b"abc");
            let tagged = format!("{} (f) = {digest}", algo.bsd_tag());
            assert_eq!(one(&tagged).map(|p| p.0), Some(algo), "{tagged}");
            // A tag wins over a named algorithm.
            let named_other = named(&tagged, Some(Algo::Md5));
            assert_eq!(named_other.map(|p| p.0), Some(algo));
            let plain = format!("{digest}  f");
            let want = (!algo.written_tagged()).then_some(algo);
            assert_eq!(named(&plain, Some(algo)).map(|p| p.0), Some(algo));
            let written = format_line(algo, &digest, b"f");
            let back = parse(&written, none()).entries;
            assert!(back[0].candidates().any(|a| a == algo), "{algo:?}");
            if algo.written_tagged() {
                assert_eq!(back[0].algo, algo, "{}", String::from_utf8_lossy(&written));
            }
            assert_eq!(
                back[0].fallback,
                want.is_some() && Algo::candidates(algo.bytes()).len() > 1
            );
        }
        let blake3 = format!("{SHA256_ABC}  f");
        assert_eq!(one(&blake3).map(|p| p.0), Some(Algo::Sha256));
        let as_blake3 = named(&blake3, Some(Algo::Blake3));
        assert_eq!(as_blake3.map(|p| p.0), Some(Algo::Blake3));
        // A length that does not fit the named algorithm is malformed.
        assert_eq!(named(&blake3, Some(Algo::Sha1)), None);
        let md5 = format!("{MD5_ABC}  f");
        assert_eq!(one(&md5).map(|p| p.0), Some(Algo::Md5));
    }

    #[test]
    fn whole_manifest_keeps_order_and_line_numbers() {
        let text = format!(
            "# comment\r\n{SHA1_ABC}  a\r\n\r\n   \r\ngarbage\n{SHA256_ABC} *b\n\n{SHA1_ABC}  c"
        );
        let m = parse(text.as_bytes(), none());
        let got: Vec<(usize, &[u8])> = m
            .entries
            .iter()
            .map(|e| (e.line, e.name.as_slice()))
            .collect();
        assert_eq!(got, vec![(2, &b"a"[..]), (6, b"b"), (8, b"c")]);
        let bad: Vec<(usize, &str)> = m
            .malformed
            .iter()
            .map(|l| (l.line, l.text.as_str()))
            .collect();
        assert_eq!(bad, vec![(4, "   "), (5, "garbage")]);
        assert_eq!(parse(b"", none()), Manifest::default());
        assert_eq!(parse(b"\n\n", none()).entries.len(), 0);
    }

    #[test]
    fn long_lines_parse() {
        let name = "n".repeat(100_000);
        let m = parse(format!("{SHA1_ABC}  {name}\n").as_bytes(), none());
        assert_eq!(m.entries[0].name.len(), 100_000);
    }

    #[test]
    fn format_matches_coreutils() {
        assert_eq!(
            format_line(Algo::Sha1, SHA1_ABC, b"a b"),
            format!("{SHA1_ABC}  a b\n").into_bytes()
        );
        assert_eq!(
            format_line(Algo::Sha1, SHA1_ABC, b"c\\d\ne\rf"),
            format!("\\{SHA1_ABC}  c\\\\d\\ne\\rf\n").into_bytes()
        );
    }

    #[test]
    fn lines_every_tool_writes() {
        let abc = |algo| crate::hash::hash_bytes(algo, b"abc");
        let b2 = |bits| Algo::blake2b(bits).unwrap();
        let cases: Vec<(String, Algo)> = vec![
            // openssl dgst 3.0
            (format!("SHA2-256(a)= {}", abc(Algo::Sha256)), Algo::Sha256),
            (format!("SHA2-512(a)= {}", abc(Algo::Sha512)), Algo::Sha512),
            (
                format!("SHA3-256(a)= {}", abc(Algo::Sha3_256)),
                Algo::Sha3_256,
            ),
            (
                format!("BLAKE2B-512(a)= {}", abc(Algo::Blake2b)),
                Algo::Blake2b,
            ),
            (
                format!("BLAKE2S-256(a)= {}", abc(Algo::Blake2s)),
                Algo::Blake2s,
            ),
            (format!("MD5(a)= {}", abc(Algo::Md5)), Algo::Md5),
            // rhash --bsd pads short tags
            (format!("MD5   (a) = {}", abc(Algo::Md5)), Algo::Md5),
            (format!("SHA1  (a) = {}", abc(Algo::Sha1)), Algo::Sha1),
            (
                format!("BLAKE2s (a) = {}", abc(Algo::Blake2s)),
                Algo::Blake2s,
            ),
            (format!("CRC32C (a) = {}", abc(Algo::Crc32c)), Algo::Crc32c),
            (
                format!("SHA3-512 (a) = {}", abc(Algo::Sha3_512)),
                Algo::Sha3_512,
            ),
            // b2sum -l N --tag, cksum -a blake2b -l N
            (format!("BLAKE2b-256 (a) = {}", abc(b2(256))), b2(256)),
            (format!("BLAKE2b-8 (a) = {}", abc(b2(8))), b2(8)),
            // xxhsum --tag, -H3, xxhsum 0.8.2's untagged XXH3
            (format!("XXH32 (a) = {}", abc(Algo::Xxh32)), Algo::Xxh32),
            (format!("XXH64 (a) = {}", abc(Algo::Xxh64)), Algo::Xxh64),
            (format!("XXH3 (a) = {}", abc(Algo::Xxh3)), Algo::Xxh3),
            (format!("XXH128 (a) = {}", abc(Algo::Xxh128)), Algo::Xxh128),
            (format!("XXH3_{}  a", abc(Algo::Xxh3)), Algo::Xxh3),
        ];
        for (line, algo) in cases {
            let entry = parse_line(line.as_bytes(), none(), true)
                .unwrap_or_else(|e| panic!("rejected {line:?}: {e:?}"));
            assert_eq!(
                (entry.algo, entry.name.as_slice()),
                (algo, &b"a"[..]),
                "{line}"
            );
            assert_eq!(entry.expected, abc(algo), "{line}");
            assert!(!entry.fallback, "{line}");
        }
    }

    #[test]
    fn little_endian_xxhsum_digests_are_turned_around() {
        // `xxhsum -H1 --tag --little-endian`, `-H0`, `-H3` on "abc".
        for (line, want) in [
            ("XXH64_LE (a) = 990977adf52cbc44", "44bc2cf5ad770999"),
            ("XXH32_LE (a) = ff53d132", "32d153ff"),
            ("XXH3_LE (a) = 50392f89945faf78", "78af5f94892f3950"),
        ] {
            let entry = parse_line(line.as_bytes(), none(), true).unwrap();
            assert_eq!(entry.expected, want, "{line}");
        }
        assert!(parse_line(b"SHA1_LE (a) = 00", none(), true).is_err());
    }

    /// Base64 digests as the coreutils 9.8 manual documents `--base64`
    /// (RFC 4648 section 4, with its `=` padding), tagged and untagged;
    /// coreutils 9.1 here cannot write them, so python's base64 made these.
    #[test]
    fn base64_digests_tagged_and_untagged() {
        let cases = [
            (
                "SHA256 (a) = ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
                Algo::Sha256,
                false,
            ),
            (
                "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=  a",
                Algo::Sha256,
                true,
            ),
            ("MD5 (a) = kAFQmDzST7DWlj99KOF/cg==", Algo::Md5, false),
            ("kAFQmDzST7DWlj99KOF/cg== *a", Algo::Md5, true),
            ("qZk+NkcGgWq6PiVxeFDCbJzQ2J0=  a", Algo::Sha1, true),
            (
                "ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn  a",
                Algo::Sha384,
                true,
            ),
            (
                "SHA3-256 (a) = Ophdp0/iJbIEXBcta9OQvYVfCG4+nVJbRr/iRRFDFTI=",
                Algo::Sha3_256,
                false,
            ),
            ("BLAKE2b-8 (a) = aw==", Algo::blake2b(8).unwrap(), false),
        ];
        for (line, algo, fallback) in cases {
            let entry = parse_line(line.as_bytes(), none(), true)
                .unwrap_or_else(|e| panic!("rejected {line:?}: {e:?}"));
            assert_eq!(entry.algo, algo, "{line}");
            assert_eq!(
                entry.expected,
                crate::hash::hash_bytes(algo, b"abc"),
                "{line}"
            );
            assert_eq!(entry.fallback, fallback, "{line}");
        }
        // A named algorithm reads base64 too; padding is as written or wrong.
        let sha256 = Reading {
            named: Some(Algo::Sha256),
            hint: None,
        };
        assert!(parse_line(
            b"ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=  a",
            sha256,
            true
        )
        .is_ok());
        for bad in [
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0  a",
            "kAFQmDzST7DWlj99KOF/cg=  a",
            "SHA256 (a) = kAFQmDzST7DWlj99KOF/cg==",
            "SHA1 (a) = ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa1=  a",
        ] {
            assert!(
                parse_line(bad.as_bytes(), none(), true).is_err(),
                "accepted {bad}"
            );
        }
    }

    #[test]
    fn nul_terminated_records_keep_names_raw() {
        let text =
            format!("{SHA1_ABC}  a\\nb\0{SHA1_ABC}  new\nline\0\0SHA1 (c\\d) = {SHA1_ABC}\0");
        let m = parse(text.as_bytes(), none());
        let names: Vec<&[u8]> = m.entries.iter().map(|e| e.name.as_slice()).collect();
        assert_eq!(names, [&b"a\\nb"[..], b"new\nline", b"c\\d"]);
        assert_eq!(m.entries[2].line, 4);
        assert!(m.malformed.is_empty());
        // Without the final NUL, it is a manifest of lines, one malformed.
        let m = parse(
            format!("{SHA1_ABC}  a\0b\n{SHA1_ABC}  c\n").as_bytes(),
            none(),
        );
        assert_eq!(m.entries.len(), 1);
        assert_eq!(m.malformed[0].line, 1);
    }

    #[test]
    fn an_algorithm_rwbridge_lacks_is_named() {
        let sm3 = "SM3 (a) = 66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0";
        let shake =
            "SHAKE-256(a)= 483366601360a8771c6863080cc4114d8db44530f8f1e1ee4f94ea37e78b5739";
        let m = parse(format!("{sm3}\n{shake}\nnot a line\n").as_bytes(), none());
        let reasons: Vec<Option<&str>> = m.malformed.iter().map(|l| l.reason.as_deref()).collect();
        assert_eq!(
            reasons,
            [
                Some("unknown algorithm 'SM3'"),
                Some("unknown algorithm 'SHAKE-256'"),
                None
            ]
        );
        // A tool's tag spelled otherwise is no tool's line, with no reason.
        let lower = parse(format!("sha256 (a) = {SHA256_ABC}\n").as_bytes(), none());
        assert_eq!(lower.malformed[0].reason, None);
        for line in [
            format!("sha256 (a) = {SHA256_ABC}"),
            format!("SHA-256 (a) = {SHA256_ABC}"),
            format!(
                "BLAKE2b-512 (a) = {}",
                crate::hash::hash_bytes(Algo::Blake2b, b"abc")
            ),
            format!("XXH3_{SHA1_ABC}  a"),
        ] {
            assert!(one(&line).is_none(), "accepted {line}");
        }
    }

    #[test]
    fn file_names_hint_at_algorithms() {
        let b2 = |bits: usize| Hint::Blake2b.pick(bits / 8);
        let cases: Vec<(&str, Option<Hint>)> = vec![
            ("SHA256SUMS", Some(Hint::One(Algo::Sha256))),
            ("sha256sum.txt", Some(Hint::One(Algo::Sha256))),
            ("sha256sums.txt", Some(Hint::One(Algo::Sha256))),
            ("release.tar.gz.sha256", Some(Hint::One(Algo::Sha256))),
            ("x.sha512sum", Some(Hint::One(Algo::Sha512))),
            ("MD5SUMS", Some(Hint::One(Algo::Md5))),
            ("md5sum.txt", Some(Hint::One(Algo::Md5))),
            ("sha1sum.txt", Some(Hint::One(Algo::Sha1))),
            ("B3SUMS", Some(Hint::One(Algo::Blake3))),
            ("b3sums.txt", Some(Hint::One(Algo::Blake3))),
            ("data.b3", Some(Hint::One(Algo::Blake3))),
            ("x.blake3", Some(Hint::One(Algo::Blake3))),
            ("B2SUMS", Some(Hint::Blake2b)),
            ("files.b2", Some(Hint::Blake2b)),
            ("SHA3SUMS", Some(Hint::Sha3)),
            ("SHA3-256SUMS", Some(Hint::One(Algo::Sha3_256))),
            ("manifest-sha3_256.txt", Some(Hint::One(Algo::Sha3_256))),
            ("tagmanifest-md5.txt", Some(Hint::One(Algo::Md5))),
            ("files.xxh128", Some(Hint::One(Algo::Xxh128))),
            ("files.xxh", Some(Hint::Xxh)),
            ("xxh64sums.txt", Some(Hint::One(Algo::Xxh64))),
            ("x.crc32c", Some(Hint::One(Algo::Crc32c))),
            ("x.blake2s", Some(Hint::One(Algo::Blake2s))),
            ("checksums.txt", None),
            ("CHECKSUMS", None),
            ("sums.txt", None),
            ("manifest.txt", None),
            ("SHA256SUMS.asc", None),
        ];
        for (name, want) in cases {
            assert_eq!(Hint::of_file_name(name.as_bytes()), want, "{name}");
        }
        assert_eq!(b2(256), Algo::blake2b(256));
        assert_eq!(b2(512), Some(Algo::Blake2b));
        assert_eq!(Hint::Sha3.pick(32), Some(Algo::Sha3_256));
        assert_eq!(Hint::Xxh.pick(8), Some(Algo::Xxh64));
        assert_eq!(Hint::Xxh.pick(32), None);
        assert_eq!(Hint::One(Algo::Blake3).pick(20), None);
    }

    #[test]
    fn a_hint_orders_the_candidates_and_a_name_settles_them() {
        let line = format!("{SHA256_ABC}  f");
        let entry = |reading| parse_line(line.as_bytes(), reading, true).unwrap();
        let plain = entry(none());
        assert_eq!(plain.algo, Algo::Sha256);
        let order: Vec<Algo> = plain.candidates().collect();
        assert_eq!(order, Algo::candidates(32));
        let hinted = entry(Reading {
            named: None,
            hint: Some(Hint::One(Algo::Blake3)),
        });
        let order: Vec<Algo> = hinted.candidates().collect();
        assert_eq!(order[..2], [Algo::Blake3, Algo::Sha256]);
        assert_eq!(order.len(), 5);
        // A hint of another length leaves the most common first.
        let other = entry(Reading {
            named: None,
            hint: Some(Hint::One(Algo::Sha1)),
        });
        assert_eq!(other.algo, Algo::Sha256);
        let named = entry(Reading {
            named: Some(Algo::Blake3),
            hint: None,
        });
        assert_eq!(named.candidates().collect::<Vec<_>>(), [Algo::Blake3]);
        let sha1 = parse_line(format!("{SHA1_ABC}  f").as_bytes(), none(), true).unwrap();
        assert_eq!(sha1.candidates().count(), 2);
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let m = parse(&bytes, none());
            for e in &m.entries {
                prop_assert!(!e.name.is_empty());
                prop_assert_eq!(e.expected.len(), e.algo.hex_len());
            }
        }

        #[test]
        fn written_lines_parse_back(
            name in proptest::collection::vec(any::<u8>().prop_filter("no NUL", |b| *b != 0), 1..64),
            text_name in "[ a-z\\\\\n\r\u{e9}\u{4e2d}()=*#]{1,24}",
            which in 0..Algo::EVERY.len(),
        ) {
            let algo = Algo::EVERY[which];
            let digest = crate::hash::hash_bytes(algo, &name);
            for n in [name.clone(), text_name.into_bytes()] {
                let m = parse(&format_line(algo, &digest, &n), Reading { named: Some(algo), hint: None });
                prop_assert!(m.malformed.is_empty(), "{:?}", m.malformed);
                prop_assert_eq!(m.entries.len(), 1);
                prop_assert_eq!(&m.entries[0].name, &n);
                prop_assert_eq!(&m.entries[0].expected, &digest);
                prop_assert_eq!(m.entries[0].algo, algo);
            }
        }
    }
}
