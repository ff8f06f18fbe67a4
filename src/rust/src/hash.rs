//! SHA-1 and SHA-256 digests of files, streamed through a caller's buffer so
//! each worker reuses one. The `sha1`/`sha2` crates pick the CPU's SHA
//! instructions at run time. Checks a cancel flag between chunks. Never
//! touches R; safe on worker threads.

use crate::errors::RwError;
use crate::fileio::{open_regular, OpenFile};
use crate::runtime::{Cancel, Runtime};
use sha1::Digest;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Size of each worker's read buffer: big enough to amortise `read()`,
/// small enough to stay in the L2 cache while it is hashed.
pub const BUFFER_SIZE: usize = 256 * 1024;

/// The digest algorithms a manifest may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    Sha1,
    Sha256,
}

impl Algo {
    /// Every algorithm; R names one by its position here (1-based).
    pub const ALL: [Algo; 2] = [Algo::Sha1, Algo::Sha256];

    /// The 1-based position in [`Algo::ALL`].
    pub fn code(self) -> i32 {
        Algo::ALL
            .iter()
            .position(|&a| a == self)
            .map_or(0, |i| i as i32 + 1)
    }

    /// From the R argument (`"sha1"`, `"sha256"`).
    pub fn from_name(name: &str) -> Option<Algo> {
        Algo::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The name used in R and in results.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Sha1 => "sha1",
            Algo::Sha256 => "sha256",
        }
    }

    /// The tag of a BSD-style line: `SHA1 (name) = ...`.
    pub fn bsd_tag(self) -> &'static str {
        match self {
            Algo::Sha1 => "SHA1",
            Algo::Sha256 => "SHA256",
        }
    }

    /// The algorithm whose hex digest has `len` digits.
    pub fn from_hex_len(len: usize) -> Option<Algo> {
        match len {
            40 => Some(Algo::Sha1),
            64 => Some(Algo::Sha256),
            _ => None,
        }
    }

    /// Number of hex digits in a digest.
    pub fn hex_len(self) -> usize {
        match self {
            Algo::Sha1 => 40,
            Algo::Sha256 => 64,
        }
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

/// Lowercase hex digest of the file at `path`, read through `buf`; every
/// byte read is added to `bytes_done`, when given, for progress reports.
pub fn hash_file(
    algo: Algo,
    path: &Path,
    buf: &mut [u8],
    cancel: &Cancel,
    bytes_done: Option<&AtomicU64>,
) -> Result<String, HashFailure> {
    let mut file = open_regular(path).map_err(HashFailure::Unreadable)?;
    hash_open(algo, &mut file, buf, cancel, bytes_done)
}

/// As [`hash_file`], for a file already open.
pub fn hash_open(
    algo: Algo,
    file: &mut OpenFile,
    buf: &mut [u8],
    cancel: &Cancel,
    bytes_done: Option<&AtomicU64>,
) -> Result<String, HashFailure> {
    match algo {
        Algo::Sha1 => hash_with::<sha1::Sha1>(file, buf, cancel, bytes_done),
        Algo::Sha256 => hash_with::<sha2::Sha256>(file, buf, cancel, bytes_done),
    }
}

fn hash_with<D: Digest>(
    file: &mut OpenFile,
    buf: &mut [u8],
    cancel: &Cancel,
    bytes_done: Option<&AtomicU64>,
) -> Result<String, HashFailure>
where
    sha1::digest::Output<D>: std::fmt::LowerHex,
{
    let mut hasher = D::new();
    loop {
        if cancel.check().is_err() {
            return Err(HashFailure::Cancelled);
        }
        let n = file.fill(buf).map_err(HashFailure::Unreadable)?;
        hasher.update(&buf[..n]);
        if let Some(done) = bytes_done {
            done.fetch_add(n as u64, Ordering::Relaxed);
        }
        if n < buf.len() {
            // Lowercase hexadecimal, as `sha1sum` prints it.
            return Ok(format!("{:x}", hasher.finalize()));
        }
    }
}

/// Digests of many files, in the order given, run as the runtime decides;
/// for a file that cannot be read, the reason. Fails only when cancelled.
pub fn hash_files(
    algo: Algo,
    paths: &[PathBuf],
    rt: &Runtime,
) -> Result<Vec<Result<String, RwError>>, RwError> {
    rt.map(paths, |path, cancel| {
        with_buffer(|buf| hash_file(algo, path, buf, cancel, None)).map_err(|failure| match failure
        {
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

/// Digest of bytes in memory: the tests' oracle for file digests.
#[cfg(test)]
pub fn hash_bytes(algo: Algo, data: &[u8]) -> String {
    match algo {
        Algo::Sha1 => format!("{:x}", sha1::Sha1::digest(data)),
        Algo::Sha256 => format!("{:x}", sha2::Sha256::digest(data)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{one_file, tree};

    // FIPS 180 test vectors.
    const VECTORS: [(&[u8], &str, &str); 3] = [
        (
            b"",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            b"abc",
            "a9993e364706816aba3e25717850c26c9cd0d89d",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
    ];

    #[test]
    fn known_vectors() {
        for (input, sha1, sha256) in VECTORS {
            assert_eq!(hash_bytes(Algo::Sha1, input), sha1);
            assert_eq!(hash_bytes(Algo::Sha256, input), sha256);
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
            for algo in [Algo::Sha1, Algo::Sha256] {
                let done = AtomicU64::new(0);
                let got = hash_file(algo, &path, &mut buf, &cancel, Some(&done)).unwrap();
                assert_eq!(got, hash_bytes(algo, &data), "{len} {algo:?}");
                assert_eq!(done.load(Ordering::Relaxed), len as u64);
            }
        }
    }

    #[test]
    fn million_a_sha1() {
        let (_dir, path) = one_file("a", "a".repeat(1_000_000));
        let mut buf = vec![0; BUFFER_SIZE];
        let got = hash_file(Algo::Sha1, &path, &mut buf, &Cancel::default(), None).unwrap();
        assert_eq!(got, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    }

    #[test]
    fn cancel_and_unreadable() {
        let (dir, path) = one_file("a", "abc");
        let cancel = Cancel::default();
        cancel.set();
        let done = AtomicU64::new(0);
        let mut buf = vec![0; 16];
        let got = hash_file(Algo::Sha1, &path, &mut buf, &cancel, Some(&done));
        assert!(matches!(got, Err(HashFailure::Cancelled)));
        let got = hash_file(Algo::Sha1, dir.path(), &mut buf, &Cancel::default(), None);
        assert!(matches!(got, Err(HashFailure::Unreadable(_))));
    }

    #[test]
    fn many_files_in_order_with_none_for_the_unreadable() {
        let files: Vec<(String, String)> =
            (0..50).map(|i| (format!("f{i}"), i.to_string())).collect();
        let dir = tree(&files);
        let mut paths: Vec<PathBuf> = files.iter().map(|(n, _)| dir.path().join(n)).collect();
        paths.push(dir.path().join("missing"));
        let got = hash_files(Algo::Sha1, &paths, &Runtime::new(2, None)).unwrap();
        for (i, digest) in got.iter().take(50).enumerate() {
            assert_eq!(
                digest.as_ref().ok(),
                Some(&hash_bytes(Algo::Sha1, i.to_string().as_bytes()))
            );
        }
        let reason = got[50].as_ref().unwrap_err().to_string();
        assert!(reason.ends_with("No such file or directory"), "{reason}");
        let rt = Runtime::new(2, None);
        rt.cancel().set();
        let err = hash_files(Algo::Sha1, &paths, &rt).unwrap_err();
        assert_eq!(err.kind(), "interrupt");
    }

    #[test]
    fn algo_names_and_lengths_agree() {
        for algo in [Algo::Sha1, Algo::Sha256] {
            assert_eq!(Algo::from_name(algo.name()), Some(algo));
            assert_eq!(Algo::from_hex_len(algo.hex_len()), Some(algo));
            assert_eq!(hash_bytes(algo, b"x").len(), algo.hex_len());
        }
        assert_eq!(Algo::from_name("md5"), None);
        assert_eq!(Algo::from_hex_len(32), None);
    }
}
