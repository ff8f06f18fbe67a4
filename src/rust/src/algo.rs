//! The digest algorithms by name: the one table of what each is called in
//! R, in a BSD tag (`--tag`, `cksum`, openssl, rhash, xxhsum), how many
//! bytes its digest has, and which algorithms an untagged digest of a given
//! length may be, most common first. No hashing here (see `hash.rs`).
//! Never touches R.

/// The digest algorithms, as the tools that write each compute it:
/// coreutils' `md5sum` ... `b2sum` (BLAKE2b at every `-l`) and `cksum -a
/// sha3`, `b3sum` (256 bits), `xxhsum` (`-H0` XXH32, `-H1` XXH64, `-H3`
/// XXH3 64 bits, `-H2` XXH128) and rhash (`--crc32c`, `--blake2s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algo {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    /// BLAKE2b-512, what `b2sum` writes without `-l`.
    Blake2b,
    Blake3,
    Sha3_224,
    Sha3_256,
    Sha3_384,
    Sha3_512,
    /// BLAKE2s-256.
    Blake2s,
    Xxh32,
    Xxh64,
    /// XXH3 with 64 bits.
    Xxh3,
    Xxh128,
    Crc32c,
    /// BLAKE2b with a shorter digest (`b2sum -l N`); make one with
    /// [`Algo::blake2b`].
    Blake2bN(Bits),
}

/// The length of a shortened BLAKE2b digest in bits: a multiple of 8 from
/// 8 to 504 (512 is [`Algo::Blake2b`]), and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bits(u16);

impl Bits {
    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

/// BLAKE2b of `bits` bits; only for the lengths [`Bits`] allows.
const fn b2(bits: u16) -> Algo {
    Algo::Blake2bN(Bits(bits))
}

/// One row of the table: the name in R, the tags tools write before
/// `(NAME)` (the first is the one rwbridge writes), the digest's size in
/// bytes, and whether rwbridge writes its manifests tagged (for the tools
/// whose `-c` cannot tell it from another of its length otherwise).
struct Row {
    algo: Algo,
    name: &'static str,
    tags: &'static [&'static str],
    bytes: usize,
    tagged: bool,
}

const fn row(
    algo: Algo,
    name: &'static str,
    tags: &'static [&'static str],
    bytes: usize,
    tagged: bool,
) -> Row {
    Row {
        algo,
        name,
        tags,
        bytes,
        tagged,
    }
}

/// Every algorithm but the shortened BLAKE2b ones. The tags: coreutils'
/// (`SHA256`), openssl 3's (`SHA2-256`, `BLAKE2B-512`, `BLAKE2S-256`),
/// rhash's (`BLAKE2s`, `CRC32C`), xxhsum's (`XXH64`).
const TABLE: [Row; 18] = [
    row(Algo::Md5, "md5", &["MD5"], 16, false),
    row(Algo::Sha1, "sha1", &["SHA1"], 20, false),
    row(Algo::Sha224, "sha224", &["SHA224", "SHA2-224"], 28, false),
    row(Algo::Sha256, "sha256", &["SHA256", "SHA2-256"], 32, false),
    row(Algo::Sha384, "sha384", &["SHA384", "SHA2-384"], 48, false),
    row(Algo::Sha512, "sha512", &["SHA512", "SHA2-512"], 64, false),
    row(
        Algo::Blake2b,
        "blake2b",
        &["BLAKE2b", "BLAKE2B-512"],
        64,
        false,
    ),
    row(Algo::Blake3, "blake3", &["BLAKE3"], 32, false),
    // `cksum -a sha3` writes tagged lines by default, and so does rwbridge:
    // `cksum -c` then needs no `-a`.
    row(Algo::Sha3_224, "sha3-224", &["SHA3-224"], 28, true),
    row(Algo::Sha3_256, "sha3-256", &["SHA3-256"], 32, true),
    row(Algo::Sha3_384, "sha3-384", &["SHA3-384"], 48, true),
    row(Algo::Sha3_512, "sha3-512", &["SHA3-512"], 64, true),
    row(
        Algo::Blake2s,
        "blake2s",
        &["BLAKE2s", "BLAKE2S-256"],
        32,
        true,
    ),
    row(Algo::Xxh32, "xxh32", &["XXH32"], 4, false),
    row(Algo::Xxh64, "xxh64", &["XXH64"], 8, false),
    // `xxhsum -H3` writes tagged lines: untagged, `xxhsum -c` reads 16
    // digits as XXH64.
    row(Algo::Xxh3, "xxh3", &["XXH3"], 8, true),
    row(Algo::Xxh128, "xxh128", &["XXH128"], 16, false),
    row(Algo::Crc32c, "crc32c", &["CRC32C"], 4, true),
];

/// The table and [`Algo::EVERY`] where references to them must live on.
static ROWS: [Row; 18] = TABLE;
static EVERY: [Algo; 81] = Algo::EVERY;

/// The names and tags of BLAKE2b at every length `b2sum -l` takes but 512
/// (index `bits / 8 - 1`).
macro_rules! blake2b_lengths {
    ($($bits:literal)*) => {
        static BLAKE2B_NAMES: [&str; 63] = [$(concat!("blake2b-", $bits)),*];
        static BLAKE2B_TAGS: [&str; 63] = [$(concat!("BLAKE2b-", $bits)),*];
    };
}
blake2b_lengths!(
    8 16 24 32 40 48 56 64 72 80 88 96 104 112 120 128 136 144 152 160 168 176 184 192
    200 208 216 224 232 240 248 256 264 272 280 288 296 304 312 320 328 336 344 352 360
    368 376 384 392 400 408 416 424 432 440 448 456 464 472 480 488 496 504
);

/// Untagged digests of these lengths (bytes) may be any of these
/// algorithms, the most common first; every other length is BLAKE2b of
/// that length only.
const SHARED_LENGTHS: [(usize, &[Algo]); 8] = [
    (4, &[Algo::Xxh32, Algo::Crc32c, b2(32)]),
    (8, &[Algo::Xxh64, Algo::Xxh3, b2(64)]),
    (16, &[Algo::Md5, Algo::Xxh128, b2(128)]),
    (20, &[Algo::Sha1, b2(160)]),
    (28, &[Algo::Sha224, Algo::Sha3_224, b2(224)]),
    (
        32,
        &[
            Algo::Sha256,
            Algo::Blake3,
            Algo::Sha3_256,
            b2(256),
            Algo::Blake2s,
        ],
    ),
    (48, &[Algo::Sha384, Algo::Sha3_384, b2(384)]),
    (64, &[Algo::Sha512, Algo::Blake2b, Algo::Sha3_512]),
];

impl Algo {
    /// The algorithms of the table: every one but the shortened BLAKE2b
    /// ones, in a fixed order (codes in results index [`Algo::EVERY`],
    /// which starts with these).
    pub const ALL: [Algo; 18] = {
        let mut all = [Algo::Md5; 18];
        let mut i = 0;
        while i < 18 {
            all[i] = TABLE[i].algo;
            i += 1;
        }
        all
    };

    /// [`Algo::ALL`], then BLAKE2b at every shorter length, 8 to 504 bits.
    pub const EVERY: [Algo; 81] = {
        let mut every = [Algo::Md5; 81];
        let mut i = 0;
        while i < 81 {
            every[i] = match i {
                0..=17 => Algo::ALL[i],
                _ => b2(((i - 17) * 8) as u16),
            };
            i += 1;
        }
        every
    };

    /// BLAKE2b with `bits` bits (a multiple of 8 from 8 to 512), the one
    /// spelling of each.
    pub fn blake2b(bits: usize) -> Option<Algo> {
        match bits {
            512 => Some(Algo::Blake2b),
            8..=504 if bits % 8 == 0 => Some(b2(bits as u16)),
            _ => None,
        }
    }

    fn row(self) -> Option<&'static Row> {
        ROWS.iter().find(|r| r.algo == self)
    }

    /// The index of a shortened BLAKE2b in its name and tag tables.
    fn blake2b_index(bits: Bits) -> usize {
        bits.get() / 8 - 1
    }

    /// The name in R (`"sha3-256"`, `"blake2b-256"`).
    pub fn name(self) -> &'static str {
        match self {
            Algo::Blake2bN(bits) => BLAKE2B_NAMES[Self::blake2b_index(bits)],
            other => other.row().map_or("", |r| r.name),
        }
    }

    /// The tag rwbridge writes, as coreutils' `--tag` and `cksum` do
    /// (`SHA256`, `SHA3-256`, `BLAKE2b-256`), xxhsum's or rhash's.
    pub fn bsd_tag(self) -> &'static str {
        self.tags()[0]
    }

    /// Every tag that tools write for this algorithm.
    pub fn tags(self) -> &'static [&'static str] {
        match self {
            Algo::Blake2bN(bits) => std::slice::from_ref(&BLAKE2B_TAGS[Self::blake2b_index(bits)]),
            other => other.row().map_or(&[""], |r| r.tags),
        }
    }

    /// The size of a digest, in bytes.
    pub fn bytes(self) -> usize {
        match self {
            Algo::Blake2bN(bits) => bits.get() / 8,
            other => other.row().map_or(0, |r| r.bytes),
        }
    }

    /// The number of hex digits of a digest.
    pub fn hex_len(self) -> usize {
        self.bytes() * 2
    }

    /// Whether rwbridge writes its manifest lines tagged, as the tool that
    /// checks them needs.
    pub fn written_tagged(self) -> bool {
        self.row().is_some_and(|r| r.tagged)
    }

    pub fn from_name(name: &str) -> Option<Algo> {
        Algo::EVERY.into_iter().find(|a| a.name() == name)
    }

    /// The algorithm a BSD tag names (`SHA256`, `SHA2-256`, `BLAKE2b-256`).
    pub fn from_tag(tag: &[u8]) -> Option<Algo> {
        if let Some(bits) = tag.strip_prefix(b"BLAKE2b-") {
            let bits = std::str::from_utf8(bits).ok()?;
            // As written: no sign, no leading zero; 512 is `BLAKE2b` alone.
            if bits.starts_with(['+', '0']) {
                return None;
            }
            return bits
                .parse()
                .ok()
                .and_then(Algo::blake2b)
                .filter(|a| *a != Algo::Blake2b);
        }
        ROWS.iter()
            .find(|r| r.tags.iter().any(|t| t.as_bytes() == tag))
            .map(|r| r.algo)
    }

    /// The algorithms an untagged digest of `bytes` bytes may be, the most
    /// common first (empty when none has that length).
    pub fn candidates(bytes: usize) -> &'static [Algo] {
        if let Some((_, algos)) = SHARED_LENGTHS.iter().find(|(n, _)| *n == bytes) {
            return algos;
        }
        match bytes {
            1..=63 => std::slice::from_ref(&EVERY[17 + bytes]),
            _ => &[],
        }
    }

    /// The algorithm of an untagged digest of `len` hex digits: `named`
    /// when one is named (none when the length does not fit it), else the
    /// most common of that length.
    pub fn of_hex_len(len: usize, named: Option<Algo>) -> Option<Algo> {
        match named {
            Some(algo) => (algo.hex_len() == len).then_some(algo),
            None if len % 2 == 0 => Algo::candidates(len / 2).first().copied(),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_tags_and_sizes_come_from_one_table() {
        for algo in Algo::EVERY {
            assert_eq!(Algo::from_name(algo.name()), Some(algo), "{algo:?}");
            for tag in algo.tags() {
                assert_eq!(Algo::from_tag(tag.as_bytes()), Some(algo), "{tag}");
            }
            assert!(Algo::candidates(algo.bytes()).contains(&algo), "{algo:?}");
        }
        let names: std::collections::HashSet<&str> = Algo::EVERY.iter().map(|a| a.name()).collect();
        assert_eq!(names.len(), 81);
        assert_eq!(Some(Algo::EVERY[18]), Algo::blake2b(8));
        assert_eq!(Some(Algo::EVERY[80]), Algo::blake2b(504));
        assert_eq!(b2(256).name(), "blake2b-256");
        assert_eq!(b2(256).bsd_tag(), "BLAKE2b-256");
        assert_eq!(b2(256).hex_len(), 64);
        assert_eq!(Algo::Sha3_384.bsd_tag(), "SHA3-384");
    }

    #[test]
    fn blake2b_lengths_as_b2sum_takes_them() {
        assert_eq!(Algo::blake2b(512), Some(Algo::Blake2b));
        assert_eq!(Algo::blake2b(8), Some(b2(8)));
        for bad in [0, 4, 12, 520, 1024] {
            assert_eq!(Algo::blake2b(bad), None, "{bad}");
        }
        for bad in [
            "BLAKE2b-512",
            "BLAKE2b-0",
            "BLAKE2b-12",
            "BLAKE2b-0256",
            "BLAKE2b-+8",
        ] {
            assert_eq!(Algo::from_tag(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(Algo::from_tag(b"SM3"), None);
        assert_eq!(Algo::from_tag(b"sha256"), None, "tags are case-sensitive");
    }

    #[test]
    fn candidates_most_common_first() {
        assert_eq!(
            Algo::candidates(32),
            [
                Algo::Sha256,
                Algo::Blake3,
                Algo::Sha3_256,
                b2(256),
                Algo::Blake2s
            ]
        );
        assert_eq!(Algo::candidates(20), [Algo::Sha1, b2(160)]);
        assert_eq!(Algo::candidates(5), [b2(40)]);
        assert_eq!(Algo::candidates(63), [b2(504)]);
        assert!(Algo::candidates(0).is_empty());
        assert!(Algo::candidates(65).is_empty());
        for (bytes, algos) in SHARED_LENGTHS {
            assert!(algos.iter().all(|a| a.bytes() == bytes), "{bytes}");
        }
        let default_of = |len| Algo::of_hex_len(len, None);
        assert_eq!(default_of(64), Some(Algo::Sha256));
        assert_eq!(default_of(128), Some(Algo::Sha512));
        assert_eq!(default_of(32), Some(Algo::Md5));
        assert_eq!(default_of(10), Some(b2(40)));
        assert_eq!(default_of(7), None);
        assert_eq!(default_of(130), None);
        assert_eq!(Algo::of_hex_len(64, Some(Algo::Blake3)), Some(Algo::Blake3));
        assert_eq!(Algo::of_hex_len(64, Some(Algo::Sha1)), None);
    }
}
