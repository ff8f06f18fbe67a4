//! Digests of files in every algorithm of [`Algo`], several in one pass
//! over a file, streamed through each thread's buffer; one big file in
//! BLAKE3 on every worker at once. The crates pick the CPU's instructions
//! (SHA-NI, AVX2) at run time. Checks the cancel flag between chunks.
//! Never touches R; safe on worker threads.

pub use crate::algo::Algo;
use crate::errors::RwError;
use crate::fileio::{open_regular, OpenFile};
use crate::runtime::{Cancel, Par, Progress, Runtime};
use sha1::digest::DynDigest;
use std::cell::RefCell;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Size of each worker's read buffer: big enough to amortise `read()`,
/// small enough to stay in the L2 cache while it is hashed.
pub const BUFFER_SIZE: usize = 256 * 1024;

/// A digest being computed. The RustCrypto hashers share one interface;
/// BLAKE2b of a length chosen at run time, BLAKE3, xxHash and CRC32C have
/// their own.
enum Hasher {
    RustCrypto(Box<dyn DynDigest>),
    Blake2bVar(Box<blake2::Blake2bVar>),
    Blake3(Box<blake3::Hasher>),
    Xxh32(xxhash_rust::xxh32::Xxh32),
    Xxh64(xxhash_rust::xxh64::Xxh64),
    /// XXH3 with 64 bits, or with 128 (`wide`).
    Xxh3 {
        state: Box<xxhash_rust::xxh3::Xxh3Default>,
        wide: bool,
    },
    Crc32c(u32),
}

impl Hasher {
    fn new(algo: Algo) -> Hasher {
        let boxed = |h: Box<dyn DynDigest>| Hasher::RustCrypto(h);
        let xxh3 = |wide| Hasher::Xxh3 {
            state: Box::default(),
            wide,
        };
        match algo {
            Algo::Md5 => boxed(Box::<md5::Md5>::default()),
            Algo::Sha1 => boxed(Box::<sha1::Sha1>::default()),
            Algo::Sha224 => boxed(Box::<sha2::Sha224>::default()),
            Algo::Sha256 => boxed(Box::<sha2::Sha256>::default()),
            Algo::Sha384 => boxed(Box::<sha2::Sha384>::default()),
            Algo::Sha512 => boxed(Box::<sha2::Sha512>::default()),
            Algo::Blake2b => boxed(Box::<blake2::Blake2b512>::default()),
            Algo::Blake3 => Hasher::Blake3(Box::default()),
            Algo::Sha3_224 => boxed(Box::<sha3::Sha3_224>::default()),
            Algo::Sha3_256 => boxed(Box::<sha3::Sha3_256>::default()),
            Algo::Sha3_384 => boxed(Box::<sha3::Sha3_384>::default()),
            Algo::Sha3_512 => boxed(Box::<sha3::Sha3_512>::default()),
            Algo::Blake2s => boxed(Box::<blake2::Blake2s256>::default()),
            Algo::Xxh32 => Hasher::Xxh32(xxhash_rust::xxh32::Xxh32::new(0)),
            Algo::Xxh64 => Hasher::Xxh64(xxhash_rust::xxh64::Xxh64::new(0)),
            Algo::Xxh3 => xxh3(false),
            Algo::Xxh128 => xxh3(true),
            Algo::Crc32c => Hasher::Crc32c(0),
            Algo::Blake2bN(bits) => {
                use blake2::digest::VariableOutput;
                match blake2::Blake2bVar::new(bits.get() / 8) {
                    Ok(h) => Hasher::Blake2bVar(Box::new(h)),
                    // `Bits` holds only lengths the crate takes; were it
                    // not so, BLAKE2b-512's digest has another length
                    // and can match nothing.
                    Err(_) => boxed(Box::<blake2::Blake2b512>::default()),
                }
            }
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::RustCrypto(h) => h.update(data),
            Hasher::Blake2bVar(h) => blake2::digest::Update::update(&mut **h, data),
            Hasher::Blake3(h) => {
                h.update(data);
            }
            Hasher::Xxh32(h) => h.update(data),
            Hasher::Xxh64(h) => h.update(data),
            Hasher::Xxh3 { state, .. } => state.update(data),
            Hasher::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, data),
        }
    }

    /// Lowercase hexadecimal, as the tools print it: xxHash and CRC32C as
    /// big-endian numbers (xxhsum's canonical form, rhash's).
    fn finish(self) -> String {
        let bytes = match self {
            Hasher::RustCrypto(h) => h.finalize().into_vec(),
            Hasher::Blake2bVar(h) => {
                use blake2::digest::VariableOutput;
                h.finalize_boxed().into_vec()
            }
            Hasher::Blake3(h) => h.finalize().as_bytes().to_vec(),
            Hasher::Xxh32(h) => h.digest().to_be_bytes().to_vec(),
            Hasher::Xxh64(h) => h.digest().to_be_bytes().to_vec(),
            Hasher::Xxh3 { state, wide: false } => state.digest().to_be_bytes().to_vec(),
            Hasher::Xxh3 { state, wide: true } => state.digest128().to_be_bytes().to_vec(),
            Hasher::Crc32c(crc) => crc.to_be_bytes().to_vec(),
        };
        to_hex(&bytes)
    }
}

/// Lowercase hexadecimal of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(hex, "{b:02x}");
    }
    hex
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

/// Files of at least this many bytes are hashed in BLAKE3 by every worker
/// at once, each worker a part of the file; smaller ones one to a worker.
pub const BLAKE3_WIDE_MIN: u64 = 4 << 20;

/// The part of a file a worker hashes at a time: one BLAKE3 subtree, so a
/// power of two of BLAKE3's 1 KiB chunks. Four of the read buffers.
const BLAKE3_SUBTREE: u64 = 1 << 20;

/// The digests (one per algorithm) of many files, in the order given, run
/// as the runtime decides; for a file that cannot be read, the reason.
/// With `progress`, the sizes are found first; so they are in BLAKE3
/// alone, whose big files are hashed one at a time on every worker (see
/// [`blake3_wide`]). Fails only when cancelled.
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
/// progress and to find BLAKE3's big files): names under a directory,
/// opened without leaving it.
pub fn hash_each<T: Sync>(
    algos: &[Algo],
    items: &[T],
    open: impl Fn(&T) -> Result<OpenFile, RwError> + Sync,
    size: impl Fn(&T) -> u64 + Sync,
    rt: &Runtime,
    progress: Option<&Progress>,
) -> Result<Vec<Result<Vec<String>, RwError>>, RwError> {
    let blake3_alone = algos == [Algo::Blake3];
    let sizes = if progress.is_some() || blake3_alone {
        rt.map(items, |item, _| size(item))?
    } else {
        Vec::new()
    };
    if let Some(progress) = progress {
        progress.start(items.len(), sizes.iter().sum());
    }
    let bytes_done = progress.map(|p| &p.bytes_done);
    let one = |item: &T, cancel: &Cancel| {
        let digests = open(item)
            .map_err(HashFailure::Unreadable)
            .and_then(|mut file| {
                with_buffer(|buf| digest(&mut file, algos, buf, cancel, bytes_done))
            });
        if let Some(progress) = progress {
            progress.files_done.fetch_add(1, Ordering::Relaxed);
        }
        digests.map_err(HashFailure::into_error)
    };
    let wide: Vec<bool> = sizes
        .iter()
        .map(|&s| blake3_alone && s >= BLAKE3_WIDE_MIN)
        .collect();
    if !wide.contains(&true) {
        return rt.map(items, one);
    }
    let narrow: Vec<usize> = (0..items.len()).filter(|&i| !wide[i]).collect();
    let mut narrow_digests = rt
        .map(&narrow, |&i, cancel| one(&items[i], cancel))?
        .into_iter();
    let mut out = Vec::with_capacity(items.len());
    for (item, wide) in items.iter().zip(wide) {
        out.push(match wide {
            true => {
                let digest = blake3_file(open(item), rt, bytes_done)?;
                if let Some(progress) = progress {
                    progress.files_done.fetch_add(1, Ordering::Relaxed);
                }
                digest.map(|d| vec![d])
            }
            false => narrow_digests
                .next()
                .ok_or_else(|| RwError::Internal("a file was skipped".into()))?,
        });
    }
    Ok(out)
}

impl HashFailure {
    /// The reason as an error: `Interrupted` when cancelled.
    fn into_error(self) -> RwError {
        match self {
            HashFailure::Unreadable(e) => e,
            HashFailure::Cancelled => RwError::Interrupted,
        }
    }
}

/// BLAKE3 of one big file, `opened`, on every worker ([`blake3_wide`]),
/// while this thread polls for Ctrl-C; the reason when it cannot be read. Fails only
/// when cancelled.
fn blake3_file(
    opened: Result<OpenFile, RwError>,
    rt: &Runtime,
    bytes_done: Option<&AtomicU64>,
) -> Result<Result<String, RwError>, RwError> {
    let mut file = match opened {
        Ok(file) => file,
        Err(e) => return Ok(Err(e)),
    };
    let size = usize::try_from(file.size).unwrap_or(usize::MAX);
    let wide = rt.run_on_values(size, |par, cancel| {
        Ok(blake3_wide(&file, par, cancel, bytes_done))
    })?;
    let digest = match wide {
        Ok(Some(digest)) => Ok(digest),
        // It changed while it was read: read it again, from the start.
        Ok(None) => with_buffer(|buf| {
            digest(&mut file, &[Algo::Blake3], buf, rt.cancel(), None).map(|mut d| d.remove(0))
        }),
        Err(failure) => Err(failure),
    };
    match digest {
        Ok(digest) => Ok(Ok(digest)),
        Err(HashFailure::Unreadable(e)) => Ok(Err(e)),
        Err(HashFailure::Cancelled) => Err(RwError::Interrupted),
    }
}

/// BLAKE3 of a file of more than one subtree, the subtrees hashed on the
/// workers of `par`, each read with positioned reads into the worker's own
/// buffer (no memory map: a file truncated while mapped kills the process
/// with SIGBUS), then merged as BLAKE3's tree merges them. `None` when the
/// file was not the size it had when opened: its digest is then to be
/// taken again, reading it through (and so for a file of one subtree).
pub fn blake3_wide(
    file: &OpenFile,
    par: Par,
    cancel: &Cancel,
    bytes_done: Option<&AtomicU64>,
) -> Result<Option<String>, HashFailure> {
    use blake3::hazmat::{merge_subtrees_root, ChainingValue, HasherExt, Mode};
    let size = file.size;
    if size <= BLAKE3_SUBTREE {
        return Ok(None);
    }
    let count = size.div_ceil(BLAKE3_SUBTREE);
    let subtrees: Vec<u64> = (0..count).collect();
    let hash_subtree = |&i: &u64| -> Result<Option<ChainingValue>, HashFailure> {
        cancel.check().map_err(|_| HashFailure::Cancelled)?;
        let start = i * BLAKE3_SUBTREE;
        let end = size.min(start + BLAKE3_SUBTREE);
        let mut hasher = blake3::Hasher::new();
        hasher.set_input_offset(start);
        let complete = with_buffer(|buf| {
            let mut at = start;
            while at < end {
                let want = buf.len().min((end - at) as usize);
                let got = file.read_at(&mut buf[..want], at)?;
                hasher.update(&buf[..got]);
                at += got as u64;
                if let Some(done) = bytes_done {
                    done.fetch_add(got as u64, Ordering::Relaxed);
                }
                if got < want {
                    return Ok(false);
                }
            }
            Ok(true)
        })
        .map_err(HashFailure::Unreadable)?;
        Ok(complete.then(|| hasher.finalize_non_root()))
    };
    let mut values = Vec::with_capacity(subtrees.len());
    for value in par.map(&subtrees, hash_subtree) {
        match value? {
            Some(value) => values.push(value),
            None => return Ok(None),
        }
    }
    // A file that grew is read again.
    let mut probe = [0u8; 1];
    if file
        .read_at(&mut probe, size)
        .map_err(HashFailure::Unreadable)?
        > 0
    {
        return Ok(None);
    }
    let left = values.len().next_power_of_two() / 2;
    let root = merge_subtrees_root(
        &merge_subtrees(&values[..left]),
        &merge_subtrees(&values[left..]),
        Mode::Hash,
    );
    Ok(Some(to_hex(root.as_bytes())))
}

/// The chaining value of consecutive subtrees of equal size (the last one
/// may be shorter), merged as BLAKE3 builds its tree: the left part holds
/// the largest power of two of them that leaves some on the right.
fn merge_subtrees(values: &[blake3::hazmat::ChainingValue]) -> blake3::hazmat::ChainingValue {
    use blake3::hazmat::{merge_subtrees_non_root, Mode};
    match values {
        [one] => *one,
        _ => {
            let left = values.len().next_power_of_two() / 2;
            merge_subtrees_non_root(
                &merge_subtrees(&values[..left]),
                &merge_subtrees(&values[left..]),
                Mode::Hash,
            )
        }
    }
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
mod tests;
