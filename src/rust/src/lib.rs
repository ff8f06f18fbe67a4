//! rwbridge's crate: a pure Rust core that never touches R, and the thin
//! binding that converts R's values for it (`binding/`, the only part that
//! names R, where the package's R module is declared). Modules are listed
//! from the binding down: each imports only those listed below it.

mod binding;

pub mod bagit;

pub mod audit;
pub mod signatures;
pub mod verify;

pub mod outliers;

pub mod manifest;

pub mod hash;

pub mod status;
pub mod tree;

pub mod errors;
pub mod fileio;
pub mod runtime;
#[cfg(test)]
mod test_support;
