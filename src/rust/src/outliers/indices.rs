//! Indices of the values a rule selects: found a piece of the input at a
//! time, in parallel or not, and kept as offsets per piece, ascending.
//! Never touches R.

use super::sample::Sample;
use crate::errors::RwError;
use crate::runtime::{Cancel, Par};

/// Elements per piece of the selection pass: offsets within a piece fit
/// in a `u32`, and a piece's bit masks fit in a small array.
pub const PIECE: usize = 2048 * 16;

/// Ascending 0-based indices, kept as one list of offsets per piece of the
/// input: no second copy of what can be millions of indices.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Indices {
    pieces: Vec<Vec<u32>>,
}

impl Indices {
    /// From the offsets found in each consecutive piece of `PIECE` elements.
    pub fn from_pieces(pieces: Vec<Vec<u32>>) -> Indices {
        Indices { pieces }
    }

    /// From indices in any order, repeats allowed (few of them: a sort).
    pub fn from_unsorted(mut all: Vec<usize>) -> Indices {
        all.sort_unstable();
        all.dedup();
        let mut pieces: Vec<Vec<u32>> = Vec::new();
        for i in all {
            let (piece, offset) = (i / PIECE, (i % PIECE) as u32);
            if pieces.len() <= piece {
                pieces.resize_with(piece + 1, Vec::new);
            }
            pieces[piece].push(offset);
        }
        Indices { pieces }
    }

    /// From a bit set: bit `i % 64` of word `i / 64` set for index `i`.
    pub fn from_bits(bits: &[u64], par: Par) -> Indices {
        let pieces = par.map_chunks(bits, PIECE / 64, set_bits);
        Indices { pieces }
    }

    pub fn len(&self) -> usize {
        self.pieces.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.iter().all(Vec::is_empty)
    }

    pub fn last(&self) -> Option<usize> {
        let (k, piece) = self
            .pieces
            .iter()
            .enumerate()
            .rev()
            .find(|(_, p)| !p.is_empty())?;
        piece.last().map(|&i| k * PIECE + i as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.pieces
            .iter()
            .enumerate()
            .flat_map(|(k, piece)| piece.iter().map(move |&i| k * PIECE + i as usize))
    }

    pub fn to_vec(&self) -> Vec<usize> {
        self.iter().collect()
    }
}

/// The positions of the set bits of `words` (bit `i % 64` of word `i / 64`
/// for position `i`), ascending, stored at their exact count.
fn set_bits(words: &[u64]) -> Vec<u32> {
    let count = words.iter().map(|w| w.count_ones() as usize).sum();
    let mut positions = Vec::with_capacity(count);
    for (b, &word) in words.iter().enumerate() {
        let mut rest = word;
        while rest != 0 {
            positions.push((b * 64) as u32 + rest.trailing_zeros());
            rest &= rest - 1;
        }
    }
    positions
}

/// The values for which `test` holds. Each block of 64 values becomes a bit
/// mask first (branch-free, so it vectorises); the masks of a piece are
/// counted, so its offsets are stored once, at their exact size.
pub fn select<T: Sample>(
    x: &[T],
    par: Par,
    cancel: &Cancel,
    test: impl Fn(f64) -> bool + Sync + Send,
) -> Result<Indices, RwError> {
    let pieces = par.map_chunks(x, PIECE, |piece| {
        if cancel.check().is_err() {
            return Vec::new();
        }
        let mut all_masks = [0u64; PIECE / 64];
        // Only the blocks this piece has: a short vector costs its length.
        let masks = &mut all_masks[..piece.len().div_ceil(64)];
        for (mask, block) in masks.iter_mut().zip(piece.chunks(64)) {
            for (j, t) in block.iter().enumerate() {
                *mask |= u64::from(test(t.value())) << j;
            }
        }
        set_bits(masks)
    });
    cancel.check()?;
    Ok(Indices { pieces })
}

/// The values for which `test(value, a, b)` holds, `(a, b)` being their
/// group's bounds; values in no group are never selected.
pub fn select_grouped<T: Sample>(
    x: &[T],
    codes: &[i32],
    bounds: &[(f64, f64)],
    par: Par,
    cancel: &Cancel,
    test: impl Fn(f64, f64, f64) -> bool + Sync + Send,
) -> Result<Indices, RwError> {
    let starts: Vec<usize> = (0..x.len()).step_by(PIECE).collect();
    let pieces = par.map(&starts, |&start| {
        let mut hits = Vec::new();
        if cancel.check().is_err() {
            return hits;
        }
        let end = (start + PIECE).min(x.len());
        for (j, (t, &code)) in x[start..end].iter().zip(&codes[start..end]).enumerate() {
            // Code 1 is group 0; NA (i32::MIN) and 0 wrap to indices far
            // past any group, as does every other code out of range.
            let group = (code as u32).wrapping_sub(1) as usize;
            if let Some(&(a, b)) = bounds.get(group) {
                if test(t.value(), a, b) {
                    hits.push(j as u32);
                }
            }
        }
        hits
    });
    cancel.check()?;
    Ok(Indices { pieces })
}
