//! Groups for `detect_outliers(by = )`: the grouping of a call, group codes
//! for the distinct values of a vector (numbered in ascending order of
//! value, as `factor()` orders its levels), and the values of each group
//! gathered contiguously by a stable counting sort, so each group's
//! statistics read one slice. Never touches R.

use super::sample::{Sample, NA_INTEGER};
use crate::errors::{try_vec, RwError};
use crate::runtime::{Cancel, Par};
use rayon::prelude::*;
use std::cmp::Ordering;
use std::ops::Range;

/// Elements between two cancel checks.
const BLOCK: usize = 1 << 16;

/// Group codes are R integers: at most this many groups.
const MAX_GROUPS: usize = i32::MAX as usize;

/// The groups of a grouped call: a 1-based group code per element (R's
/// integer `NA`, or anything outside `1..=count`, for none) and the number
/// of groups.
#[derive(Debug, Clone, Copy)]
pub struct Grouping<'a> {
    pub codes: &'a [i32],
    pub count: usize,
}

/// What [`Groups::gather`] keeps of each group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gather {
    /// The finite values only (for statistics of the whole group).
    Finite,
    /// Every element, with its index in `x` (for windows along the group).
    AllWithIndex,
}

/// The elements of each group, contiguous and in the order of `x`.
#[derive(Debug, Clone, PartialEq)]
pub struct Groups {
    /// Group `g` is `values[starts[g]..starts[g + 1]]`.
    starts: Vec<usize>,
    pub values: Vec<f64>,
    /// The index in `x` of each value (`Gather::AllWithIndex` only).
    pub index: Vec<usize>,
}

impl Groups {
    /// Gathers `x` by `codes`: 1-based group codes, `NA` for none. A code
    /// outside `1..=count` is a value error (a factor whose codes do not
    /// fit its levels); `codes` must be as long as `x`. On the workers, `x`
    /// is cut into a few parts that are counted and scattered in parallel,
    /// each into its own share of every group: the result is the same.
    pub fn gather<T: Sample>(
        x: &[T],
        codes: &[i32],
        count: usize,
        keep: Gather,
        par: Par,
        cancel: &Cancel,
    ) -> Result<Groups, RwError> {
        if codes.len() != x.len() {
            return Err(RwError::Internal(
                "`by` and `x` differ in length: call the exported R function".into(),
            ));
        }
        let with_index = keep == Gather::AllWithIndex;
        let kept = |t: T| with_index || t.value().is_finite();
        // Parts: one per worker, as long as each part is several times the
        // number of groups (each part keeps a count and a cursor per group).
        let parts = match par {
            Par::Inline => 1,
            Par::Workers => rayon::current_num_threads().min(x.len() / (4 * count.max(1))),
        }
        .max(1);
        let size = x.len().div_ceil(parts).max(1);
        let firsts: Vec<usize> = (0..x.len()).step_by(size).collect();
        let part_of = |first: usize| first..(first + size).min(x.len());
        let counts = par.map(&firsts, |&first| -> Result<Vec<usize>, RwError> {
            let mut counts = vec![0usize; count];
            let range = part_of(first);
            for (xs, cs) in x[range.clone()]
                .chunks(BLOCK)
                .zip(codes[range].chunks(BLOCK))
            {
                cancel.check()?;
                for (&t, &code) in xs.iter().zip(cs) {
                    if let Some(g) = group_of(code, count)? {
                        counts[g] += usize::from(kept(t));
                    }
                }
            }
            Ok(counts)
        });
        let counts = counts.into_iter().collect::<Result<Vec<_>, _>>()?;
        let mut starts = vec![0usize; count + 1];
        for g in 0..count {
            starts[g + 1] = starts[g] + counts.iter().map(|c| c[g]).sum::<usize>();
        }
        let total = starts[count];
        let no_memory = || RwError::Value {
            arg: "by",
            reason: "needs a copy of `x` grouped, and there is not enough memory for it".into(),
        };
        let mut values: Vec<f64> = try_vec(total as u64, no_memory)?;
        values.resize(total, 0.0);
        let mut index: Vec<usize> = Vec::new();
        if with_index {
            index = try_vec(total as u64, no_memory)?;
            index.resize(total, 0);
        }
        // Each part's share of each group: group by group, part by part
        // within a group, so the values of a group stay in the order of x.
        let mut value_shares: Vec<Vec<&mut [f64]>> =
            (0..parts).map(|_| Vec::with_capacity(count)).collect();
        let mut index_shares: Vec<Vec<&mut [usize]>> = (0..parts).map(|_| Vec::new()).collect();
        let (mut values_left, mut index_left) = (&mut values[..], &mut index[..]);
        for g in 0..count {
            for (p, part_counts) in counts.iter().enumerate() {
                let (share, rest) = std::mem::take(&mut values_left).split_at_mut(part_counts[g]);
                value_shares[p].push(share);
                values_left = rest;
                if with_index {
                    let (share, rest) =
                        std::mem::take(&mut index_left).split_at_mut(part_counts[g]);
                    index_shares[p].push(share);
                    index_left = rest;
                }
            }
        }
        let jobs: Vec<_> = firsts
            .iter()
            .zip(value_shares)
            .zip(index_shares)
            .map(|((&first, v), i)| (first, v, i))
            .collect();
        let scatter = |(first, mut value_share, mut index_share): (
            usize,
            Vec<&mut [f64]>,
            Vec<&mut [usize]>,
        )|
         -> Result<(), RwError> {
            let mut next = vec![0usize; count];
            let range = part_of(first);
            let blocks = x[range.clone()]
                .chunks(BLOCK)
                .zip(codes[range].chunks(BLOCK));
            for (b, (xs, cs)) in blocks.enumerate() {
                cancel.check()?;
                for (j, (&t, &code)) in xs.iter().zip(cs).enumerate() {
                    // Every code was checked by the counting pass.
                    let Ok(Some(g)) = group_of(code, count) else {
                        continue;
                    };
                    if kept(t) {
                        let at = next[g];
                        value_share[g][at] = t.value();
                        if with_index {
                            index_share[g][at] = first + b * BLOCK + j;
                        }
                        next[g] = at + 1;
                    }
                }
            }
            Ok(())
        };
        match par {
            Par::Inline => jobs.into_iter().try_for_each(scatter)?,
            Par::Workers => jobs.into_par_iter().try_for_each(scatter)?,
        }
        Ok(Groups {
            starts,
            values,
            index,
        })
    }

    /// The number of groups.
    pub fn count(&self) -> usize {
        self.starts.len() - 1
    }

    /// Where group `g` lies in `values` (and `index`).
    pub fn range(&self, g: usize) -> Range<usize> {
        self.starts[g]..self.starts[g + 1]
    }

    /// Each group's values, as one mutable slice per group.
    pub fn slices_mut(&mut self) -> Vec<&mut [f64]> {
        let mut slices = Vec::with_capacity(self.count());
        let mut rest = &mut self.values[..];
        for bounds in self.starts.windows(2) {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(bounds[1] - bounds[0]);
            slices.push(head);
            rest = tail;
        }
        slices
    }
}

/// The 0-based group of a code: `None` for NA, an error outside `1..=count`.
#[inline(always)]
fn group_of(code: i32, count: usize) -> Result<Option<usize>, RwError> {
    if code == NA_INTEGER {
        return Ok(None);
    }
    match usize::try_from(code) {
        Ok(c) if (1..=count).contains(&c) => Ok(Some(c - 1)),
        _ => Err(RwError::Value {
            arg: "by",
            reason: format!(
                "has a group code ({code}) outside 1..{count}: a factor whose codes do not fit its levels"
            ),
        }),
    }
}

/// Writes into `codes` the group code of each element of `by`: its rank
/// among the distinct values, from 1; NA stays NA. Returns, for each group
/// in order, the index of its first element.
pub fn code_integers(
    by: &[i32],
    codes: &mut [i32],
    cancel: &Cancel,
) -> Result<Vec<usize>, RwError> {
    let present = by.iter().filter(|&&v| v != NA_INTEGER);
    let (Some(&lo), Some(&hi)) = (present.clone().min(), present.max()) else {
        codes.fill(NA_INTEGER);
        return Ok(Vec::new());
    };
    let span = (i64::from(hi) - i64::from(lo)) as usize + 1;
    // A table over the range of values when it is not much wider than the
    // data (the usual ids and years), else a hash table.
    if span <= by.len().saturating_mul(2).max(1 << 16) {
        return code_by_table(by, lo, span, codes, cancel);
    }
    code_by_hash(
        by.len(),
        |i| (by[i] != NA_INTEGER).then_some(by[i] as u32 as u64),
        |keys| sorted_by(keys, |a, b| (a as u32 as i32).cmp(&(b as u32 as i32))),
        codes,
        cancel,
    )
}

/// As [`code_integers`] for doubles: `NA` and `NaN` have no group, and `0`
/// and `-0` are one value, as in `unique()`.
pub fn code_doubles(by: &[f64], codes: &mut [i32], cancel: &Cancel) -> Result<Vec<usize>, RwError> {
    code_by_hash(
        by.len(),
        // Adding 0 turns -0 into 0.
        |i| (!by[i].is_nan()).then(|| (by[i] + 0.0).to_bits()),
        |keys| sorted_by(keys, |a, b| f64::from_bits(a).total_cmp(&f64::from_bits(b))),
        codes,
        cancel,
    )
}

fn too_many_groups() -> RwError {
    RwError::Value {
        arg: "by",
        reason: format!("has more than {MAX_GROUPS} distinct values"),
    }
}

fn code_by_table(
    by: &[i32],
    lo: i32,
    span: usize,
    codes: &mut [i32],
    cancel: &Cancel,
) -> Result<Vec<usize>, RwError> {
    const ABSENT: u32 = u32::MAX;
    let slot = |v: i32| (i64::from(v) - i64::from(lo)) as usize;
    let mut rank: Vec<u32> = try_vec(span as u64, too_many_groups)?;
    rank.resize(span, ABSENT);
    for block in by.chunks(BLOCK) {
        cancel.check()?;
        for &v in block {
            if v != NA_INTEGER {
                rank[slot(v)] = 0;
            }
        }
    }
    let mut count = 0usize;
    for r in rank.iter_mut().filter(|r| **r != ABSENT) {
        if count >= MAX_GROUPS {
            return Err(too_many_groups());
        }
        *r = count as u32;
        count += 1;
    }
    let mut first = vec![usize::MAX; count];
    for (b, (block, out)) in by.chunks(BLOCK).zip(codes.chunks_mut(BLOCK)).enumerate() {
        cancel.check()?;
        for (j, (&v, code)) in block.iter().zip(out).enumerate() {
            if v == NA_INTEGER {
                *code = NA_INTEGER;
                continue;
            }
            let g = rank[slot(v)] as usize;
            if first[g] == usize::MAX {
                first[g] = b * BLOCK + j;
            }
            *code = g as i32 + 1;
        }
    }
    Ok(first)
}

/// Codes by a hash table of 64-bit keys (`None`: no group): ids in order of
/// first appearance, then renumbered in the order `order` gives the
/// distinct keys (it returns their positions, sorted). Keys may be any
/// identity of a value, such as the address of an interned string; `order`
/// then sorts them by what they stand for.
pub fn code_by_hash(
    n: usize,
    key: impl Fn(usize) -> Option<u64> + Sync,
    order: impl FnOnce(&[u64]) -> Vec<usize>,
    codes: &mut [i32],
    cancel: &Cancel,
) -> Result<Vec<usize>, RwError> {
    let found = Distinct::find(n, key, codes, Par::Inline, cancel)?;
    let order = order(&found.keys);
    found.renumber(&order, codes, Par::Inline, cancel)
}

/// The distinct keys of a vector, each with the index of its first
/// element, in order of first appearance; the vector's codes then hold
/// 1-based ids into them (NA for none), valid group codes already.
pub struct Distinct {
    pub keys: Vec<u64>,
    pub first: Vec<usize>,
}

impl Distinct {
    /// On the workers, the vector is cut into parts that are coded each by
    /// its own table, in parallel, and the parts' tables merged: the ids
    /// are the same as inline.
    pub fn find(
        n: usize,
        key: impl Fn(usize) -> Option<u64> + Sync,
        codes: &mut [i32],
        par: Par,
        cancel: &Cancel,
    ) -> Result<Distinct, RwError> {
        let parts = match par {
            Par::Inline => 1,
            Par::Workers => rayon::current_num_threads().clamp(1, 16),
        };
        let size = n.div_ceil(parts).max(1);
        let mut chunks: Vec<(usize, &mut [i32])> = codes[..n]
            .chunks_mut(size)
            .enumerate()
            .map(|(p, c)| (p * size, c))
            .collect();
        let local = |(start, codes): &mut (usize, &mut [i32])| -> Result<Distinct, RwError> {
            let mut table = KeyTable::for_about(codes.len() / 8);
            let mut found = Distinct {
                keys: Vec::new(),
                first: Vec::new(),
            };
            for (j, code) in codes.iter_mut().enumerate() {
                if j % BLOCK == 0 {
                    cancel.check()?;
                }
                let Some(k) = key(*start + j) else {
                    *code = NA_INTEGER;
                    continue;
                };
                let id = table.id(k, found.keys.len() as u32) as usize;
                if id == found.keys.len() {
                    if id >= MAX_GROUPS {
                        return Err(too_many_groups());
                    }
                    found.keys.push(k);
                    found.first.push(*start + j);
                }
                *code = id as i32 + 1;
            }
            Ok(found)
        };
        let mut locals = match par {
            Par::Inline => chunks.iter_mut().map(local).collect::<Vec<_>>(),
            Par::Workers => chunks.par_iter_mut().map(local).collect(),
        }
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
        if locals.len() == 1 {
            return locals
                .pop()
                .ok_or_else(|| RwError::Internal("no part".into()));
        }
        // The parts' keys in order of parts: first appearances in order.
        let mut table = KeyTable::for_about(locals.iter().map(|p| p.keys.len()).max().unwrap_or(0));
        let mut all = Distinct {
            keys: Vec::new(),
            first: Vec::new(),
        };
        let mut maps: Vec<Vec<i32>> = Vec::with_capacity(locals.len());
        for part in &locals {
            cancel.check()?;
            let map = part
                .keys
                .iter()
                .zip(&part.first)
                .map(|(&k, &first)| {
                    let id = table.id(k, all.keys.len() as u32) as usize;
                    if id == all.keys.len() {
                        all.keys.push(k);
                        all.first.push(first);
                    }
                    id as i32
                })
                .collect();
            maps.push(map);
        }
        if all.keys.len() > MAX_GROUPS {
            return Err(too_many_groups());
        }
        let relabel = |((_, codes), map): (&mut (usize, &mut [i32]), &Vec<i32>)| {
            for code in codes.iter_mut().filter(|c| **c != NA_INTEGER) {
                *code = map[*code as usize - 1] + 1;
            }
        };
        match par {
            Par::Inline => chunks.iter_mut().zip(&maps).for_each(relabel),
            Par::Workers => chunks.par_iter_mut().zip(&maps).for_each(relabel),
        }
        cancel.check()?;
        Ok(all)
    }

    /// Renumbers `codes` from 1 in the order `order` (positions of the
    /// keys, sorted); returns the index of the first element of each group
    /// in that order.
    pub fn renumber(
        &self,
        order: &[usize],
        codes: &mut [i32],
        par: Par,
        cancel: &Cancel,
    ) -> Result<Vec<usize>, RwError> {
        let mut rank = vec![0i32; self.keys.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id] = r as i32 + 1;
        }
        par.for_each_mut(codes, |code| {
            if *code != NA_INTEGER {
                *code = rank[*code as usize - 1];
            }
        });
        cancel.check()?;
        Ok(order.iter().map(|&id| self.first[id]).collect())
    }
}

/// The positions of `strings` in bytewise order (as C's `strcmp()`, R's
/// `sort(method = "radix")`). Most comparisons are settled by the 8 bytes
/// that follow the prefix all the strings share, read as one number, so
/// ids such as `sensor-000123` sort as fast as integers.
pub fn bytewise_order(strings: &[&[u8]]) -> Vec<usize> {
    let Some(first) = strings.first() else {
        return Vec::new();
    };
    let shared = strings.iter().fold(first.len(), |shared, s| {
        shared.min(s.iter().zip(*first).take_while(|(a, b)| a == b).count())
    });
    let head = |s: &[u8]| {
        let mut bytes = [0u8; 8];
        let rest = &s[shared..];
        let take = rest.len().min(8);
        bytes[..take].copy_from_slice(&rest[..take]);
        u64::from_be_bytes(bytes)
    };
    let mut keyed: Vec<(u64, usize)> = strings
        .iter()
        .enumerate()
        .map(|(i, s)| (head(s), i))
        .collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| strings[a.1].cmp(strings[b.1])));
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// The positions of `keys` in the order `cmp` gives them.
fn sorted_by(keys: &[u64], cmp: impl Fn(u64, u64) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_unstable_by(|&a, &b| cmp(keys[a], keys[b]));
    order
}

/// Open addressing (linear probing, Fibonacci hashing) from keys to ids,
/// kept at most half full; a key and its id share one slot, so a lookup
/// touches one cache line.
struct KeyTable {
    slots: Vec<(u64, u32)>,
    len: usize,
    bits: u32,
}

impl KeyTable {
    const EMPTY: u32 = u32::MAX;

    fn with_bits(bits: u32) -> KeyTable {
        KeyTable {
            slots: vec![(0, Self::EMPTY); 1 << bits],
            len: 0,
            bits,
        }
    }

    /// A table sized for about `keys` keys (between 2^9 and 2^15 of them):
    /// fewer rounds of growth for long vectors, no big table for short ones.
    fn for_about(keys: usize) -> KeyTable {
        let bits = (keys.max(1) * 2).next_power_of_two().trailing_zeros();
        KeyTable::with_bits(bits.clamp(10, 16))
    }

    fn slot(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - self.bits)) as usize
    }

    /// The id of `key`, which gets `new_id` when it is new.
    #[inline]
    fn id(&mut self, key: u64, new_id: u32) -> u32 {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut s = self.slot(key);
        loop {
            let (k, id) = self.slots[s];
            if id == Self::EMPTY {
                self.slots[s] = (key, new_id);
                self.len += 1;
                return new_id;
            }
            if k == key {
                return id;
            }
            s = (s + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let old = std::mem::replace(self, KeyTable::with_bits(self.bits + 1));
        for (key, id) in old.slots {
            if id != Self::EMPTY {
                self.id(key, id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Rng;

    const NA: i32 = NA_INTEGER;

    fn codes_of_integers(by: &[i32]) -> (Vec<i32>, Vec<usize>) {
        let mut codes = vec![0; by.len()];
        let first = code_integers(by, &mut codes, &Cancel::default()).unwrap();
        (codes, first)
    }

    fn codes_of_doubles(by: &[f64]) -> (Vec<i32>, Vec<usize>) {
        let mut codes = vec![0; by.len()];
        let first = code_doubles(by, &mut codes, &Cancel::default()).unwrap();
        (codes, first)
    }

    /// What R gives: match(by, sort(unique(by))), and the first index of
    /// each sorted distinct value.
    fn reference<K: Copy + PartialEq>(
        by: &[Option<K>],
        cmp: impl Fn(&K, &K) -> Ordering,
    ) -> (Vec<i32>, Vec<usize>) {
        let mut distinct: Vec<K> = Vec::new();
        for v in by.iter().flatten() {
            if !distinct.contains(v) {
                distinct.push(*v);
            }
        }
        distinct.sort_by(&cmp);
        let codes = by
            .iter()
            .map(|v| match v {
                None => NA,
                Some(v) => distinct.iter().position(|d| d == v).unwrap() as i32 + 1,
            })
            .collect();
        let first = distinct
            .iter()
            .map(|d| by.iter().position(|v| v.as_ref() == Some(d)).unwrap())
            .collect();
        (codes, first)
    }

    #[test]
    fn integer_codes_by_table_and_by_hash() {
        let cases: &[&[i32]] = &[
            &[],
            &[NA, NA],
            &[5],
            &[3, 1, 2, 1, NA, 3],
            &[-7, i32::MAX, NA, -7, i32::MIN + 1, 0],
            &[10, 1_000_000, 10, -1_000_000, 999_999],
        ];
        for by in cases {
            let want = reference(
                &by.iter()
                    .map(|&v| (v != NA).then_some(v))
                    .collect::<Vec<_>>(),
                |a, b| a.cmp(b),
            );
            assert_eq!(codes_of_integers(by), want, "{by:?}");
        }
        // Wide and narrow ranges, many values.
        let mut rng = Rng(1);
        for spread in [10u64, 100_000, 1 << 31] {
            let by: Vec<i32> = (0..20_000)
                .map(|_| match rng.below(50) {
                    0 => NA,
                    _ => (rng.below(spread) as i64 - (spread / 2) as i64) as i32,
                })
                .collect();
            let want = reference(
                &by.iter()
                    .map(|&v| (v != NA).then_some(v))
                    .collect::<Vec<_>>(),
                |a, b| a.cmp(b),
            );
            assert_eq!(codes_of_integers(&by), want, "spread {spread}");
        }
    }

    #[test]
    fn double_codes() {
        let by = [
            2.5,
            f64::NAN,
            -0.0,
            0.0,
            1e300,
            -f64::INFINITY,
            2.5,
            f64::INFINITY,
        ];
        let (codes, first) = codes_of_doubles(&by);
        assert_eq!(codes, vec![3, NA, 2, 2, 4, 1, 3, 5]);
        assert_eq!(first, vec![5, 2, 0, 4, 7]);
        let mut rng = Rng(2);
        let by: Vec<f64> = (0..10_000).map(|_| (rng.below(300) as f64) / 8.0).collect();
        let want = reference(&by.iter().map(|&v| Some(v)).collect::<Vec<_>>(), |a, b| {
            a.total_cmp(b)
        });
        assert_eq!(codes_of_doubles(&by), want);
    }

    #[test]
    fn gather_is_a_stable_counting_sort() {
        let x = [1.0, 2.0, f64::NAN, 4.0, f64::INFINITY, 6.0, 7.0];
        let codes = [2, 1, 2, NA, 2, 1, 3];
        let c = Cancel::default();
        let finite = Groups::gather(&x, &codes, 4, Gather::Finite, Par::Inline, &c).unwrap();
        assert_eq!(finite.values, vec![2.0, 6.0, 1.0, 7.0]);
        assert_eq!(
            (0..4).map(|g| finite.range(g)).collect::<Vec<_>>(),
            vec![0..2, 2..3, 3..4, 4..4]
        );
        assert!(finite.index.is_empty());
        let mut all = Groups::gather(&x, &codes, 4, Gather::AllWithIndex, Par::Inline, &c).unwrap();
        assert_eq!(all.index, vec![1, 5, 0, 2, 4, 6]);
        assert_eq!(all.values[..3], [2.0, 6.0, 1.0]);
        let slices = all.slices_mut();
        assert_eq!(
            slices.iter().map(|s| s.len()).collect::<Vec<_>>(),
            vec![2, 3, 1, 0]
        );
        let err = Groups::gather(
            &x,
            &[1, 1, 1, 1, 1, 1, 9],
            4,
            Gather::Finite,
            Par::Inline,
            &c,
        )
        .unwrap_err();
        assert_eq!(err.kind(), "value");
    }

    #[test]
    fn parts_scattered_in_parallel_give_the_same_groups() {
        let mut rng = Rng(3);
        let n = 50_000;
        let x: Vec<f64> = (0..n)
            .map(|i| if i % 13 == 0 { f64::NAN } else { rng.uniform() })
            .collect();
        let codes: Vec<i32> = (0..n)
            .map(|_| match rng.below(40) {
                0 => NA,
                g => g as i32,
            })
            .collect();
        let c = Cancel::default();
        for keep in [Gather::Finite, Gather::AllWithIndex] {
            let one = Groups::gather(&x, &codes, 45, keep, Par::Inline, &c).unwrap();
            let parts = Groups::gather(&x, &codes, 45, keep, Par::Workers, &c).unwrap();
            let bits = |g: &Groups| g.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&one), bits(&parts), "NaN included, to the bit");
            assert_eq!((&one.starts, &one.index), (&parts.starts, &parts.index));
            assert!(one.range(44).is_empty());
            if keep == Gather::AllWithIndex {
                let group = one.range(6);
                let want: Vec<usize> = (0..n).filter(|&i| codes[i] == 7).collect();
                assert_eq!(one.index[group], want[..]);
            }
        }
    }

    #[test]
    fn distinct_keys_in_parts_as_inline() {
        let mut rng = Rng(12);
        let n = 200_000;
        let keys: Vec<u64> = (0..n).map(|_| rng.below(5000) * 64).collect();
        let key = |i: usize| (keys[i] != 64).then_some(keys[i]);
        let mut inline = vec![0; n];
        let want = Distinct::find(n, key, &mut inline, Par::Inline, &Cancel::default()).unwrap();
        let mut parts = vec![0; n];
        let got = crate::runtime::Runtime::new(2, None)
            .run_on_values(usize::MAX, |par, cancel| {
                Distinct::find(n, key, &mut parts, par, cancel)
            })
            .unwrap();
        assert_eq!((got.keys, got.first), (want.keys, want.first));
        assert_eq!(parts, inline);
        assert!(inline
            .iter()
            .zip(&keys)
            .all(|(&c, &k)| (c == NA) == (k == 64)));
    }

    #[test]
    fn bytewise_order_is_strcmp_order() {
        let mut rng = Rng(8);
        let alphabet = [b'a', b'b', b'B', b' ', 0xc3, 0xa9, b'0'];
        for prefix in [&b""[..], b"sensor-0000"] {
            let strings: Vec<Vec<u8>> = (0..300)
                .map(|_| {
                    let mut s = prefix.to_vec();
                    s.extend((0..rng.below(12)).map(|_| alphabet[rng.below(7) as usize]));
                    s
                })
                .collect();
            let slices: Vec<&[u8]> = strings.iter().map(|s| &s[..]).collect();
            let got: Vec<&[u8]> = bytewise_order(&slices).iter().map(|&i| slices[i]).collect();
            let mut want = slices.clone();
            want.sort();
            assert_eq!(got, want);
        }
        assert!(bytewise_order(&[]).is_empty());
    }

    #[test]
    fn the_key_table_grows() {
        let mut table = KeyTable::with_bits(2);
        for k in 0..1000u64 {
            assert_eq!(table.id(k * 7919, k as u32), k as u32);
        }
        for k in 0..1000u64 {
            assert_eq!(table.id(k * 7919, 5000), k as u32);
        }
        assert_eq!(table.len, 1000);
    }
}
