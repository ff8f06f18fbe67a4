//! Outlier detection on numeric slices: the z-score rule (mean and population
//! standard deviation) and the MAD rule (median and scaled median absolute
//! deviation), computed from the finite values only. Reads the input in
//! place, inline or in parallel as the runtime says, and never writes to
//! it; the result does not depend on which. Never touches R.

use crate::errors::{try_vec, RwError};
use crate::runtime::{Cancel, Par};
use rayon::prelude::*;

/// The consistency constant that makes the MAD estimate the standard
/// deviation of normal data (R's `mad()` default).
pub const MAD_CONSTANT: f64 = 1.4826;

/// Elements per chunk: small enough that a chunk stays in L1 cache for the
/// second, centred pass over it.
const CHUNK: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    ZScore,
    Mad,
}

impl Method {
    pub const ALL: [Method; 2] = [Method::ZScore, Method::Mad];

    pub fn name(self) -> &'static str {
        match self {
            Method::ZScore => "zscore",
            Method::Mad => "mad",
        }
    }

    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }
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

/// What was found: 0-based indices in ascending order, and the centre and
/// scale used (NaN where undefined).
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub indices: Indices,
    pub center: f64,
    pub scale: f64,
}

/// Indices `i` where `abs(x[i] - center) > threshold * scale`. Infinite
/// values are always reported; NaN never. When the centre is undefined or
/// the scale is 0, only infinite values are reported.
pub fn detect<T: Sample>(
    x: &[T],
    threshold: f64,
    method: Method,
    par: Par,
    cancel: &Cancel,
) -> Result<Detection, RwError> {
    let (center, scale) = match method {
        Method::ZScore => {
            let m = moments(x, par, cancel)?;
            (m.mean(), m.population_sd())
        }
        Method::Mad => median_and_mad(x, par, cancel)?,
    };
    // Beyond `limit` from `center`, as one comparison that NaN always fails
    // and infinities always pass. Without a centre or a spread, nothing
    // finite is judged: only |v| > f64::MAX, the infinities, passes.
    let judged = center.is_finite() && scale.is_finite() && scale > 0.0;
    let (from, limit) = if judged {
        (center, (threshold * scale).min(f64::MAX))
    } else {
        (0.0, f64::MAX)
    };
    let indices = select(x, from, limit, par, cancel)?;
    Ok(Detection {
        indices,
        center,
        scale,
    })
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
    let mut parts = par.map_chunks(x, CHUNK, |chunk| match cancel.check() {
        Ok(()) => chunk_moments(chunk, shift),
        Err(_) => Moments::empty(shift),
    });
    cancel.check()?;
    let mut width = 1;
    while width < parts.len() {
        for i in (0..parts.len() - width).step_by(2 * width) {
            parts[i] = parts[i].merge(parts[i + width]);
        }
        width *= 2;
    }
    Ok(parts.first().copied().unwrap_or(Moments::empty(shift)))
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

/// Median of the finite values and `MAD_CONSTANT` times the median absolute
/// deviation from it, by selection (no full sort); NaN when there are none.
pub fn median_and_mad<T: Sample>(
    x: &[T],
    par: Par,
    cancel: &Cancel,
) -> Result<(f64, f64), RwError> {
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
    let Some(center) = median_in_place(&mut finite) else {
        return Ok((f64::NAN, f64::NAN));
    };
    par.for_each_mut(&mut finite, |v| *v = (*v - center).abs());
    cancel.check()?;
    let mad = median_in_place(&mut finite).unwrap_or(f64::NAN);
    Ok((center, MAD_CONSTANT * mad))
}

/// The median (mean of the two middle values for an even count), reordering
/// `values`; `None` when empty. Values must not be NaN.
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
    Some(lower_mid + (upper_mid - lower_mid) / 2.0)
}

/// Elements per piece of the selection pass: offsets within a piece fit
/// in a `u32`, and a piece's bit masks fit in a small array.
const PIECE: usize = CHUNK * 16;

/// Ascending 0-based indices, kept as one list of offsets per piece of the
/// input: no second copy of what can be millions of indices.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Indices {
    pieces: Vec<Vec<u32>>,
}

impl Indices {
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

/// The values with `abs(v - from) > limit`. Each block of 64 values becomes
/// a bit mask first (branch-free, so it vectorises); the masks of a piece
/// are counted, so its offsets are stored once, at their exact size.
fn select<T: Sample>(
    x: &[T],
    from: f64,
    limit: f64,
    par: Par,
    cancel: &Cancel,
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
                *mask |= u64::from((t.value() - from).abs() > limit) << j;
            }
        }
        let count = masks.iter().map(|m| m.count_ones() as usize).sum();
        let mut hits = Vec::with_capacity(count);
        for (b, &mask) in masks.iter().enumerate() {
            let mut mask = mask;
            while mask != 0 {
                hits.push((b * 64) as u32 + mask.trailing_zeros());
                mask &= mask - 1;
            }
        }
        hits
    });
    cancel.check()?;
    Ok(Indices { pieces })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Runtime;

    /// A small deterministic generator (xorshift64*), so tests need no crate.
    struct Rng(u64);

    impl Rng {
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn uniform(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn run<T: Sample>(x: &[T], threshold: f64, method: Method) -> Detection {
        detect(x, threshold, method, Par::Inline, &Cancel::default()).unwrap()
    }

    fn on_workers<T: Sample>(threads: usize, x: &[T], threshold: f64, method: Method) -> Detection {
        Runtime::new(threads, None)
            .run_on_values(usize::MAX, |par, cancel| {
                detect(x, threshold, method, par, cancel)
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
        assert_eq!(
            run(&x, 2.0, Method::ZScore).indices.to_vec(),
            vec![7, 113, 835]
        );
        assert_eq!(
            run(&x, 2.0, Method::Mad).indices.to_vec(),
            vec![7, 113, 835]
        );
    }

    #[test]
    fn non_finite_values() {
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        let d = run(&[1.0, 2.0, nan, inf, 3.0, -inf], 2.0, Method::ZScore);
        assert_eq!(d.indices.to_vec(), vec![3, 5]);
        assert_eq!(d.center, 2.0);
        assert!((d.scale - (2.0f64 / 3.0).sqrt()).abs() < 1e-15);
        for method in [Method::ZScore, Method::Mad] {
            let d = run(&[nan, inf, nan, -inf], 2.0, method);
            assert_eq!(d.indices.to_vec(), vec![1, 3]);
            assert!(d.center.is_nan() && d.scale.is_nan());
            let d = run::<f64>(&[], 2.0, method);
            assert!(d.indices.is_empty() && d.center.is_nan());
            let d = run(&[0.1; 10], 0.5, method);
            assert_eq!((d.indices.len(), d.center, d.scale), (0, 0.1, 0.0));
            let d = run(&[5.0, 5.0, 5.0, 5.0, 9.0, inf][..], 0.0, Method::Mad);
            assert_eq!(
                d.indices.to_vec(),
                vec![5],
                "MAD of 0 judges no finite value"
            );
        }
    }

    #[test]
    fn integers_with_na() {
        let x = [1, 2, NA_INTEGER, 3, 1000, 2, 1, 3, 2, 2];
        let d = run(&x, 2.0, Method::ZScore);
        assert_eq!(d.indices.to_vec(), vec![4]);
        let as_f64: Vec<f64> = x.iter().map(|v| v.value()).collect();
        assert_eq!(run(&as_f64, 2.0, Method::ZScore), d);
        assert_eq!(run(&as_f64, 2.0, Method::Mad), run(&x, 2.0, Method::Mad));
    }

    #[test]
    fn mad_rule() {
        let d = run(&[1.0, 2.0, 3.0, 4.0, 100.0], 2.0, Method::Mad);
        assert_eq!(
            (d.indices.to_vec(), d.center, d.scale),
            (vec![4], 3.0, MAD_CONSTANT)
        );
        let mut even = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(median_in_place(&mut even), Some(2.5));
        assert_eq!(median_in_place(&mut []), None);
        let d = run(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0.0, Method::Mad);
        assert_eq!(d.center, 3.5);
        assert_eq!(d.scale, MAD_CONSTANT * 1.5);
        assert_eq!(d.indices.to_vec(), vec![0, 1, 2, 3, 4, 5]);
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
        assert_eq!(d.center, mean);
        assert!((d.scale / sd - 1.0).abs() < 1e-12, "{} vs {sd}", d.scale);
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
                } else {
                    (rng.uniform() - 0.5) * 1e3
                }
            })
            .collect();
        for method in [Method::ZScore, Method::Mad] {
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
    fn cancel_stops_with_interrupted() {
        let x = vec![1.0; CHUNK * 4];
        let cancel = Cancel::default();
        cancel.set();
        for method in [Method::ZScore, Method::Mad] {
            let err = detect(&x, 2.0, method, Par::Inline, &cancel).unwrap_err();
            assert_eq!(err.kind(), "interrupt");
        }
    }

    #[test]
    fn method_names() {
        assert_eq!(Method::from_name("zscore"), Some(Method::ZScore));
        assert_eq!(Method::from_name("mad"), Some(Method::Mad));
        assert_eq!(Method::from_name("median"), None);
    }
}
