//! Digests of files in the common algorithms (MD5, SHA-1, SHA-2, BLAKE2b,
//! BLAKE3), several in one pass over a file, streamed through each
//! thread's buffer. The crates pick the CPU's instructions (SHA-NI, AVX2) at
//! run time. Checks the cancel flag between chunks. Never touches R; safe
//! on worker threads.

use crate::errors::RwError;
use crate::fileio::{open_regular, OpenFile};
use crate::runtime::{Cancel, Progress, Runtime};
use sha1::digest::DynDigest;
use std::cell::RefCell;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Size of each worker's read buffer: big enough to amortise `read()`,
/// small enough to stay in the L2 cache while it is hashed.
pub const BUFFER_SIZE: usize = 256 * 1024;

/// The digest algorithms, as coreutils' `md5sum` ... `b2sum` and `b3sum`
/// compute them (BLAKE2b with 512 bits, BLAKE3 with 256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algo {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Blake2b,
    Blake3,
}

impl Algo {
    /// Every algorithm. Where two share a digest length, the first is what
    /// an untagged digest of that length means by default.
    pub const ALL: [Algo; 8] = [
        Algo::Md5,
        Algo::Sha1,
        Algo::Sha224,
        Algo::Sha256,
        Algo::Sha384,
        Algo::Sha512,
        Algo::Blake2b,
        Algo::Blake3,
    ];

    /// The name used in R, the tag of a BSD line (`SHA1 (name) = ...`),
    /// and the number of hex digits of a digest.
    fn table(self) -> (&'static str, &'static str, usize) {
        match self {
            Algo::Md5 => ("md5", "MD5", 32),
            Algo::Sha1 => ("sha1", "SHA1", 40),
            Algo::Sha224 => ("sha224", "SHA224", 56),
            Algo::Sha256 => ("sha256", "SHA256", 64),
            Algo::Sha384 => ("sha384", "SHA384", 96),
            Algo::Sha512 => ("sha512", "SHA512", 128),
            Algo::Blake2b => ("blake2b", "BLAKE2b", 128),
            Algo::Blake3 => ("blake3", "BLAKE3", 64),
        }
    }

    pub fn name(self) -> &'static str {
        self.table().0
    }

    pub fn bsd_tag(self) -> &'static str {
        self.table().1
    }

    pub fn hex_len(self) -> usize {
        self.table().2
    }

    pub fn from_name(name: &str) -> Option<Algo> {
        Algo::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The algorithm of an untagged digest of `len` hex digits: `named`
    /// when one is named (none when the length does not fit it), else the
    /// first of [`Algo::ALL`] with that length.
    pub fn of_hex_len(len: usize, named: Option<Algo>) -> Option<Algo> {
        match named {
            Some(algo) => (algo.hex_len() == len).then_some(algo),
            None => Algo::ALL.into_iter().find(|a| a.hex_len() == len),
        }
    }
}

/// A digest being computed. The RustCrypto hashers share one interface;
/// BLAKE3's crate has its own.
enum Hasher {
    RustCrypto(Box<dyn DynDigest>),
    Blake3(Box<blake3::Hasher>),
}

impl Hasher {
    fn new(algo: Algo) -> Hasher {
        let boxed = |h: Box<dyn DynDigest>| Hasher::RustCrypto(h);
        match algo {
            Algo::Md5 => boxed(Box::<md5::Md5>::default()),
            Algo::Sha1 => boxed(Box::<sha1::Sha1>::default()),
            Algo::Sha224 => boxed(Box::<sha2::Sha224>::default()),
            Algo::Sha256 => boxed(Box::<sha2::Sha256>::default()),
            Algo::Sha384 => boxed(Box::<sha2::Sha384>::default()),
            Algo::Sha512 => boxed(Box::<sha2::Sha512>::default()),
            Algo::Blake2b => boxed(Box::<blake2::Blake2b512>::default()),
            Algo::Blake3 => Hasher::Blake3(Box::default()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::RustCrypto(h) => h.update(data),
            Hasher::Blake3(h) => {
                h.update(data);
            }
        }
    }

    /// Lowercase hexadecimal, as the coreutils tools print it.
    fn finish(self) -> String {
        let bytes = match self {
            Hasher::RustCrypto(h) => h.finalize().into_vec(),
            Hasher::Blake3(h) => h.finalize().as_bytes().to_vec(),
        };
        let mut hex = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            let _ = write!(hex, "{b:02x}");
        }
        hex
    }
}

/// Why a file has no digest.
#[derive(Debug)]
pub enum HashFailure {
    /// Could not open or read it (the error says why).
    Unreadable(RwError),
    /// The cancel flag was raised while hashing.
    Cancelled,
}

/// The digests of an open file, one for each of `algos`, in one pass
/// through `buf`; every byte read is added to `bytes_done`, when given.
pub fn digest(
    file: &mut OpenFile,
    algos: &[Algo],
    buf: &mut [u8],
    cancel: &Cancel,
    bytes_done: Option<&AtomicU64>,
) -> Result<Vec<String>, HashFailure> {
    digest_chunks(algos, buf, cancel, bytes_done, |buf| {
        let n = file.fill(buf).map_err(HashFailure::Unreadable)?;
        Ok((n, n < buf.len()))
    })
}

/// The digests of everything `reader` yields (a member of an archive), one
/// for each of `algos`, as [`digest`] gives them; a read error is
/// `Unreadable`, with `what` as the path in its message.
pub fn digest_reader(
    reader: &mut dyn std::io::Read,
    what: &std::path::Path,
    algos: &[Algo],
    buf: &mut [u8],
    cancel: &Cancel,
    bytes_done: Option<&AtomicU64>,
) -> Result<Vec<String>, HashFailure> {
    digest_chunks(algos, buf, cancel, bytes_done, |buf| loop {
        match reader.read(buf) {
            Ok(n) => return Ok((n, n == 0)),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(HashFailure::Unreadable(RwError::io("read", what, e))),
        }
    })
}

/// The digests of the chunks `read` puts in `buf`, each with whether it is
/// the last, checking the cancel flag between chunks.
fn digest_chunks(
    algos: &[Algo],
    buf: &mut [u8],
    cancel: &Cancel,
    bytes_done: Option<&AtomicU64>,
    mut read: impl FnMut(&mut [u8]) -> Result<(usize, bool), HashFailure>,
) -> Result<Vec<String>, HashFailure> {
    let mut hashers: Vec<Hasher> = algos.iter().map(|&a| Hasher::new(a)).collect();
    loop {
        if cancel.check().is_err() {
            return Err(HashFailure::Cancelled);
        }
        let (n, last) = read(buf)?;
        for hasher in &mut hashers {
            hasher.update(&buf[..n]);
        }
        if let Some(done) = bytes_done {
            done.fetch_add(n as u64, Ordering::Relaxed);
        }
        if last {
            return Ok(hashers.into_iter().map(Hasher::finish).collect());
        }
    }
}

/// The digests (one per algorithm) of many files, in the order given, run
/// as the runtime decides; for a file that cannot be read, the reason.
/// With `progress`, the sizes are found first. Fails only when cancelled.
pub fn hash_files(
    algos: &[Algo],
    paths: &[PathBuf],
    rt: &Runtime,
    progress: Option<&Progress>,
) -> Result<Vec<Result<Vec<String>, RwError>>, RwError> {
    let size = |path: &PathBuf| std::fs::metadata(path).map_or(0, |m| m.len());
    hash_each(algos, paths, |path| open_regular(path), size, rt, progress)
}

/// As [`hash_files`], for items that `open` opens (and `size` sizes, for
/// progress): names under a directory, opened without leaving it.
pub fn hash_each<T: Sync>(
    algos: &[Algo],
    items: &[T],
    open: impl Fn(&T) -> Result<OpenFile, RwError> + Sync,
    size: impl Fn(&T) -> u64 + Sync,
    rt: &Runtime,
    progress: Option<&Progress>,
) -> Result<Vec<Result<Vec<String>, RwError>>, RwError> {
    if let Some(progress) = progress {
        let sizes = rt.map(items, |item, _| size(item))?;
        progress.start(items.len(), sizes.iter().sum());
    }
    rt.map(items, |item, cancel| {
        let bytes_done = progress.map(|p| &p.bytes_done);
        let digests = open(item)
            .map_err(HashFailure::Unreadable)
            .and_then(|mut file| {
                with_buffer(|buf| digest(&mut file, algos, buf, cancel, bytes_done))
            });
        if let Some(progress) = progress {
            progress.files_done.fetch_add(1, Ordering::Relaxed);
        }
        digests.map_err(|failure| match failure {
            HashFailure::Unreadable(e) => e,
            HashFailure::Cancelled => RwError::Interrupted,
        })
    })
}

/// Runs `f` with this thread's read buffer, allocated once per worker
/// (rayon's `map_init` would allocate one per split job instead).
pub fn with_buffer<T>(f: impl FnOnce(&mut [u8]) -> T) -> T {
    thread_local! {
        static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    BUFFER.with(|cell| {
        let mut buf = cell.borrow_mut();
        if buf.len() < BUFFER_SIZE {
            buf.resize(BUFFER_SIZE, 0);
        }
        f(&mut buf)
    })
}

/// Digest of bytes in memory; also the tests' oracle for file digests
/// (itself checked against the tools' own output in `known_vectors`).
pub fn hash_bytes(algo: Algo, data: &[u8]) -> String {
    let mut hasher = Hasher::new(algo);
    hasher.update(data);
    hasher.finish()
}

/// The digests of bytes already in memory, one for each of `algos`.
pub fn digest_bytes(algos: &[Algo], data: &[u8]) -> Vec<String> {
    algos.iter().map(|&algo| hash_bytes(algo, data)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{one_file, tree};

    /// Digests of "" and of "abc" as md5sum, sha1sum ... b2sum and b3sum
    /// print them.
    const VECTORS: [(Algo, &str, &str); 8] = [
        (
            Algo::Md5,
            "d41d8cd98f00b204e9800998ecf8427e",
            "900150983cd24fb0d6963f7d28e17f72",
        ),
        (
            Algo::Sha1,
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "a9993e364706816aba3e25717850c26c9cd0d89d",
        ),
        (
            Algo::Sha224,
            "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f",
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
        ),
        (
            Algo::Sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            Algo::Sha384,
            "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            Algo::Sha512,
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
        (
            Algo::Blake2b,
            "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce",
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
        ),
        (
            Algo::Blake3,
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85",
        ),
    ];

    fn digest_path(
        path: &std::path::Path,
        algos: &[Algo],
        buf: &mut [u8],
        cancel: &Cancel,
    ) -> Result<Vec<String>, HashFailure> {
        let mut file = open_regular(path).map_err(HashFailure::Unreadable)?;
        digest(&mut file, algos, buf, cancel, None)
    }

    #[test]
    fn known_vectors() {
        for (algo, empty, abc) in VECTORS {
            assert_eq!(hash_bytes(algo, b""), empty, "{algo:?}");
            assert_eq!(hash_bytes(algo, b"abc"), abc, "{algo:?}");
            assert_eq!(abc.len(), algo.hex_len());
        }
    }

    #[test]
    fn files_across_buffer_boundaries_hash_like_memory() {
        let dir = tempfile::tempdir().unwrap();
        let mut buf = vec![0; 1024];
        let cancel = Cancel::default();
        for len in [0usize, 1, 1023, 1024, 1025, 4096, 100_000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let path = dir.path().join(format!("f{len}"));
            std::fs::write(&path, &data).unwrap();
            let done = AtomicU64::new(0);
            let mut file = open_regular(&path).unwrap();
            let got = digest(&mut file, &Algo::ALL, &mut buf, &cancel, Some(&done)).unwrap();
            for (algo, digest) in Algo::ALL.iter().zip(got) {
                assert_eq!(digest, hash_bytes(*algo, &data), "{len} {algo:?}");
            }
            assert_eq!(done.load(Ordering::Relaxed), len as u64);
        }
    }

    #[test]
    fn million_a_sha1() {
        let (_dir, path) = one_file("a", "a".repeat(1_000_000));
        let mut buf = vec![0; BUFFER_SIZE];
        let got = digest_path(&path, &[Algo::Sha1], &mut buf, &Cancel::default()).unwrap();
        assert_eq!(got, ["34aa973cd4c4daa4f61eeb2bdbad27316534016f"]);
    }

    #[test]
    fn cancel_and_unreadable() {
        let (dir, path) = one_file("a", "abc");
        let cancel = Cancel::default();
        cancel.set();
        let mut buf = vec![0; 16];
        let got = digest_path(&path, &[Algo::Sha1], &mut buf, &cancel);
        assert!(matches!(got, Err(HashFailure::Cancelled)));
        let got = digest_path(dir.path(), &[Algo::Sha1], &mut buf, &Cancel::default());
        assert!(matches!(got, Err(HashFailure::Unreadable(_))));
    }

    #[test]
    fn many_files_in_order_with_the_reason_for_the_unreadable() {
        let files: Vec<(String, String)> =
            (0..50).map(|i| (format!("f{i}"), i.to_string())).collect();
        let dir = tree(&files);
        let mut paths: Vec<PathBuf> = files.iter().map(|(n, _)| dir.path().join(n)).collect();
        paths.push(dir.path().join("missing"));
        let rt = Runtime::new(2, None).all_on_workers();
        let progress = Progress::default();
        let got = hash_files(&[Algo::Sha1], &paths, &rt, Some(&progress)).unwrap();
        for (i, digest) in got.iter().take(50).enumerate() {
            let want = hash_bytes(Algo::Sha1, i.to_string().as_bytes());
            assert_eq!(digest.as_ref().ok(), Some(&vec![want]));
        }
        let reason = got[50].as_ref().unwrap_err().to_string();
        assert!(reason.ends_with("No such file or directory"), "{reason}");
        assert_eq!(progress.files_done.load(Ordering::Relaxed), 51);
        assert_eq!(progress.bytes_total.load(Ordering::Relaxed), 90);
        let rt = Runtime::new(2, None);
        rt.cancel().set();
        let err = hash_files(&[Algo::Sha1], &paths, &rt, None).unwrap_err();
        assert_eq!(err.kind(), "interrupt");
    }

    #[test]
    fn names_tags_and_lengths() {
        for algo in Algo::ALL {
            assert_eq!(Algo::from_name(algo.name()), Some(algo));
            assert_eq!(Algo::of_hex_len(algo.hex_len(), Some(algo)), Some(algo));
            assert_eq!(Algo::of_hex_len(algo.hex_len() + 2, Some(algo)), None);
        }
        let default_of = |len| Algo::of_hex_len(len, None);
        assert_eq!(default_of(64), Some(Algo::Sha256));
        assert_eq!(default_of(128), Some(Algo::Sha512));
        assert_eq!(default_of(32), Some(Algo::Md5));
        assert_eq!(default_of(48), None);
        assert_eq!(Algo::from_name("crc32"), None);
    }
}
