//! rwbridge's crate: a pure Rust core that never touches R, and the thin
//! binding that converts R's values for it (`binding/`, the only module
//! that names R, where the package's R module is declared). Modules are
//! listed from the top down: each imports only modules listed below it.

mod binding;

pub mod bagit;

pub mod audit;
pub mod signatures;
pub mod verify;

pub mod manifest;

pub mod hash;

pub mod algo;

pub mod tree;

pub mod status;

pub mod outliers;

pub mod fileio;
pub mod runtime;

pub mod errors;

#[cfg(test)]
mod test_support;
