//! BagIt bags (RFC 8493, and the versions 0.93 to 0.97 before it):
//! validating one ([`validate::check_bag`]) and making one in place
//! ([`make::make_bag`]). Pure Rust: never touches R.

pub mod make;
pub mod names;
pub mod text;
pub mod validate;

/// The payload or tag manifest that `file` (a name in the bag's top
/// directory) is, with its algorithm's name: `manifest-sha256.txt` gives
/// `(false, "sha256")`, `tagmanifest-md5.txt` gives `(true, "md5")`. The
/// names are `Algo::from_name()`'s: the IANA BagIt registry's and Python
/// hashlib's names, which bagit-python uses, agree with rwbridge's.
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
    use crate::hash::Algo;

    #[test]
    fn manifest_names() {
        assert_eq!(
            manifest_kind("manifest-sha256.txt"),
            Some((false, "sha256"))
        );
        assert_eq!(manifest_kind("tagmanifest-md5.txt"), Some((true, "md5")));
        assert_eq!(manifest_kind("manifest-.txt"), None);
        assert_eq!(manifest_kind("manifest-sha256.md"), None);
        assert_eq!(manifest_kind("bag-info.txt"), None);
        assert_eq!(Algo::from_name("sha512"), Some(Algo::Sha512));
        assert_eq!(Algo::from_name("sha3_256"), None);
    }
}
