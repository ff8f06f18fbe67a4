//! The statistics outlier rules judge by, from finite values only: the
//! moments (mean and population sd, stable far from 0 and the same bits
//! inline and on workers), medians and the MAD rule's scale, and the
//! hinges of `fivenum()`, all by selection rather than a full sort.
//! Never touches R.

use super::sample::Sample;
use crate::errors::{try_vec, RwError};
use crate::runtime::{Cancel, Par};
use rayon::prelude::*;

/// The consistency constant that makes the MAD estimate the standard
/// deviation of normal data (R's `mad()` default).
pub const MAD_CONSTANT: f64 = 1.4826;

/// When the MAD is 0, the scale is this times the mean absolute deviation
/// from the median: sqrt(pi / 2) to 7 digits, the modified z-score's rule
/// (Iglewicz and Hoaglin), which also estimates the sd of normal data.
pub const MEAN_AD_CONSTANT: f64 = 1.253314;

/// Elements per chunk: small enough that a chunk stays in L1 cache for the
/// second, centred pass over it.
pub const CHUNK: usize = 2048;

/// The statistics one group (or the whole slice) was judged by; NaN where
/// undefined. `scale` is the quantity multiplied by the threshold; `lower`
/// and `upper` are the bounds: `center -/+ threshold * scale`, or for
/// `Iqr` the fences `h1 - threshold * scale` and `h3 + threshold * scale`.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub center: f64,
    pub scale: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Equal when every field has the same bits (NaN equals NaN): what
/// "inline and workers agree" means.
impl PartialEq for Stats {
    fn eq(&self, other: &Stats) -> bool {
        let bits = |s: &Stats| [s.center, s.scale, s.lower, s.upper].map(f64::to_bits);
        bits(self) == bits(other)
    }
}

impl Stats {
    /// No finite value, or a rule (`Hampel`) whose statistics vary along
    /// the series.
    pub const UNDEFINED: Stats = Stats {
        center: f64::NAN,
        scale: f64::NAN,
        lower: f64::NAN,
        upper: f64::NAN,
    };

    pub fn around(center: f64, scale: f64, threshold: f64) -> Stats {
        Stats {
            center,
            scale,
            lower: center - threshold * scale,
            upper: center + threshold * scale,
        }
    }
}

/// Count, mean and sum of squared deviations of the finite values. The mean
/// is kept relative to a shift (the first finite value), so that data far
/// from 0, such as `1e9 + noise`, loses no precision in the sums, and
/// constant data give exactly their value and a spread of exactly 0.
/// `shifted_mean` and `m2` are in units of `unit`: 1, or `BIG_UNIT` when the
/// deviations are so large (beyond about 1e154) that their squares, or the
/// differences of huge values of both signs, would overflow: any finite
/// doubles then still have a finite, right mean and sd.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    pub n: f64,
    pub shift: f64,
    pub shifted_mean: f64,
    pub m2: f64,
    pub unit: f64,
}

/// The unit of huge data: 2^560. Deviations of finite doubles (at most
/// 2^1025) become at most 2^465 in it, whose squares summed over 2^64
/// values stay finite; values below 2^-462, which lose bits in it, are
/// nothing beside the deviations that make it necessary. A power of two,
/// so scaling by it is exact.
pub const BIG_UNIT: f64 = {
    let mut unit = 1.0;
    let mut k = 0;
    while k < 560 {
        unit *= 2.0;
        k += 1;
    }
    unit
};

impl Moments {
    fn empty(shift: f64) -> Moments {
        Moments {
            n: 0.0,
            shift,
            shifted_mean: 0.0,
            m2: 0.0,
            unit: 1.0,
        }
    }

    /// One value `count` times.
    pub fn constant(value: f64, count: f64) -> Moments {
        Moments {
            n: count,
            shift: value,
            shifted_mean: 0.0,
            m2: 0.0,
            unit: 1.0,
        }
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0.0 {
            f64::NAN
        } else if self.unit == 1.0 {
            self.shift + self.shifted_mean
        } else {
            // shift + unit * shifted_mean could overflow on the way.
            (self.shift / self.unit + self.shifted_mean) * self.unit
        }
    }

    /// Divisor n, as numpy's `std()` in the seed.
    pub fn population_sd(&self) -> f64 {
        if self.n == 0.0 {
            f64::NAN
        } else {
            (self.m2 / self.n).sqrt() * self.unit
        }
    }

    /// Divisor n - 1, as R's `sd()`; NaN for fewer than two values.
    pub fn sample_sd(&self) -> f64 {
        if self.n < 2.0 {
            f64::NAN
        } else {
            (self.m2 / (self.n - 1.0)).sqrt() * self.unit
        }
    }

    /// The same moments in `unit` (at least theirs): exact but for values
    /// too small to matter beside the ones that made the unit necessary.
    /// In the big unit the shift is 0: huge values of both signs cancel
    /// exactly in a plain sum, where a shift far from the mean would cost
    /// the mean its low bits.
    fn in_unit(self, unit: f64) -> Moments {
        if unit == self.unit {
            return self;
        }
        let factor = self.unit / unit;
        Moments {
            shift: 0.0,
            shifted_mean: self.shift / unit + self.shifted_mean * factor,
            m2: self.m2 * factor * factor,
            unit,
            ..self
        }
    }

    /// Chan et al.'s pairwise update: exact in exact arithmetic and stable
    /// in floating point, so chunks can be combined in any grouping. The
    /// shifts may differ (they are compared in the common unit); the result
    /// keeps `self`'s.
    pub fn merge(self, other: Moments) -> Moments {
        if other.n == 0.0 {
            return self;
        }
        if self.n == 0.0 {
            return other;
        }
        let merged = self.merge_in(other, self.unit.max(other.unit));
        if merged.shifted_mean.is_finite() && merged.m2.is_finite() {
            return merged;
        }
        self.merge_in(other, BIG_UNIT)
    }

    fn merge_in(self, other: Moments, unit: f64) -> Moments {
        let (a, b) = (self.in_unit(unit), other.in_unit(unit));
        let n = a.n + b.n;
        let shifts = if a.shift == b.shift {
            0.0
        } else {
            b.shift / unit - a.shift / unit
        };
        let delta = shifts + (b.shifted_mean - a.shifted_mean);
        // In the big unit (no shift), the means of parts can be huge and of
        // opposite signs: the weighted sum keeps the low bits that
        // `a + delta * (b.n / n)` would cancel away.
        let shifted_mean = if unit == 1.0 {
            a.shifted_mean + delta * (b.n / n)
        } else {
            a.shifted_mean * (a.n / n) + b.shifted_mean * (b.n / n)
        };
        Moments {
            n,
            shift: a.shift,
            shifted_mean,
            m2: a.m2 + b.m2 + delta * delta * (a.n * b.n / n),
            unit,
        }
    }
}

/// Moments of the finite values, one chunk at a time, merged pairwise in a
/// fixed tree: the same bits inline and on any number of workers.
pub fn moments<T: Sample>(x: &[T], par: Par, cancel: &Cancel) -> Result<Moments, RwError> {
    let shift = x
        .iter()
        .map(|t| t.value())
        .find(|v| v.is_finite())
        .unwrap_or(0.0);
    let parts = par.map_chunks(x, CHUNK, |chunk| match cancel.check() {
        Ok(()) => chunk_moments(chunk, shift),
        Err(_) => Moments::empty(shift),
    });
    cancel.check()?;
    Ok(pairwise(parts, Moments::merge).unwrap_or(Moments::empty(shift)))
}

/// Merges `parts` pairwise in a fixed tree (neighbours, then pairs of
/// pairs, ...): the result depends on the parts only, not on who made them.
pub(super) fn pairwise<T: Copy>(mut parts: Vec<T>, merge: impl Fn(T, T) -> T) -> Option<T> {
    let mut width = 1;
    while width < parts.len() {
        for i in (0..parts.len() - width).step_by(2 * width) {
            parts[i] = merge(parts[i], parts[i + width]);
        }
        width *= 2;
    }
    parts.first().copied()
}

/// Two passes over a chunk that sits in cache: the mean, then squared
/// deviations from it. Independent lanes let the compiler vectorise without
/// reordering any one sum. Chunks of finite values of moderate size, the
/// usual case, take a path with no per-element test: finite sums prove it.
fn chunk_moments<T: Sample>(chunk: &[T], shift: f64) -> Moments {
    let total = lane_sum(chunk, |v| v - shift);
    if total.is_finite() {
        let n = chunk.len() as f64;
        let shifted_mean = total / n;
        // The centre rounded once; the error it adds to m2 is of second order.
        let center = shift + shifted_mean;
        let m2 = lane_sum(chunk, |v| (v - center) * (v - center));
        if m2.is_finite() {
            return Moments {
                n,
                shift,
                shifted_mean,
                m2,
                unit: 1.0,
            };
        }
    }
    chunk_moments_where(chunk, shift, &|_: f64| true)
}

/// Moments of the finite values of `x` for which `keep` holds.
pub fn moments_where<T: Sample>(
    x: &[T],
    par: Par,
    cancel: &Cancel,
    keep: impl Fn(f64) -> bool + Sync,
) -> Result<Moments, RwError> {
    let shift = x
        .iter()
        .map(|t| t.value())
        .find(|&v| v.is_finite() && keep(v))
        .unwrap_or(0.0);
    let parts = par.map_chunks(x, CHUNK, |chunk| match cancel.check() {
        Ok(()) => chunk_moments_where(chunk, shift, &keep),
        Err(_) => Moments::empty(shift),
    });
    cancel.check()?;
    Ok(pairwise(parts, Moments::merge).unwrap_or(Moments::empty(shift)))
}

/// The moments of the finite values of a chunk that `keep` selects, with a
/// test per element: in unit 1, then, if the sums overflow, in the big one.
pub(super) fn chunk_moments_where<T: Sample>(
    chunk: &[T],
    shift: f64,
    keep: &impl Fn(f64) -> bool,
) -> Moments {
    let in_unit = |unit: f64| {
        // In the big unit, no shift (see Moments::in_unit).
        let shift = if unit == 1.0 { shift } else { 0.0 };
        let (inverse, base) = (1.0 / unit, shift / unit);
        // `&`, not `&&`: no branch, so the sums vectorise.
        let kept = |v: f64| v.is_finite() & keep(v);
        let n = lane_sum(chunk, |v| if kept(v) { 1.0 } else { 0.0 });
        if n == 0.0 {
            return Moments::empty(shift);
        }
        let sum = lane_sum(chunk, |v| if kept(v) { v * inverse - base } else { 0.0 });
        let shifted_mean = sum / n;
        let center = base + shifted_mean;
        let m2 = lane_sum(chunk, |v| {
            if kept(v) {
                (v * inverse - center) * (v * inverse - center)
            } else {
                0.0
            }
        });
        Moments {
            n,
            shift,
            shifted_mean,
            m2,
            unit,
        }
    };
    let plain = in_unit(1.0);
    if plain.shifted_mean.is_finite() && plain.m2.is_finite() {
        plain
    } else {
        in_unit(BIG_UNIT)
    }
}

/// Sum of `f(value)` over a chunk in eight independent lanes.
#[inline(always)]
pub(super) fn lane_sum<T: Sample>(chunk: &[T], f: impl Fn(f64) -> f64) -> f64 {
    const LANES: usize = 8;
    let mut acc = [0.0f64; LANES];
    let blocks = chunk.chunks_exact(LANES);
    let tail = blocks.remainder();
    for block in blocks {
        for j in 0..LANES {
            acc[j] += f(block[j].value());
        }
    }
    for t in tail {
        acc[0] += f(t.value());
    }
    acc.iter().sum()
}

/// A copy of the finite values of `x`, in order.
pub fn finite_values<T: Sample>(x: &[T], par: Par, cancel: &Cancel) -> Result<Vec<f64>, RwError> {
    let mut finite: Vec<f64> = try_vec(x.len() as u64, || RwError::Value {
        arg: "x",
        reason: "is too long: not enough memory for a copy of its finite values".into(),
    })?;
    let values = x.iter().map(|t| t.value()).filter(|v| v.is_finite());
    match par {
        Par::Inline => finite.extend(values),
        Par::Workers => {
            finite.par_extend(x.par_iter().map(|t| t.value()).filter(|v| v.is_finite()))
        }
    }
    cancel.check()?;
    Ok(finite)
}

/// Median of finite values and the MAD rule's scale: `MAD_CONSTANT` times
/// the median absolute deviation from it, or, when that is 0,
/// `MEAN_AD_CONSTANT` times the mean absolute deviation; NaN for no values.
/// By selection (no full sort); `finite` ends up holding the deviations.
pub fn median_and_scale(
    finite: &mut [f64],
    par: Par,
    cancel: &Cancel,
) -> Result<(f64, f64), RwError> {
    let Some(center) = median_in_place(finite) else {
        return Ok((f64::NAN, f64::NAN));
    };
    par.for_each_mut(finite, |v| *v = (*v - center).abs());
    cancel.check()?;
    let mad = median_in_place(finite).unwrap_or(f64::NAN);
    if mad > 0.0 {
        return Ok((center, MAD_CONSTANT * mad));
    }
    // Most values equal the median: their mean distance from it still
    // measures the spread of the others. The sum is over fixed chunks in a
    // fixed tree, so inline and workers agree.
    let sums = par.map_chunks(finite, CHUNK, |chunk| lane_sum(chunk, |v| v));
    let total = pairwise(sums, |a, b| a + b).unwrap_or(0.0);
    Ok((center, MEAN_AD_CONSTANT * (total / finite.len() as f64)))
}

/// The midpoint as R computes it (`0.5 * (a + b)`, as in `fivenum()` and,
/// to the bit, `median()`), without overflowing to infinity near f64::MAX.
#[inline]
pub fn mid(a: f64, b: f64) -> f64 {
    let sum = a + b;
    if sum.is_finite() {
        0.5 * sum
    } else {
        0.5 * a + 0.5 * b
    }
}

/// The median (the midpoint of the two middle values for an even count),
/// reordering `values`; `None` when empty. Values must not be NaN.
pub fn median_in_place(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (lower, &mut upper_mid, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return Some(upper_mid);
    }
    let lower_mid = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(mid(lower_mid, upper_mid))
}

/// The lower hinge, median and upper hinge of `fivenum()`, reordering
/// `finite`; `None` when empty. R sorts and takes, 1-based, with
/// `n4 <- floor((n + 3) / 2) / 2` and `d <- c(n4, (n + 1) / 2, n + 1 - n4)`,
/// `0.5 * (x[floor(d)] + x[ceiling(d)])`; here the six order statistics
/// are found by selection.
pub fn hinges(finite: &mut [f64]) -> Option<[f64; 3]> {
    let n = finite.len();
    if n == 0 {
        return None;
    }
    let half = (n + 3) / 2;
    // floor(n4) and ceiling(n4), 1-based.
    let (q_lo, q_hi) = (half / 2, half.div_ceil(2));
    let positions = [
        q_lo - 1,
        q_hi - 1,
        n.div_ceil(2) - 1,
        (n + 2) / 2 - 1,
        n - q_hi,
        n - q_lo,
    ];
    let v = order_statistics(finite, &positions);
    Some([mid(v[0], v[1]), mid(v[2], v[3]), mid(v[4], v[5])])
}

/// The values at 0-based ascending `positions` (repeats allowed) of the
/// sorted `values`, by nested selection: each selection splits the slice,
/// and the positions on either side are found within their part.
pub(super) fn order_statistics(values: &mut [f64], positions: &[usize]) -> Vec<f64> {
    let mut distinct = positions.to_vec();
    distinct.dedup();
    let mut found = vec![f64::NAN; distinct.len()];
    select_each(values, 0, &distinct, &mut found);
    positions
        .iter()
        .map(|p| found[distinct.partition_point(|d| d < p)])
        .collect()
}

fn select_each(values: &mut [f64], base: usize, positions: &[usize], out: &mut [f64]) {
    if positions.is_empty() {
        return;
    }
    let middle = positions.len() / 2;
    let k = positions[middle] - base;
    let (left, pivot, right) = values.select_nth_unstable_by(k, f64::total_cmp);
    out[middle] = *pivot;
    let (out_left, out_right) = out.split_at_mut(middle);
    select_each(left, base, &positions[..middle], out_left);
    select_each(
        right,
        base + k + 1,
        &positions[middle + 1..],
        &mut out_right[1..],
    );
}
