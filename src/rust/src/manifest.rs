//! Checksum manifests as GNU coreutils reads and writes them: `HASH  NAME`,
//! `HASH *NAME`, escaped names (a leading `\`, with `\\`, `\n` and `\r`
//! inside) and BSD tags (`SHA1 (NAME) = HASH`, `BLAKE2b (NAME) = HASH`, as
//! `--tag` writes them). Parsing never fails as a whole:
//! each line is an entry or a malformed line. Works on bytes, because file
//! names need not be UTF-8. Never touches R.

use crate::errors::RwError;
use crate::fileio::read_bytes;
use crate::hash::Algo;
use std::path::Path;

/// One well-formed line: a file and the digest it should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number in the manifest.
    pub line: usize,
    /// The file name as listed, unescaped.
    pub name: Vec<u8>,
    pub algo: Algo,
    /// Lowercase hex.
    pub expected: String,
}

/// A line that is neither an entry, nor empty, nor a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub line: usize,
    /// The line without its line ending, invalid UTF-8 replaced.
    pub text: String,
}

/// Everything a manifest holds, in manifest order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub entries: Vec<Entry>,
    pub malformed: Vec<Malformed>,
}

/// Parses a whole manifest. Empty lines and lines starting with `#` are
/// skipped, as GNU `sha1sum -c` skips them; CRLF endings are accepted. An
/// untagged digest's algorithm is `named`, or else follows from its length
/// (see [`Algo::of_hex_len`]).
pub fn parse(bytes: &[u8], named: Option<Algo>) -> Manifest {
    let mut manifest = Manifest::default();
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if bytes.ends_with(b"\n") {
        lines.pop();
    }
    for (i, raw) in lines.into_iter().enumerate() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        match parse_line(line, named) {
            Some((algo, expected, name)) => manifest.entries.push(Entry {
                line: i + 1,
                name,
                algo,
                expected,
            }),
            None => manifest.malformed.push(Malformed {
                line: i + 1,
                text: String::from_utf8_lossy(line).into_owned(),
            }),
        }
    }
    manifest
}

/// Reads and parses the manifest at `path` (see [`parse`]).
pub fn read(path: &Path, named: Option<Algo>) -> Result<Manifest, RwError> {
    Ok(parse(&read_bytes(path)?, named))
}

/// One line (no line ending) into (algorithm, lowercase digest, name).
pub fn parse_line(line: &[u8], named: Option<Algo>) -> Option<(Algo, String, Vec<u8>)> {
    // GNU skips leading blanks before the optional escape marker.
    let start = line.iter().position(|&b| b != b' ' && b != b'\t')?;
    let mut rest = &line[start..];
    let escaped = rest.first() == Some(&b'\\');
    if escaped {
        rest = &rest[1..];
    }
    let (algo, digest, raw_name) = split_bsd(rest).or_else(|| split_gnu(rest, named))?;
    if digest.len() != algo.hex_len() || !digest.iter().all(|&b| is_hex(b)) {
        return None;
    }
    let name = if escaped {
        unescape(raw_name)?
    } else {
        raw_name.to_vec()
    };
    if name.is_empty() || name.contains(&0) {
        return None;
    }
    let expected = String::from_utf8(digest.to_ascii_lowercase()).ok()?;
    Some((algo, expected, name))
}

/// `SHA1 (NAME) = HASH`: the name runs to the last `)`, since BSD tools do
/// not escape names. The tag alone says the algorithm.
fn split_bsd(rest: &[u8]) -> Option<(Algo, &[u8], &[u8])> {
    let (algo, inside) = Algo::ALL.into_iter().find_map(|a| {
        let after_tag = rest.strip_prefix(a.bsd_tag().as_bytes())?;
        let after_tag = after_tag.strip_prefix(b" ").unwrap_or(after_tag);
        Some((a, after_tag.strip_prefix(b"(")?))
    })?;
    let close = inside.iter().rposition(|&b| b == b')')?;
    let tail = trim_blanks(&inside[close + 1..]);
    let digest = trim_blanks(tail.strip_prefix(b"=")?);
    Some((algo, digest, &inside[..close]))
}

/// `HASH  NAME` (text) or `HASH *NAME` (binary); the mode makes no difference.
fn split_gnu(rest: &[u8], named: Option<Algo>) -> Option<(Algo, &[u8], &[u8])> {
    let digits = rest.iter().take_while(|&&b| is_hex(b)).count();
    let algo = Algo::of_hex_len(digits, named)?;
    match &rest[digits..] {
        [b' ', b' ' | b'*', name @ ..] => Some((algo, &rest[..digits], name)),
        _ => None,
    }
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

/// The GNU line for `name` (with its line ending), escaped as coreutils 9
/// escapes it when the name holds a backslash, a newline or a carriage return.
pub fn format_line(digest: &str, name: &[u8]) -> Vec<u8> {
    let needs_escape = name.iter().any(|&b| matches!(b, b'\\' | b'\n' | b'\r'));
    let mut line = Vec::with_capacity(digest.len() + name.len() + 4);
    if needs_escape {
        line.push(b'\\');
    }
    line.extend_from_slice(digest.as_bytes());
    line.extend_from_slice(b"  ");
    for &b in name {
        match b {
            b'\\' if needs_escape => line.extend_from_slice(b"\\\\"),
            b'\n' => line.extend_from_slice(b"\\n"),
            b'\r' => line.extend_from_slice(b"\\r"),
            _ => line.push(b),
        }
    }
    line.push(b'\n');
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
        parse_line(line.as_bytes(), None)
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
            format!("{}  a", &SHA1_ABC[..34]),
            format!("BLAKE2b-256 (x) = {SHA256_ABC}"),
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
        for algo in Algo::ALL {
            let digest = crate::hash::hash_bytes(algo, b"abc");
            let tagged = format!("{} (f) = {digest}", algo.bsd_tag());
            assert_eq!(one(&tagged).map(|p| p.0), Some(algo), "{tagged}");
            // A tag wins over a named algorithm.
            let named_other = parse_line(tagged.as_bytes(), Some(Algo::Md5));
            assert_eq!(named_other.map(|p| p.0), Some(algo));
            let plain = format!("{digest}  f");
            assert_eq!(
                parse_line(plain.as_bytes(), Some(algo)).map(|p| p.0),
                Some(algo)
            );
        }
        let blake3 = format!("{SHA256_ABC}  f");
        assert_eq!(one(&blake3).map(|p| p.0), Some(Algo::Sha256));
        let as_blake3 = parse_line(blake3.as_bytes(), Some(Algo::Blake3));
        assert_eq!(as_blake3.map(|p| p.0), Some(Algo::Blake3));
        // A length that does not fit the named algorithm is malformed.
        assert_eq!(parse_line(blake3.as_bytes(), Some(Algo::Sha1)), None);
        let md5 = format!("{MD5_ABC}  f");
        assert_eq!(one(&md5).map(|p| p.0), Some(Algo::Md5));
    }

    #[test]
    fn whole_manifest_keeps_order_and_line_numbers() {
        let text = format!(
            "# comment\r\n{SHA1_ABC}  a\r\n\r\n   \r\ngarbage\n{SHA256_ABC} *b\n\n{SHA1_ABC}  c"
        );
        let m = parse(text.as_bytes(), None);
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
        assert_eq!(parse(b"", None), Manifest::default());
        assert_eq!(parse(b"\n\n", None).entries.len(), 0);
    }

    #[test]
    fn long_lines_parse() {
        let name = "n".repeat(100_000);
        let m = parse(format!("{SHA1_ABC}  {name}\n").as_bytes(), None);
        assert_eq!(m.entries[0].name.len(), 100_000);
    }

    #[test]
    fn format_matches_coreutils() {
        assert_eq!(
            format_line(SHA1_ABC, b"a b"),
            format!("{SHA1_ABC}  a b\n").into_bytes()
        );
        assert_eq!(
            format_line(SHA1_ABC, b"c\\d\ne\rf"),
            format!("\\{SHA1_ABC}  c\\\\d\\ne\\rf\n").into_bytes()
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let m = parse(&bytes, None);
            for e in &m.entries {
                prop_assert!(!e.name.is_empty());
                prop_assert_eq!(e.expected.len(), e.algo.hex_len());
            }
        }

        #[test]
        fn written_lines_parse_back(
            name in proptest::collection::vec(any::<u8>().prop_filter("no NUL", |b| *b != 0), 1..64),
            text_name in "[ a-z\\\\\n\r\u{e9}\u{4e2d}()=*#]{1,24}",
            which in 0..Algo::ALL.len(),
        ) {
            let algo = Algo::ALL[which];
            let digest = crate::hash::hash_bytes(algo, &name);
            for n in [name.clone(), text_name.into_bytes()] {
                let m = parse(&format_line(&digest, &n), Some(algo));
                prop_assert!(m.malformed.is_empty(), "{:?}", m.malformed);
                prop_assert_eq!(m.entries.len(), 1);
                prop_assert_eq!(&m.entries[0].name, &n);
                prop_assert_eq!(&m.entries[0].expected, &digest);
                prop_assert_eq!(m.entries[0].algo, algo);
            }
        }
    }
}
