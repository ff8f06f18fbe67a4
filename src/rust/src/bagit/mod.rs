//! BagIt bags (RFC 8493, and the versions 0.93 to 0.97 before it):
//! validating one ([`validate::check_bag`]) and making one in place
//! ([`make::make_bag`]). Pure Rust: never touches R.

pub mod archive;
pub mod make;
pub mod names;
pub mod text;
pub mod validate;

use crate::hash::Algo;

/// The algorithms a bag's manifests can name, each with the spelling
/// bagit-python (the reference implementation) gives it in a manifest's
/// file name (`manifest-sha3_256.txt`): its one table. RFC 8493's
/// normalised spelling (lowercase, without `-` or `_`: `sha3256`) is read
/// too, and the R name is [`Algo::name`] (`"sha3-256"`). An algorithm of
/// hash.rs that is not here is not used in bags. A new one is one line.
const BAG_ALGOS: [(Algo, &str); 13] = [
    (Algo::Md5, "md5"),
    (Algo::Sha1, "sha1"),
    (Algo::Sha224, "sha224"),
    (Algo::Sha256, "sha256"),
    (Algo::Sha384, "sha384"),
    (Algo::Sha512, "sha512"),
    (Algo::Sha3_224, "sha3_224"),
    (Algo::Sha3_256, "sha3_256"),
    (Algo::Sha3_384, "sha3_384"),
    (Algo::Sha3_512, "sha3_512"),
    // hashlib's blake2b and blake2s: their longest digests.
    (Algo::Blake2b, "blake2b"),
    (Algo::Blake2s, "blake2s"),
    // Not in Python's hashlib: bagit-python ignores such a manifest.
    (Algo::Blake3, "blake3"),
];

/// The name a manifest of `algo` has in a bag (bagit-python's spelling),
/// or `None` for an algorithm not used in bags.
pub fn bag_name(algo: Algo) -> Option<&'static str> {
    BAG_ALGOS.iter().find(|(a, _)| *a == algo).map(|(_, n)| *n)
}

/// The algorithm a manifest's file name gives: bagit-python's spelling,
/// or RFC 8493's normalised one.
pub fn bag_algo(name: &str) -> Option<Algo> {
    BAG_ALGOS
        .iter()
        .find(|(_, n)| *n == name || normalised(n) == name)
        .map(|(a, _)| *a)
}

/// Every algorithm used in bags, by its bag name.
pub fn bag_names() -> impl Iterator<Item = &'static str> {
    BAG_ALGOS.iter().map(|(_, n)| *n)
}

/// RFC 8493's normalised algorithm name: lowercase, without `-` or `_`.
fn normalised(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The payload or tag manifest that `file` (a name in the bag's top
/// directory) is, with its algorithm's name as the file spells it:
/// `manifest-sha256.txt` gives `(false, "sha256")`, `tagmanifest-md5.txt`
/// gives `(true, "md5")`; [`bag_algo`] reads the name.
pub fn manifest_kind(file: &str) -> Option<(bool, &str)> {
    let stem = file.strip_suffix(".txt")?;
    let (tag, algo) = match stem.strip_prefix("tagmanifest-") {
        Some(algo) => (true, algo),
        None => (false, stem.strip_prefix("manifest-")?),
    };
    (!algo.is_empty()).then_some((tag, algo))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_names() {
        assert_eq!(
            manifest_kind("manifest-sha256.txt"),
            Some((false, "sha256"))
        );
        assert_eq!(manifest_kind("tagmanifest-md5.txt"), Some((true, "md5")));
        assert_eq!(
            manifest_kind("manifest-sha3_256.txt"),
            Some((false, "sha3_256"))
        );
        assert_eq!(manifest_kind("manifest-.txt"), None);
        assert_eq!(manifest_kind("manifest-sha256.md"), None);
        assert_eq!(manifest_kind("bag-info.txt"), None);
    }

    #[test]
    fn one_table_gives_every_spelling() {
        for (algo, name) in BAG_ALGOS {
            assert_eq!(bag_name(algo), Some(name));
            assert_eq!(bag_algo(name), Some(algo), "{name}");
            assert_eq!(bag_algo(&normalised(name)), Some(algo), "{name}");
            // R's name is read where it is bagit-python's or RFC 8493's.
            assert_eq!(normalised(algo.name()), normalised(name));
        }
        let names: std::collections::HashSet<&str> = bag_names().collect();
        assert_eq!(names.len(), BAG_ALGOS.len());
        // RFC 8493's normalisation, as bagit-python's names need it.
        assert_eq!(normalised("sha3_256"), "sha3256");
        assert_eq!(normalised("SHA-512"), "sha512");
        for unknown in ["sm3", "SHA256", "sha-256", "crc32", ""] {
            assert_eq!(bag_algo(unknown), None, "{unknown}");
        }
    }
}
