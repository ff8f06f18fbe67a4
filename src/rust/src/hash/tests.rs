//! The digests against the tools' own output, files against memory, and
//! BLAKE3's tree of one big file.

use super::*;
use crate::test_support::{one_file, tree};

/// Digests of "" and of "abc" as the tools print them: md5sum, sha1sum ...
/// b2sum (`-l 8`, `-l 256`, `-l 504`), b3sum, `openssl dgst -sha3-256`,
/// `-blake2s256`, `xxhsum -H0` ... `-H3` and `rhash --crc32c`.
fn vectors() -> Vec<(Algo, &'static str, &'static str)> {
    let b2 = |bits| Algo::blake2b(bits).unwrap();
    vec![
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
        (
            Algo::Sha3_224,
            "6b4e03423667dbb73b6e15454f0eb1abd4597f9a1b078e3f5b5a6bc7",
            "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf",
        ),
        (
            Algo::Sha3_256,
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
        ),
        (
            Algo::Sha3_384,
            "0c63a75b845e4f7d01107d852e4c2485c51a50aaaa94fc61995e71bbee983a2ac3713831264adb47fb6bd1e058d5f004",
            "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25",
        ),
        (
            Algo::Sha3_512,
            "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a615b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26",
            "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0",
        ),
        (
            Algo::Blake2s,
            "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9",
            "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982",
        ),
        (Algo::Xxh32, "02cc5d05", "32d153ff"),
        (Algo::Xxh64, "ef46db3751d8e999", "44bc2cf5ad770999"),
        (Algo::Xxh3, "2d06800538d394c2", "78af5f94892f3950"),
        (
            Algo::Xxh128,
            "99aa06d3014798d86001c324468d497f",
            "06b05ab6733a618578af5f94892f3950",
        ),
        (Algo::Crc32c, "00000000", "364b3fb7"),
        (b2(8), "2e", "6b"),
        (
            b2(256),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8",
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319",
        ),
        (
            b2(504),
            "4ded8c5fc8b12f3273f877ca585a44ad6503249a2b345d6d9c0e67d85bcb700db4178c0303e93b8f4ad758b8e2c9fd8b3d0c28e585f1928334bb77d36782e8",
            "eb5324bb0b0f9ca27381f22f5e49604d7c341b77371fe5bf61fb643c8ab481c7555ef17c9b9e7c92f0daafff6c0d748cab97d2b267bf53f8225c173ea26f3e",
        ),
    ]
}

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
    let vectors = vectors();
    let tested: std::collections::HashSet<Algo> = vectors.iter().map(|v| v.0).collect();
    assert!(
        Algo::ALL.iter().all(|a| tested.contains(a)),
        "every algorithm"
    );
    for (algo, empty, abc) in vectors {
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
    let files: Vec<(String, String)> = (0..50).map(|i| (format!("f{i}"), i.to_string())).collect();
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
fn every_length_hashes_to_its_size() {
    for algo in Algo::EVERY {
        assert_eq!(hash_bytes(algo, b"abc").len(), algo.hex_len(), "{algo:?}");
    }
}

/// A file of `len` bytes that differ from one 1 KiB chunk to the next.
fn big_file(dir: &std::path::Path, len: usize) -> (PathBuf, Vec<u8>) {
    let data: Vec<u8> = (0..len).map(|i| (i % 251 + i / 1024 % 7) as u8).collect();
    let path = dir.join(format!("big{len}"));
    std::fs::write(&path, &data).unwrap();
    (path, data)
}

#[test]
fn blake3_of_one_file_on_every_worker_is_b3sums() {
    let dir = tempfile::tempdir().unwrap();
    let subtree = BLAKE3_SUBTREE as usize;
    let cancel = Cancel::default();
    for len in [
        subtree + 1,
        2 * subtree,
        2 * subtree + 1,
        3 * subtree - 1,
        4 * subtree + 1023,
        5 * subtree + 1,
        9 * subtree,
    ] {
        let (path, data) = big_file(dir.path(), len);
        let file = open_regular(&path).unwrap();
        let want = hash_bytes(Algo::Blake3, &data);
        for par in [Par::Inline, Par::Workers] {
            let done = AtomicU64::new(0);
            let got = blake3_wide(&file, par, &cancel, Some(&done)).unwrap();
            assert_eq!(got.as_deref(), Some(want.as_str()), "{len} {par:?}");
            assert_eq!(done.load(Ordering::Relaxed), len as u64);
        }
    }
    // One subtree or less: read through instead.
    let (path, _) = big_file(dir.path(), subtree);
    let file = open_regular(&path).unwrap();
    assert!(matches!(
        blake3_wide(&file, Par::Workers, &cancel, None),
        Ok(None)
    ));
}

#[test]
fn blake3_of_a_file_that_changes_while_read_is_taken_again() {
    let dir = tempfile::tempdir().unwrap();
    let subtree = BLAKE3_SUBTREE as usize;
    let (path, data) = big_file(dir.path(), 3 * subtree);
    let cancel = Cancel::default();
    let file = open_regular(&path).unwrap();
    let handle = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    handle.set_len(2 * subtree as u64 + 5).unwrap();
    assert!(matches!(
        blake3_wide(&file, Par::Workers, &cancel, None),
        Ok(None)
    ));
    handle.set_len(4 * subtree as u64).unwrap();
    let file = open_regular(&path).unwrap();
    handle.set_len(4 * subtree as u64 + 1).unwrap();
    assert!(matches!(
        blake3_wide(&file, Par::Workers, &cancel, None),
        Ok(None)
    ));
    // Through hash_files(), the digest is then that of what was read.
    std::fs::write(&path, &data).unwrap();
    let rt = Runtime::new(2, None);
    let got = hash_files(&[Algo::Blake3], std::slice::from_ref(&path), &rt, None).unwrap();
    assert_eq!(got[0].as_ref().unwrap()[0], hash_bytes(Algo::Blake3, &data));
    cancel.set();
    let got = blake3_wide(&file, Par::Workers, &cancel, None);
    assert!(matches!(got, Err(HashFailure::Cancelled)));
}

#[test]
fn big_blake3_files_among_small_ones_keep_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let len = BLAKE3_WIDE_MIN as usize + 3;
    let (big, data) = big_file(dir.path(), len);
    let small = dir.path().join("small");
    std::fs::write(&small, b"abc").unwrap();
    let paths = vec![
        small.clone(),
        big.clone(),
        dir.path().join("missing"),
        big,
        small,
    ];
    let progress = Progress::default();
    let rt = Runtime::new(2, None);
    let got = hash_files(&[Algo::Blake3], &paths, &rt, Some(&progress)).unwrap();
    let abc = hash_bytes(Algo::Blake3, b"abc");
    let whole = hash_bytes(Algo::Blake3, &data);
    let digests: Vec<Option<&str>> = got
        .iter()
        .map(|r| r.as_ref().ok().map(|d| d[0].as_str()))
        .collect();
    assert_eq!(
        digests,
        [Some(&*abc), Some(&*whole), None, Some(&*whole), Some(&*abc)]
    );
    assert_eq!(progress.files_done.load(Ordering::Relaxed), 5);
    assert_eq!(
        progress.bytes_done.load(Ordering::Relaxed),
        2 * len as u64 + 6
    );
    let rt = Runtime::new(2, None);
    rt.cancel().set();
    let err = hash_files(&[Algo::Blake3], &paths[1..2], &rt, None).unwrap_err();
    assert_eq!(err.kind(), "interrupt");
}
