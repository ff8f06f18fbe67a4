//! `readit()` and `writeit()`: whole files to and from R vectors.

use super::call::{guarded, with_runtime};
use super::convert::{path as path_arg, text, text_bytes};
use super::ffi::alloc_vector;
use crate::errors::{quoted, RwError};
use crate::fileio;
use extendr_api::prelude::*;
use extendr_ffi::SEXPTYPE;
use std::path::Path;

/// Reads a whole file as a raw vector or one UTF-8 string. `path` is a
/// string, read as the bytes R's file functions use.
/// @noRd
#[extendr]
fn readit_(path: Robj, as_text: bool, threads: i32) -> Robj {
    guarded(|| {
        let path = &path_arg(&path, "path")?;
        if as_text {
            let fits = |len: u64| i32::try_from(len).is_ok();
            let file = fileio::open_regular(path)?;
            // Checked before reading too, so a huge file is refused at once.
            if !fits(file.size) {
                return Err(too_long_for_a_string(path));
            }
            let content = file.read_text()?;
            if !fits(content.len() as u64) {
                return Err(too_long_for_a_string(path));
            }
            return Ok(text(&content));
        }
        read_raw(path, threads)
    })
}

/// Reads straight into a freshly allocated R raw vector: no second copy.
/// A big file is read in parallel on the runtime's workers, and Ctrl-C
/// stops it.
fn read_raw(path: &Path, threads: i32) -> Result<Robj, RwError> {
    let mut file = fileio::open_regular(path)?;
    let size = usize::try_from(file.size).map_err(|_| too_big(path))?;
    let mut vector = alloc_vector(SEXPTYPE::RAWSXP, size).ok_or_else(|| too_big(path))?;
    let buf = vector
        .as_raw_slice_mut()
        .ok_or_else(|| RwError::Internal("a raw vector has no bytes".into()))?;
    let got = if size >= fileio::PARALLEL_READ_MIN {
        with_runtime(threads, None, |rt, _| file.fill_parallel(buf, rt))?
    } else {
        file.fill(buf)?
    };
    // Read up to the size the file had when opened, as `readBin()` with
    // `file.size()` does; one that reports no size (as /proc files do), or
    // shrank, is read to its end.
    if got == size && size > 0 {
        return Ok(vector);
    }
    let rest = file.rest()?;
    if got == size && rest.is_empty() {
        return Ok(vector);
    }
    let mut bytes = buf[..got].to_vec();
    bytes.extend(rest);
    Ok(Raw::from_bytes(&bytes).into())
}

fn too_long_for_a_string(path: &Path) -> RwError {
    RwError::Value {
        arg: "as",
        reason: format!(
            "is \"text\" but {} is over 2 GiB, the limit of one R string: use as = \"raw\"",
            quoted(path.as_os_str().as_encoded_bytes())
        ),
    }
}

fn too_big(path: &Path) -> RwError {
    RwError::io_reason("read", path, "not enough memory for the whole file")
}

/// Replaces (or appends to) a file with the bytes of a raw vector, or of
/// one string (UTF-8, unless its bytes are not valid in the encoding it
/// declares: then byte for byte).
/// @noRd
#[extendr]
fn writeit_(data: Robj, path: Robj, append: bool) -> Robj {
    guarded(|| {
        let text;
        let bytes = match data.as_raw_slice() {
            Some(bytes) => bytes,
            None => {
                text = text_bytes(&data, "data")?;
                &text
            }
        };
        let path = &path_arg(&path, "path")?;
        let written = if append {
            fileio::append(path, bytes)?
        } else {
            fileio::write_atomic(path, bytes)?
        };
        Ok(Robj::from(written as f64))
    })
}

extendr_module! {
    mod io;
    fn readit_;
    fn writeit_;
}
