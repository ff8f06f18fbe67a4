//! The generalized ESD test (Rosner 1983), as `EnvStats::rosnerTest()`
//! decides: on the finite values, up to `k` times, the value farthest from
//! the mean of those left (the first in `x` on a tie) is taken out, with
//! `R_i = |value - mean| / sd` (sd with divisor n - 1) and the critical
//! value `lambda_i`; the outliers are the first `m` taken, `m` the largest
//! `i` with `R_i > lambda_i`. The value farthest from the mean is always
//! the largest or the smallest left, so only the `k` largest and `k`
//! smallest values are kept aside; the moments of the rest are computed
//! once, and those of each step merged from them (stable: values are only
//! ever added, never subtracted). Never touches R.

use super::indices::PIECE;
use super::sample::Sample;
use super::stats::{chunk_moments_where, lane_sum, moments_where, pairwise, Moments, Stats, CHUNK};
use crate::errors::RwError;
use crate::runtime::{Cancel, Par};
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::cmp::Ordering;

/// The test's parameters: at most `max_outliers` values tested, at level
/// `alpha`; `strict`: more than the finite values allow (n - 2) is an
/// error rather than lowered to fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gesd {
    pub max_outliers: usize,
    pub alpha: f64,
    pub strict: bool,
}

/// A finite value and its index in `x`.
type Item = (f64, usize);

/// Largest first, the first in `x` first among equals.
fn high_first(a: &Item, b: &Item) -> Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// Smallest first, the first in `x` first among equals.
fn low_first(a: &Item, b: &Item) -> Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
}

/// Rosner's critical value for step `i` (1-based) of `n` values:
/// `t (n - i) / sqrt((n - i - 1 + t^2) (n - i + 1))`, `t` the
/// `1 - alpha / (2 (n - i + 1))` quantile of Student's t with `n - i - 1`
/// degrees of freedom; NaN when there are none.
pub fn critical_value(n: usize, i: usize, alpha: f64) -> f64 {
    if n < i + 2 {
        return f64::NAN;
    }
    let df = (n - i - 1) as f64;
    let p = 1.0 - alpha / (2.0 * (n - i + 1) as f64);
    let Ok(t) = StudentsT::new(0.0, 1.0, df).map(|d| d.inverse_cdf(p)) else {
        return f64::NAN;
    };
    t * (n - i) as f64 / ((df + t * t) * (n - i + 1) as f64).sqrt()
}

/// What the test found on one set of values: the indices in `x` of its
/// outliers (in the order taken out), and the statistics of the values
/// kept: their mean, sd, and the band `mean -/+ lambda * sd` for the
/// next step's critical value (NaN when there is none).
#[derive(Debug, Clone, PartialEq)]
pub struct Tested {
    pub outliers: Vec<usize>,
    pub stats: Stats,
}

impl Tested {
    /// Too few values to test: nothing found, no statistics.
    const NONE: Tested = Tested {
        outliers: Vec::new(),
        stats: Stats::UNDEFINED,
    };
}

impl Gesd {
    /// The number of values tested among `n` finite ones; an error when
    /// `strict` and more were asked for than `n - 2`.
    fn tested(&self, n: usize) -> Result<usize, RwError> {
        let most = n.saturating_sub(2);
        if self.strict && self.max_outliers > most {
            return Err(RwError::Value {
                arg: "max_outliers",
                reason: format!(
                    "must be at most the number of finite values of `x` less 2 ({most}), not {}",
                    self.max_outliers
                ),
            });
        }
        Ok(self.max_outliers.min(most))
    }

    /// The steps of the test: `low` the smallest candidates ascending,
    /// `high` the largest descending (disjoint), `core` the moments of
    /// every other finite value, `n` the count of all.
    fn run(&self, low: &[Item], high: &[Item], core: Moments, n: usize, k: usize) -> Tested {
        // The moments of low[l..] and of high[h..], added from the inside
        // out, so each step's moments are three merges.
        let suffix = |items: &[Item]| -> Vec<Moments> {
            let mut out = vec![Moments::constant(0.0, 0.0); items.len() + 1];
            for (at, &(v, _)) in items.iter().enumerate().rev() {
                out[at] = out[at + 1].merge(Moments::constant(v, 1.0));
            }
            out
        };
        let (low_left, high_left) = (suffix(low), suffix(high));
        let left = |l: usize, h: usize| core.merge(low_left[l]).merge(high_left[h]);
        let (mut l, mut h) = (0, 0);
        let mut taken: Vec<usize> = Vec::with_capacity(k);
        let mut last = 0;
        for i in 1..=k {
            let m = left(l, h);
            let (mean, sd) = (m.mean(), m.sample_sd());
            let distance = |item: Option<&Item>| item.map(|&(v, j)| ((v - mean).abs(), j));
            let pick_low = match (distance(low.get(l)), distance(high.get(h))) {
                (Some((dl, jl)), Some((dh, jh))) => dl > dh || (dl == dh && jl < jh),
                (Some(_), None) => true,
                (None, _) => false,
            };
            let (v, j) = if pick_low { low[l] } else { high[h] };
            if pick_low {
                l += 1;
            } else {
                h += 1;
            }
            taken.push(j);
            if (v - mean).abs() / sd > critical_value(n, i, self.alpha) {
                last = i;
            }
        }
        taken.truncate(last);
        // The values kept: the first `last` taken are out.
        let (mut l, mut h) = (0, 0);
        for &j in &taken {
            if low.get(l).is_some_and(|&(_, at)| at == j) {
                l += 1;
            } else {
                h += 1;
            }
        }
        Tested {
            outliers: taken,
            stats: self.kept_stats(left(l, h), n, last),
        }
    }

    /// The test on the finite values among `items` (a group's values with
    /// their indices), which it reorders.
    pub fn test_items(&self, items: &mut Vec<Item>) -> Result<Tested, RwError> {
        items.retain(|&(v, _)| v.is_finite());
        let n = items.len();
        let k = self.tested(n)?;
        if n < 3 || k == 0 {
            return Ok(Tested::NONE);
        }
        if n <= 4 * k {
            return Ok(self.plainly(items, k));
        }
        // The k smallest to the front, the k largest to the back: as no
        // step can take more than k from one side, the farthest value
        // left is always one of them.
        items.select_nth_unstable_by(k - 1, low_first);
        items[k..].select_nth_unstable_by(n - 2 * k, low_first);
        let (low, rest) = items.split_at_mut(k);
        let (middle, high) = rest.split_at_mut(n - 2 * k);
        low.sort_unstable_by(low_first);
        high.sort_unstable_by(high_first);
        let values: Vec<f64> = middle.iter().map(|&(v, _)| v).collect();
        let core = moments_where(&values, Par::Inline, &Cancel::default(), |_| true)?;
        Ok(self.run(low, high, core, n, k))
    }

    /// The test as Rosner wrote it, each step's moments computed afresh:
    /// for few values (`items`, all finite), where the candidates would be
    /// most of them.
    fn plainly(&self, items: &mut Vec<Item>, k: usize) -> Tested {
        let n = items.len();
        items.sort_unstable_by_key(|a| a.1);
        let moments_of = |items: &[Item]| {
            items
                .iter()
                .fold(Moments::constant(0.0, 0.0), |m, &(v, _)| {
                    m.merge(Moments::constant(v, 1.0))
                })
        };
        let mut taken: Vec<Item> = Vec::with_capacity(k);
        let mut last = 0;
        for i in 1..=k {
            let m = moments_of(items);
            let (mean, sd) = (m.mean(), m.sample_sd());
            // The first in `x` of the farthest: items stay in index order.
            let mut at = 0;
            for (a, &(v, _)) in items.iter().enumerate() {
                if (v - mean).abs() > (items[at].0 - mean).abs() {
                    at = a;
                }
            }
            let (v, j) = items.remove(at);
            taken.push((v, j));
            if (v - mean).abs() / sd > critical_value(n, i, self.alpha) {
                last = i;
            }
        }
        // The values kept: those left, and those taken but not outliers.
        let kept = moments_of(items).merge(moments_of(&taken[last..]));
        Tested {
            outliers: taken[..last].iter().map(|&(_, j)| j).collect(),
            stats: self.kept_stats(kept, n, last),
        }
    }

    /// The statistics of the values kept after `last` outliers of `n`:
    /// their mean, sd and the band of the next step's critical value.
    fn kept_stats(&self, kept: Moments, n: usize, last: usize) -> Stats {
        let (center, scale) = (kept.mean(), kept.sample_sd());
        let lambda = critical_value(n, last + 1, self.alpha);
        Stats {
            center,
            scale,
            lower: center - lambda * scale,
            upper: center + lambda * scale,
        }
    }

    /// The test on the whole of `x`, read in place: one pass keeps the
    /// candidates (and the indices of infinite values), one finds the
    /// moments of the rest.
    pub fn test_whole<T: Sample>(
        &self,
        x: &[T],
        par: Par,
        cancel: &Cancel,
    ) -> Result<(Tested, Vec<usize>), RwError> {
        let k = self.max_outliers;
        let scans = par.map_chunks(x, PIECE, |piece| {
            if cancel.check().is_err() {
                return Scan::default();
            }
            Scan::of(piece, k)
        });
        cancel.check()?;
        let mut all = Scan::default();
        for (p, scan) in scans.into_iter().enumerate() {
            all.absorb(scan, p * PIECE, k);
        }
        let n = all.finite;
        let tested = self.tested(n)?;
        if n < 3 || tested == 0 {
            return Ok((Tested::NONE, all.infinite));
        }
        if n <= 4 * k {
            // Few values: a copy of the finite ones.
            let mut items: Vec<Item> = x.iter().enumerate().map(|(i, t)| (t.value(), i)).collect();
            return Ok((self.test_items(&mut items)?, all.infinite));
        }
        let (low, high) = (&all.low[..], &all.high[..]);
        let (lo, hi) = (low[low.len() - 1].0, high[high.len() - 1].0);
        // One pass: the moments of the values between the thresholds, and
        // the count of those equal to each.
        let between = |v: f64| (v > lo) & (v < hi);
        let shift = x
            .iter()
            .map(|t| t.value())
            .find(|&v| between(v))
            .unwrap_or(0.0);
        let parts = par.map_chunks(x, CHUNK, |chunk| {
            let count = |t: f64| lane_sum(chunk, |v| if v == t { 1.0 } else { 0.0 });
            (
                chunk_moments_where(chunk, shift, &between),
                count(lo),
                count(hi),
            )
        });
        cancel.check()?;
        let (equal_lo, equal_hi) = parts
            .iter()
            .fold((0.0, 0.0), |(a, b), &(_, c, d)| (a + c, b + d));
        let core = pairwise(
            parts.into_iter().map(|(m, _, _)| m).collect(),
            Moments::merge,
        )
        .unwrap_or(Moments::constant(0.0, 0.0));
        let among = |items: &[Item], t: f64| items.iter().filter(|&&(v, _)| v == t).count() as f64;
        let extra_lo = equal_lo - among(low, lo) - among(high, lo);
        let core = core.merge(Moments::constant(lo, extra_lo));
        let core = if hi != lo {
            core.merge(Moments::constant(hi, equal_hi - among(high, hi)))
        } else {
            core
        };
        cancel.check()?;
        Ok((self.run(low, high, core, n, tested), all.infinite))
    }
}

/// What one pass over a piece keeps: the count of finite values, the `k`
/// smallest and largest (with their indices, sorted), and the indices of
/// infinite values.
#[derive(Debug, Default)]
struct Scan {
    finite: usize,
    low: Vec<Item>,
    high: Vec<Item>,
    infinite: Vec<usize>,
}

impl Scan {
    fn of<T: Sample>(piece: &[T], k: usize) -> Scan {
        let mut scan = Scan::default();
        if k == 0 {
            return scan;
        }
        // Values must beat the k-th kept to enter: strictly, as indices
        // only grow along a piece and the first in `x` wins a tie. Most
        // values fail both tests at once.
        let (mut below, mut above) = (f64::INFINITY, f64::NEG_INFINITY);
        for (b, block) in piece.chunks(64).enumerate() {
            // Blocks of values within the kept ones' range, all finite, are
            // counted with one branch-free test of the whole block.
            let plain = block.iter().fold(true, |all, t| {
                let v = t.value();
                all & (v >= below) & (v <= above)
            });
            if plain {
                scan.finite += block.len();
                continue;
            }
            scan.visit(block, b * 64, k, &mut below, &mut above);
        }
        scan
    }

    /// Each value of `block` (whose first index is `start`): counted, kept
    /// aside when it beats the `k`-th kept (which moves `below` or
    /// `above`), or recorded as infinite.
    fn visit<T: Sample>(
        &mut self,
        block: &[T],
        start: usize,
        k: usize,
        below: &mut f64,
        above: &mut f64,
    ) {
        let scan = self;
        for (j, t) in block.iter().enumerate() {
            let (i, v) = (start + j, t.value());
            if !(v < *below || v > *above) {
                scan.finite += usize::from(v.is_finite());
                continue;
            }
            if !v.is_finite() {
                if v.is_infinite() {
                    scan.infinite.push(i);
                }
                continue;
            }
            scan.finite += 1;
            if v < *below {
                keep(&mut scan.low, (v, i), k, low_first);
                if scan.low.len() == k {
                    *below = scan.low[k - 1].0;
                }
            }
            if v > *above {
                keep(&mut scan.high, (v, i), k, high_first);
                if scan.high.len() == k {
                    *above = scan.high[k - 1].0;
                }
            }
        }
    }

    /// Adds the scan of a later piece, whose indices start at `offset`.
    fn absorb(&mut self, other: Scan, offset: usize, k: usize) {
        self.finite += other.finite;
        self.infinite
            .extend(other.infinite.into_iter().map(|i| i + offset));
        for (v, i) in other.low {
            keep(&mut self.low, (v, i + offset), k, low_first);
        }
        for (v, i) in other.high {
            keep(&mut self.high, (v, i + offset), k, high_first);
        }
    }
}

/// Inserts `item` into the sorted `best` when it is among the `k` first
/// by `order`.
#[inline(always)]
fn keep(best: &mut Vec<Item>, item: Item, k: usize, order: fn(&Item, &Item) -> Ordering) {
    if best.len() == k {
        match best.last() {
            Some(worst) if order(&item, worst) == Ordering::Less => {
                best.pop();
            }
            _ => return,
        }
    }
    let at = best.partition_point(|b| order(b, &item) == Ordering::Less);
    best.insert(at, item);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Rng;

    /// Rosner's procedure written plainly: each step recomputes the mean
    /// and sd of what is left.
    fn reference(x: &[f64], k: usize, alpha: f64) -> Vec<usize> {
        let mut left: Vec<(f64, usize)> = x
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, v)| (v, i))
            .collect();
        let n = left.len();
        let mut taken = Vec::new();
        let mut last = 0;
        for i in 1..=k.min(n.saturating_sub(2)) {
            let m = left.len() as f64;
            let mean = left.iter().map(|p| p.0).sum::<f64>() / m;
            let sd = (left.iter().map(|p| (p.0 - mean).powi(2)).sum::<f64>() / (m - 1.0)).sqrt();
            let (at, _) = left.iter().enumerate().fold((0, -1.0), |(ba, bd), (a, p)| {
                let d = (p.0 - mean).abs();
                if d > bd {
                    (a, d)
                } else {
                    (ba, bd)
                }
            });
            let (v, j) = left.remove(at);
            taken.push(j);
            if (v - mean).abs() / sd > critical_value(n, i, alpha) {
                last = i;
            }
        }
        taken.truncate(last);
        taken.sort_unstable();
        taken
    }

    fn whole(x: &[f64], k: usize, alpha: f64) -> Vec<usize> {
        let rule = Gesd {
            max_outliers: k,
            alpha,
            strict: false,
        };
        let (tested, infinite) = rule.test_whole(x, Par::Inline, &Cancel::default()).unwrap();
        let mut found = tested.outliers;
        found.extend(infinite);
        found.sort_unstable();
        found
    }

    #[test]
    fn critical_values_as_rosner_tabulates() {
        // NIST's e-Handbook example: n = 54, alpha = 0.05.
        let want = [3.159, 3.151, 3.144, 3.136, 3.128];
        for (i, w) in want.iter().enumerate() {
            assert!(
                (critical_value(54, i + 1, 0.05) - w).abs() < 5e-4,
                "step {}",
                i + 1
            );
        }
        assert!(critical_value(3, 2, 0.05).is_nan());
    }

    #[test]
    fn agrees_with_the_plain_procedure() {
        let mut rng = Rng(5);
        for n in [3usize, 5, 12, 40, 100, 1000, 5000] {
            for k in [1usize, 3, 10] {
                let mut x: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
                for s in 0..(n / 20).min(6) {
                    x[rng.below(n as u64) as usize] = 5.0 + s as f64;
                }
                if n > 10 {
                    x[3] = -4.0;
                    x[7] = f64::NAN;
                }
                let mut want = reference(&x, k, 0.05);
                want.sort_unstable();
                assert_eq!(whole(&x, k, 0.05), want, "n {n}, k {k}");
            }
        }
    }

    #[test]
    fn ties_and_infinite_values() {
        // Two equal outliers: both found, and Inf reported, not tested.
        let mut x: Vec<f64> = (0..30).map(|i| (i % 5) as f64).collect();
        x[4] = 50.0;
        x[20] = 50.0;
        x[9] = f64::INFINITY;
        assert_eq!(whole(&x, 5, 0.05), vec![4, 9, 20]);
        let constant = vec![2.0; 10];
        assert!(whole(&constant, 3, 0.05).is_empty());
    }

    #[test]
    fn too_many_when_strict() {
        let rule = Gesd {
            max_outliers: 9,
            alpha: 0.05,
            strict: true,
        };
        let err = rule
            .test_whole(&[1.0; 10], Par::Inline, &Cancel::default())
            .unwrap_err();
        assert_eq!(err.kind(), "value");
        assert!(err.to_string().contains("max_outliers"));
    }
}
