//! The extendr binding, the only part of the crate that names R. Entry
//! points live by family (`io.rs`, `checksums.rs`, `bag.rs`,
//! `outliers.rs`, `diag.rs`), each family with its own `extendr_module!`,
//! gathered into the package's module below. Each entry point runs through
//! `call.rs`, converts its arguments (`convert.rs`), calls the core, and
//! converts the result; `ffi.rs` holds the calls into R's C API that
//! extendr does not offer. R checks the arguments before calling
//! (`R/errors.R` says why); an entry point called with anything else fails
//! with an internal error, never with output. Errors and panics come back
//! as values of class `rwbridge_failure`, which R raises as conditions, so
//! R's error longjmp never crosses a Rust frame.

mod bag;
mod call;
mod checksums;
mod convert;
mod diag;
mod ffi;
mod io;
mod outliers;

use extendr_api::prelude::*;

// The package's R module. It stands here rather than in lib.rs because a
// family's name in `use` is also its path, and `outliers` there is the core.
extendr_module! {
    mod rwbridge;
    use io;
    use checksums;
    use bag;
    use outliers;
    use diag;
}
