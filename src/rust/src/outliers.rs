//! Outlier detection on numeric slices by four rules: the z-score (mean and
//! population standard deviation), the MAD (median and scaled median
//! absolute deviation), Tukey's fences (the hinges of `fivenum()`) and the
//! Hampel filter (a rolling median and MAD, in `hampel.rs`), on the whole
//! slice or within groups (`groups.rs`). Statistics use the finite values
//! only. Reads the input in place, inline or in parallel as the runtime
//! says, and never writes to it; the result does not depend on which.
//! Never touches R.

use crate::errors::{try_vec, RwError};
use crate::groups::{Gather, Groups};
use crate::hampel;
use crate::runtime::{Cancel, Par, INLINE_MAX_VALUES};
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
const CHUNK: usize = 2048;

/// Elements per piece of the selection pass: offsets within a piece fit
/// in a `u32`, and a piece's bit masks fit in a small array.
pub(crate) const PIECE: usize = CHUNK * 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    ZScore,
    Mad,
    Iqr,
    Hampel,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::ZScore, Method::Mad, Method::Iqr, Method::Hampel];

    pub fn name(self) -> &'static str {
        match self {
            Method::ZScore => "zscore",
            Method::Mad => "mad",
            Method::Iqr => "iqr",
            Method::Hampel => "hampel",
        }
    }

    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// What to look for: the rule, how many scales from the centre a value
/// must lie, for `Hampel` the half-width of the window, and for `ZScore`
/// and `Mad` a centre and scale given instead of computed from the data
/// (a baseline, or statistics merged from chunks).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    pub method: Method,
    pub threshold: f64,
    pub window: usize,
    pub given: Option<(f64, f64)>,
}

/// The groups of a grouped call: a 1-based group code per element (R's
/// integer `NA`, or anything outside `1..=count`, for none) and the number
/// of groups.
#[derive(Debug, Clone, Copy)]
pub struct Grouping<'a> {
    pub codes: &'a [i32],
    pub count: usize,
}

/// A numeric element: doubles as they are, integers with `NA` as NaN.
pub trait Sample: Copy + Send + Sync {
    fn value(self) -> f64;
}

impl Sample for f64 {
    #[inline(always)]
    fn value(self) -> f64 {
        self
    }
}

/// R's integer `NA`.
pub const NA_INTEGER: i32 = i32::MIN;

impl Sample for i32 {
    #[inline(always)]
    fn value(self) -> f64 {
        if self == NA_INTEGER {
            f64::NAN
        } else {
            f64::from(self)
        }
    }
}

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

    pub(crate) fn around(center: f64, scale: f64, threshold: f64) -> Stats {
        Stats {
            center,
            scale,
            lower: center - threshold * scale,
            upper: center + threshold * scale,
        }
    }
}

/// What was found: 0-based indices in ascending order, and the statistics
/// used, one per group (one in all without groups).
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub indices: Indices,
    pub stats: Vec<Stats>,
}

/// The outliers of `x` by `request`, within each group of `groups` when
/// given. Infinite values are always reported (except in no group); NaN
/// never. For the z-score and MAD rules, a centre that is undefined or a
/// scale of 0 reports no finite value; for Tukey's fences, an IQR of 0
/// reports every finite value outside the hinges, as `boxplot.stats()` does.
pub fn detect<T: Sample>(
    x: &[T],
    groups: Option<Grouping>,
    request: &Request,
    par: Par,
    cancel: &Cancel,
) -> Result<Detection, RwError> {
    let Request {
        method,
        threshold,
        window,
        ..
    } = *request;
    // The Hampel rule has no statistics of the whole or of a group.
    match (groups, method) {
        (None, Method::Hampel) => Ok(Detection {
            indices: hampel::detect(x, window, threshold, par, cancel)?,
            stats: vec![Stats::UNDEFINED],
        }),
        (Some(groups), Method::Hampel) => Ok(Detection {
            indices: hampel::detect_grouped(x, groups, window, threshold, par, cancel)?,
            stats: vec![Stats::UNDEFINED; groups.count],
        }),
        (None, _) => detect_whole(x, request, par, cancel),
        (Some(groups), _) => detect_grouped(x, groups, request, par, cancel),
    }
}

/// The statistics of the whole of `x`, and the values outside their bounds
/// (for every method but Hampel's, which [`detect`] settles).
fn detect_whole<T: Sample>(
    x: &[T],
    request: &Request,
    par: Par,
    cancel: &Cancel,
) -> Result<Detection, RwError> {
    let Request {
        method,
        threshold,
        given,
        ..
    } = *request;
    let stats = match (method, given) {
        (Method::ZScore | Method::Mad, Some((center, scale))) => {
            Stats::around(center, scale, threshold)
        }
        // No copy: the moments are computed on `x` itself.
        (Method::ZScore, None) => {
            let m = moments(x, par, cancel)?;
            Stats::around(m.mean(), m.population_sd(), threshold)
        }
        (Method::Mad | Method::Iqr | Method::Hampel, _) => {
            let mut finite = finite_values(x, par, cancel)?;
            finite_stats(&mut finite, method, threshold, par, cancel)?
        }
    };
    let (a, b) = bounds(method, &stats, threshold);
    let indices = match method {
        Method::Iqr => select(x, par, cancel, |v| (v < a) | (v > b))?,
        _ => select(x, par, cancel, |v| (v - a).abs() > b)?,
    };
    Ok(Detection {
        indices,
        stats: vec![stats],
    })
}

/// As [`detect_whole`] within each group (for every method but Hampel's).
/// Groups are gathered by a counting sort (values of a group contiguous, in
/// the order of `x`); their statistics are computed in parallel, each on
/// its own values, then one pass over `x` in order judges each value by its
/// group's bounds, so indices come out ascending.
fn detect_grouped<T: Sample>(
    x: &[T],
    groups: Grouping,
    request: &Request,
    par: Par,
    cancel: &Cancel,
) -> Result<Detection, RwError> {
    let Request {
        method, threshold, ..
    } = *request;
    let mut gathered = Groups::gather(x, groups.codes, groups.count, Gather::Finite, par, cancel)?;
    let stats = per_group(gathered.slices_mut(), par, cancel, |values, inner| {
        finite_stats(values, method, threshold, inner, cancel)
    })?;
    let bounds: Vec<(f64, f64)> = stats.iter().map(|s| bounds(method, s, threshold)).collect();
    let indices = match method {
        Method::Iqr => select_grouped(x, groups.codes, &bounds, par, cancel, |v, a, b| {
            (v < a) | (v > b)
        })?,
        _ => select_grouped(x, groups.codes, &bounds, par, cancel, |v, a, b| {
            (v - a).abs() > b
        })?,
    };
    Ok(Detection { indices, stats })
}

/// `f` of each group's values, in group order: in parallel across groups
/// on the workers, each group inline unless it is large enough to repay
/// threads of its own. Every statistic gives the same bits either way.
fn per_group<R: Send>(
    groups: Vec<&mut [f64]>,
    par: Par,
    cancel: &Cancel,
    f: impl Fn(&mut [f64], Par) -> Result<R, RwError> + Sync + Send,
) -> Result<Vec<R>, RwError> {
    let one = |values: &mut [f64]| {
        cancel.check()?;
        let inner = if par == Par::Workers && values.len() > INLINE_MAX_VALUES {
            Par::Workers
        } else {
            Par::Inline
        };
        f(values, inner)
    };
    match par {
        Par::Inline => groups.into_iter().map(one).collect(),
        Par::Workers => groups.into_par_iter().map(one).collect(),
    }
}

/// The statistics of `method` from finite values only, which it reorders.
fn finite_stats(
    finite: &mut [f64],
    method: Method,
    threshold: f64,
    par: Par,
    cancel: &Cancel,
) -> Result<Stats, RwError> {
    Ok(match method {
        Method::ZScore => {
            let m = moments(finite, par, cancel)?;
            Stats::around(m.mean(), m.population_sd(), threshold)
        }
        Method::Mad => {
            let (center, scale) = median_and_scale(finite, par, cancel)?;
            Stats::around(center, scale, threshold)
        }
        Method::Iqr => match hinges(finite) {
            Some([h1, h2, h3]) => {
                // As boxplot.stats(): iqr <- diff(stats[c(2, 4)]), fences
                // stats[2] - coef * iqr and stats[4] + coef * iqr.
                let iqr = h3 - h1;
                Stats {
                    center: h2,
                    scale: iqr,
                    lower: h1 - threshold * iqr,
                    upper: h3 + threshold * iqr,
                }
            }
            None => Stats::UNDEFINED,
        },
        Method::Hampel => Stats::UNDEFINED,
    })
}

/// The two numbers a value is compared with, so that one comparison that
/// NaN always fails and the infinities always pass decides. Z-score and
/// MAD: `abs(v - a) > b`; without a centre or a spread nothing finite is
/// judged, so only |v| > f64::MAX, the infinities, passes. Fences:
/// `v < a || v > b`, clamped to the finite range so that infinities pass.
fn bounds(method: Method, stats: &Stats, threshold: f64) -> (f64, f64) {
    match method {
        Method::Iqr => (stats.lower.max(-f64::MAX), stats.upper.min(f64::MAX)),
        _ => {
            let Stats { center, scale, .. } = *stats;
            if center.is_finite() && scale.is_finite() && scale > 0.0 {
                (center, (threshold * scale).min(f64::MAX))
            } else {
                (0.0, f64::MAX)
            }
        }
    }
}

/// Count, mean and sum of squared deviations of the finite values. The mean
/// is kept relative to a shift (the first finite value), so that data far
/// from 0, such as `1e9 + noise`, loses no precision in the sums, and
/// constant data give exactly their value and a spread of exactly 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    pub n: f64,
    pub shift: f64,
    pub shifted_mean: f64,
    pub m2: f64,
}

impl Moments {
    fn empty(shift: f64) -> Moments {
        Moments {
            n: 0.0,
            shift,
            shifted_mean: 0.0,
            m2: 0.0,
        }
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0.0 {
            f64::NAN
        } else {
            self.shift + self.shifted_mean
        }
    }

    /// Divisor n, as numpy's `std()` in the seed.
    pub fn population_sd(&self) -> f64 {
        if self.n == 0.0 {
            f64::NAN
        } else {
            (self.m2 / self.n).sqrt()
        }
    }

    /// Chan et al.'s pairwise update: exact in exact arithmetic and stable
    /// in floating point, so chunks can be combined in any grouping. Both
    /// sides must share the shift.
    pub fn merge(self, other: Moments) -> Moments {
        if other.n == 0.0 {
            return self;
        }
        if self.n == 0.0 {
            return other;
        }
        let n = self.n + other.n;
        let delta = other.shifted_mean - self.shifted_mean;
        Moments {
            n,
            shift: self.shift,
            shifted_mean: self.shifted_mean + delta * (other.n / n),
            m2: self.m2 + other.m2 + delta * delta * (self.n * other.n / n),
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
fn pairwise<T: Copy>(mut parts: Vec<T>, merge: impl Fn(T, T) -> T) -> Option<T> {
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
/// reordering any one sum. Chunks without NaN or infinities, the usual
/// case, take a path with no per-element test: a finite total proves it.
fn chunk_moments<T: Sample>(chunk: &[T], shift: f64) -> Moments {
    let total = lane_sum(chunk, |v| v - shift);
    let (n, sum) = if total.is_finite() {
        (chunk.len() as f64, total)
    } else {
        let n = lane_sum(chunk, |v| if v.is_finite() { 1.0 } else { 0.0 });
        (
            n,
            lane_sum(chunk, |v| if v.is_finite() { v - shift } else { 0.0 }),
        )
    };
    if n == 0.0 {
        return Moments::empty(shift);
    }
    let shifted_mean = sum / n;
    // The centre rounded once; the error it adds to m2 is of second order.
    let center = shift + shifted_mean;
    let m2 = if n == chunk.len() as f64 {
        lane_sum(chunk, |v| (v - center) * (v - center))
    } else {
        lane_sum(chunk, |v| {
            if v.is_finite() {
                (v - center) * (v - center)
            } else {
                0.0
            }
        })
    };
    Moments {
        n,
        shift,
        shifted_mean,
        m2,
    }
}

/// Sum of `f(value)` over a chunk in eight independent lanes.
#[inline(always)]
fn lane_sum<T: Sample>(chunk: &[T], f: impl Fn(f64) -> f64) -> f64 {
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
fn finite_values<T: Sample>(x: &[T], par: Par, cancel: &Cancel) -> Result<Vec<f64>, RwError> {
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
pub(crate) fn mid(a: f64, b: f64) -> f64 {
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
fn order_statistics(values: &mut [f64], positions: &[usize]) -> Vec<f64> {
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

/// Ascending 0-based indices, kept as one list of offsets per piece of the
/// input: no second copy of what can be millions of indices.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Indices {
    pieces: Vec<Vec<u32>>,
}

impl Indices {
    /// From the offsets found in each consecutive piece of `PIECE` elements.
    pub(crate) fn from_pieces(pieces: Vec<Vec<u32>>) -> Indices {
        Indices { pieces }
    }

    /// From a bit set: bit `i % 64` of word `i / 64` set for index `i`.
    pub(crate) fn from_bits(bits: &[u64], par: Par) -> Indices {
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
fn select<T: Sample>(
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
fn select_grouped<T: Sample>(
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

/// A small deterministic generator (xorshift64*), so tests need no crate.
#[cfg(test)]
pub(crate) struct Rng(pub u64);

#[cfg(test)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Runtime;

    fn request(method: Method, threshold: f64) -> Request {
        Request {
            method,
            threshold,
            window: 3,
            given: None,
        }
    }

    fn run<T: Sample>(x: &[T], threshold: f64, method: Method) -> Detection {
        detect(
            x,
            None,
            &request(method, threshold),
            Par::Inline,
            &Cancel::default(),
        )
        .unwrap()
    }

    fn stats<T: Sample>(x: &[T], threshold: f64, method: Method) -> Stats {
        run(x, threshold, method).stats[0]
    }

    fn on_workers<T: Sample>(threads: usize, x: &[T], threshold: f64, method: Method) -> Detection {
        Runtime::new(threads, None)
            .run_on_values(usize::MAX, |par, cancel| {
                detect(x, None, &request(method, threshold), par, cancel)
            })
            .unwrap()
    }

    #[test]
    fn the_seed_example() {
        let mut rng = Rng(42);
        let mut x: Vec<f64> = (0..1000).map(|_| rng.uniform()).collect();
        for i in [7, 113, 835] {
            x[i] = 97.0;
        }
        // The Hampel filter judges each value by its neighbours: hampel.rs.
        for method in [Method::ZScore, Method::Mad, Method::Iqr] {
            assert_eq!(
                run(&x, 2.0, method).indices.to_vec(),
                vec![7, 113, 835],
                "{method:?}"
            );
        }
    }

    #[test]
    fn non_finite_values() {
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        let d = run(&[1.0, 2.0, nan, inf, 3.0, -inf], 2.0, Method::ZScore);
        assert_eq!(d.indices.to_vec(), vec![3, 5]);
        assert_eq!(d.stats[0].center, 2.0);
        assert!((d.stats[0].scale - (2.0f64 / 3.0).sqrt()).abs() < 1e-15);
        for method in Method::ALL {
            let d = run(&[nan, inf, nan, -inf], 2.0, method);
            assert_eq!(d.indices.to_vec(), vec![1, 3], "{method:?}");
            assert!(d.stats[0].center.is_nan() && d.stats[0].upper.is_nan());
            let d = run::<f64>(&[], 2.0, method);
            assert!(d.indices.is_empty() && d.stats[0].center.is_nan());
            let d = run(&[0.1; 10], 0.5, method);
            assert_eq!(d.indices.len(), 0, "{method:?}");
            let d = run(&[5.0, 5.0, 5.0, 5.0, 5.0, inf][..], 0.0, method);
            assert_eq!(d.indices.to_vec(), vec![5], "{method:?}");
        }
        let constant = stats(&[0.1; 10], 0.5, Method::Mad);
        assert_eq!((constant.center, constant.scale), (0.1, 0.0));
        assert_eq!((constant.lower, constant.upper), (0.1, 0.1));
    }

    #[test]
    fn integers_with_na() {
        let x = [1, 2, NA_INTEGER, 3, 1000, 2, 1, 3, 2, 2];
        let as_f64: Vec<f64> = x.iter().map(|v| v.value()).collect();
        assert_eq!(run(&x, 2.0, Method::ZScore).indices.to_vec(), vec![4]);
        for method in Method::ALL {
            assert_eq!(run(&as_f64, 2.0, method), run(&x, 2.0, method));
        }
    }

    #[test]
    fn mad_rule() {
        let d = run(&[1.0, 2.0, 3.0, 4.0, 100.0], 2.0, Method::Mad);
        assert_eq!(
            (d.indices.to_vec(), d.stats[0].center, d.stats[0].scale),
            (vec![4], 3.0, MAD_CONSTANT)
        );
        let mut even = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(median_in_place(&mut even), Some(2.5));
        assert_eq!(median_in_place(&mut []), None);
        let d = run(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0.0, Method::Mad);
        assert_eq!(d.stats[0].center, 3.5);
        assert_eq!(d.stats[0].scale, MAD_CONSTANT * 1.5);
        assert_eq!(d.indices.to_vec(), vec![0, 1, 2, 3, 4, 5]);
    }

    /// Exact cases: every deviation and mean below is a sum of powers of two.
    #[test]
    fn a_mad_of_0_falls_back_to_the_mean_absolute_deviation() {
        let cases: &[(&[f64], f64, f64, &[usize])] = &[
            // values, centre, scale (exact), outliers at threshold 2
            (
                &[1.0, 1.0, 1.0, 1.0, 9.0],
                1.0,
                MEAN_AD_CONSTANT * 1.6,
                &[4],
            ),
            (
                &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0],
                0.0,
                MEAN_AD_CONSTANT * 0.5,
                &[7],
            ),
            (&[2.0, 2.0, 2.0, 3.0], 2.0, MEAN_AD_CONSTANT * 0.25, &[3]),
            (&[7.0, 7.0, 7.0], 7.0, 0.0, &[]),
            // The MAD is not 0: no fallback.
            (&[1.0, 2.0, 3.0, 4.0], 2.5, MAD_CONSTANT, &[]),
        ];
        for &(x, center, scale, want) in cases {
            for par in [Par::Inline, Par::Workers] {
                let d = detect(x, None, &request(Method::Mad, 2.0), par, &Cancel::default());
                let d = d.unwrap();
                assert_eq!(
                    (d.stats[0].center, d.stats[0].scale),
                    (center, scale),
                    "{x:?}"
                );
                assert_eq!(d.indices.to_vec(), want, "{x:?}");
            }
        }
    }

    /// R 4.2: fivenum(x) for each x; the hinges are the 2nd and 4th values.
    #[test]
    fn hinges_are_fivenums() {
        let cases: &[(&[f64], [f64; 3])] = &[
            (&[5.0], [5.0, 5.0, 5.0]),
            (&[1.0, 2.0], [1.0, 1.5, 2.0]),
            (&[3.0, 1.0, 2.0], [1.5, 2.0, 2.5]),
            (&[4.0, 1.0, 3.0, 2.0], [1.5, 2.5, 3.5]),
            (&[1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 3.0, 4.0]),
            (&[6.0, 5.0, 4.0, 3.0, 2.0, 1.0], [2.0, 3.5, 5.0]),
            (&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [2.5, 4.0, 5.5]),
            (&[1.0, 1.0, 1.0, 1.0, 50.0], [1.0, 1.0, 1.0]),
            (
                &[10.0, 1.0, 9.0, 2.0, 8.0, 3.0, 7.0, 4.0, 6.0, 5.0],
                [3.0, 5.5, 8.0],
            ),
            (
                &[-0.5, 0.25, 1e300, -1e300, 0.0, 0.0, 2.0, 2.0],
                [-0.25, 0.125, 2.0],
            ),
        ];
        for (x, want) in cases {
            let mut copy = x.to_vec();
            assert_eq!(hinges(&mut copy), Some(*want), "{x:?}");
        }
        assert_eq!(hinges(&mut []), None);
    }

    #[test]
    fn tukey_fences() {
        // fivenum of the finite values: -1.5, 2, 3, 4, 7.5 (IQR 2), so the
        // fences are -1 and 7 at 1.5.
        let x = [
            2.0,
            3.0,
            4.0,
            3.0,
            3.0,
            -1.0,
            7.0,
            -1.5,
            7.5,
            f64::NAN,
            f64::INFINITY,
        ];
        let d = run(&x, 1.5, Method::Iqr);
        let s = d.stats[0];
        assert_eq!((s.center, s.scale, s.lower, s.upper), (3.0, 2.0, -1.0, 7.0));
        assert_eq!(
            d.indices.to_vec(),
            vec![7, 8, 10],
            "on a fence is not outside"
        );
        // An IQR of 0 reports everything off the hinges, as boxplot.stats().
        let d = run(&[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.5], 1.5, Method::Iqr);
        assert_eq!(d.indices.to_vec(), vec![6]);
        // threshold 0: outside the hinges themselves.
        let d = run(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.0, Method::Iqr);
        assert_eq!(d.indices.to_vec(), vec![0, 4]);
        // Fences past f64::MAX: no finite value is outside, infinities are.
        let d = run(&[-1e308, 1e308, 0.0, 1.0, -f64::INFINITY], 1.5, Method::Iqr);
        assert_eq!(d.indices.to_vec(), vec![4]);
    }

    #[test]
    fn order_statistics_agree_with_a_sort() {
        let mut rng = Rng(11);
        for n in [1usize, 2, 3, 7, 64, 1000] {
            let x: Vec<f64> = (0..n).map(|_| (rng.below(20) as f64) - 5.0).collect();
            let mut sorted = x.clone();
            sorted.sort_by(f64::total_cmp);
            let positions = [0, n / 4, n / 4, n / 2, n - 1];
            let mut copy = x.clone();
            let got = order_statistics(&mut copy, &positions);
            let want: Vec<f64> = positions.iter().map(|&p| sorted[p]).collect();
            assert_eq!(got, want, "n = {n}");
        }
    }

    #[test]
    fn mid_is_rs_midpoint() {
        assert_eq!(mid(1.0, 2.0), 1.5);
        assert_eq!(mid(f64::MAX, f64::MAX), f64::MAX);
        assert_eq!(mid(-f64::MAX, f64::MAX), 0.0);
        assert_eq!(mid(0.1, 0.2), 0.5 * (0.1 + 0.2));
    }

    #[test]
    fn grouped_equals_each_group_alone() {
        let mut rng = Rng(5);
        let n = 5000;
        let x: Vec<f64> = (0..n)
            .map(|i| match i % 97 {
                0 => f64::NAN,
                1 => 50.0,
                2 => f64::INFINITY,
                _ => rng.uniform() * (1 + i % 7) as f64,
            })
            .collect();
        let codes: Vec<i32> = (0..n)
            .map(|_| match rng.below(9) {
                0 => NA_INTEGER,
                g => g as i32,
            })
            .collect();
        // Group 9 has no members; 10 is empty too (codes 1..=8 only).
        let groups = Grouping {
            codes: &codes,
            count: 10,
        };
        for method in Method::ALL {
            for par in [Par::Inline, Par::Workers] {
                let got = detect(
                    &x,
                    Some(groups),
                    &request(method, 1.5),
                    par,
                    &Cancel::default(),
                )
                .unwrap();
                let mut want = Vec::new();
                for g in 1..=10 {
                    let members: Vec<usize> = (0..n).filter(|&i| codes[i] == g).collect();
                    let values: Vec<f64> = members.iter().map(|&i| x[i]).collect();
                    let alone = run(&values, 1.5, method);
                    want.extend(alone.indices.iter().map(|j| members[j]));
                    // The same statistics; summed in another order (the
                    // group's finite values only), so to rounding.
                    let (a, b) = (got.stats[g as usize - 1], alone.stats[0]);
                    for (u, v) in [(a.center, b.center), (a.upper, b.upper)] {
                        assert!(
                            (u.is_nan() && v.is_nan()) || (u - v).abs() <= 1e-12 * v.abs(),
                            "{method:?} group {g}: {u} vs {v}"
                        );
                    }
                }
                want.sort_unstable();
                assert_eq!(got.indices.to_vec(), want, "{method:?} {par:?}");
            }
        }
    }

    #[test]
    fn bad_group_codes_are_value_errors() {
        let x = [1.0, 2.0, 3.0];
        for codes in [[1, 2, 3], [0, 1, 1], [1, -4, 1]] {
            let groups = Grouping {
                codes: &codes,
                count: 2,
            };
            for method in Method::ALL {
                let err = detect(
                    &x,
                    Some(groups),
                    &request(method, 2.0),
                    Par::Inline,
                    &Cancel::default(),
                )
                .unwrap_err();
                assert_eq!(err.kind(), "value", "{codes:?}");
                assert!(err.to_string().starts_with("`by`"), "{err}");
            }
        }
        let short = Grouping {
            codes: &[1, 1],
            count: 1,
        };
        let err = detect(
            &x,
            Some(short),
            &request(Method::ZScore, 2.0),
            Par::Inline,
            &Cancel::default(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), "internal");
    }

    /// `1e9 + noise`, the noise in multiples of 2^-10 so that every value,
    /// and every sum in i128, is exact: the reference is exact arithmetic.
    #[test]
    fn stable_far_from_zero() {
        let mut rng = Rng(7);
        let n = 300_001usize;
        let scaled: Vec<i128> = (0..n)
            .map(|_| 1_000_000_000 * 1024 + (rng.next_u64() % 8193) as i128 - 4096)
            .collect();
        let x: Vec<f64> = scaled.iter().map(|&k| k as f64 / 1024.0).collect();
        let sum: i128 = scaled.iter().sum();
        let nn = n as i128;
        // mean = sum / (1024 n); m2 * 1024^2 * n = n * sum(k^2) - sum^2
        let base = 1_000_000_000i128 * 1024 * nn;
        let mean = 1e9 + (sum - base) as f64 / (1024.0 * n as f64);
        let centred: i128 = scaled.iter().map(|&k| (k - sum / nn).pow(2)).sum();
        let rem = sum % nn;
        // sum((k - s/n)^2) with s/n split into its integer part and rem/n
        let m2_scaled = centred as f64 - (rem as f64).powi(2) / n as f64;
        let sd = (m2_scaled / n as f64).sqrt() / 1024.0;
        let want: Vec<usize> = (0..n).filter(|&i| (x[i] - mean).abs() > 2.0 * sd).collect();
        let d = on_workers(2, &x, 2.0, Method::ZScore);
        assert_eq!(d.stats[0].center, mean);
        assert!(
            (d.stats[0].scale / sd - 1.0).abs() < 1e-12,
            "{} vs {sd}",
            d.stats[0].scale
        );
        assert_eq!(d.indices.to_vec(), want);
        // The textbook one-pass formula loses everything here.
        let naive_var = x.iter().map(|v| v * v).sum::<f64>() / n as f64 - mean * mean;
        assert!((naive_var.max(0.0).sqrt() / sd - 1.0).abs() > 0.01);
    }

    #[test]
    fn threads_and_chunking_do_not_change_results() {
        let mut rng = Rng(3);
        let x: Vec<f64> = (0..CHUNK * 40 + 17)
            .map(|i| {
                if i % 1000 == 3 {
                    f64::NAN
                } else if i % 997 == 5 {
                    5e3
                } else {
                    (rng.uniform() - 0.5) * 1e3
                }
            })
            .collect();
        for method in Method::ALL {
            let one = on_workers(1, &x, 1.0, method);
            let two = on_workers(2, &x, 1.0, method);
            let inline = run(&x, 1.0, method);
            assert_eq!(one, two);
            assert_eq!(one, inline, "inline and workers agree to the bit");
            let found = one.indices.to_vec();
            assert!(!found.is_empty() && found.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(one.indices.last(), found.last().copied());
            assert_eq!(one.indices.len(), found.len());
        }
    }

    #[test]
    fn indices_from_bits() {
        let n = PIECE * 2 + 70;
        let want = vec![0, 63, 64, PIECE - 1, PIECE, PIECE * 2 + 69];
        let mut bits = vec![0u64; n.div_ceil(64)];
        for &i in &want {
            bits[i / 64] |= 1 << (i % 64);
        }
        for par in [Par::Inline, Par::Workers] {
            let got = Indices::from_bits(&bits, par);
            assert_eq!(got.to_vec(), want);
            assert_eq!(got.last(), Some(PIECE * 2 + 69));
        }
    }

    #[test]
    fn cancel_stops_with_interrupted() {
        let x = vec![1.0; CHUNK * 4];
        let codes = vec![1; CHUNK * 4];
        let cancel = Cancel::default();
        cancel.set();
        for method in Method::ALL {
            let err = detect(&x, None, &request(method, 2.0), Par::Inline, &cancel).unwrap_err();
            assert_eq!(err.kind(), "interrupt");
            let groups = Some(Grouping {
                codes: &codes,
                count: 1,
            });
            let err = detect(&x, groups, &request(method, 2.0), Par::Inline, &cancel).unwrap_err();
            assert_eq!(err.kind(), "interrupt");
        }
    }

    #[test]
    fn method_names() {
        for method in Method::ALL {
            assert_eq!(Method::from_name(method.name()), Some(method));
        }
        assert_eq!(Method::from_name("iqr"), Some(Method::Iqr));
        assert_eq!(Method::from_name("median"), None);
    }

    #[test]
    fn a_given_centre_and_scale_replace_the_statistics() {
        let mut rng = Rng(5);
        let x: Vec<f64> = (0..5000)
            .map(|_| rng.uniform())
            .chain([40.0, -3.0])
            .collect();
        for method in [Method::ZScore, Method::Mad] {
            let whole = run(&x, 2.0, method);
            let stats = whole.stats[0];
            let given = Request {
                given: Some((stats.center, stats.scale)),
                ..request(method, 2.0)
            };
            let again = detect(&x, None, &given, Par::Inline, &Cancel::default()).unwrap();
            assert_eq!(again, whole, "{method:?}");
            // Scored against another baseline, the same data differ.
            let other = Request {
                given: Some((0.0, 0.1)),
                ..request(method, 2.0)
            };
            let shifted = detect(&x, None, &other, Par::Inline, &Cancel::default()).unwrap();
            assert!(shifted.indices.len() > whole.indices.len());
            assert_eq!(shifted.stats[0].center, 0.0);
        }
    }
}
