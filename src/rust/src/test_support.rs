//! What the test modules share: trees of files, FIFOs, message checks,
//! and a small random generator.

use std::fs;
use std::path::{Path, PathBuf};

/// A temporary directory holding `files`, given as (name relative to the
/// directory, content), with the subdirectories their names need.
pub fn tree<N: AsRef<Path>, C: AsRef<[u8]>>(files: &[(N, C)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    dir
}

/// A temporary directory holding one file, and that file's path.
pub fn one_file(name: &str, content: impl AsRef<[u8]>) -> (tempfile::TempDir, PathBuf) {
    let dir = tree(&[(name, content)]);
    let path = dir.path().join(name);
    (dir, path)
}

/// Makes a FIFO at `path`, for the owner to read and write.
#[cfg(unix)]
pub fn fifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: c_path is a valid NUL-terminated string for the call.
    let made = unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) };
    assert_eq!(made, 0, "mkfifo {}", path.display());
}

/// Fails unless `err`, as displayed, contains `text`.
#[track_caller]
pub fn assert_says(err: &impl std::fmt::Display, text: &str) {
    let message = err.to_string();
    assert!(message.contains(text), "{message:?} does not say {text:?}");
}

/// A small deterministic generator (xorshift64*), so tests need no crate.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}
