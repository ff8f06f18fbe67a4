//! The medcouple, the robust skewness that the skew-adjusted boxplot
//! (Hubert and Vandervieren) scales its fences by: the median of the
//! kernel `((a - m) + (b - m)) / (a - b)` over the values `a >= m >= b`
//! about the median `m`, with robustbase's conventions (`mc(doReflect =
//! FALSE)`: its ties at the median, its tolerances, and the high rank it
//! takes for an even count). Found in O(n log n) by Johnson and
//! Mizoguchi's selection in a matrix sorted by rows and columns, as
//! robustbase does, never by forming the n^2 / 4 kernel values. Never
//! touches R.

use super::stats::mid;
use crate::errors::RwError;
use crate::runtime::{Cancel, Par};
use rayon::prelude::*;

/// robustbase's `eps1`: values within this much of the median, relative to
/// it, count as the median.
const EPS1: f64 = 1e-14;

/// robustbase's `eps2`: kernel arguments this close, relative to their
/// sum, count as equal.
const EPS2: f64 = 1e-15;

/// Sorts finite values in descending order, on the workers when asked.
pub fn sort_descending(values: &mut [f64], par: Par) {
    let descending = |a: &f64, b: &f64| b.total_cmp(a);
    match par {
        Par::Inline => values.sort_unstable_by(descending),
        Par::Workers => values.par_sort_unstable_by(descending),
    }
}

/// The medcouple of `sorted`, finite values in descending order (see
/// [`sort_descending`]); 0 for fewer than 3 values.
pub fn medcouple(sorted: &[f64], cancel: &Cancel) -> Result<f64, RwError> {
    match Deviations::of(sorted) {
        Ok(d) => d.kernel().select(sorted.len(), cancel),
        Err(settled) => Ok(settled),
    }
}

/// Deviations from the median, descending, and where the kernel's two
/// sides end in them: `a` (the upper values) are those >= x_eps and the
/// block within x_eps of the median, `b` (the lower values) that block
/// and those below it; values equal to the median are both.
struct Deviations {
    d: Vec<f64>,
    above: usize,
    h1: usize,
}

impl Deviations {
    /// The deviations of `sorted` (descending), or the medcouple itself
    /// when it is settled without them: 0 for fewer than 3 values, -1 or
    /// 1 when the median is the largest or the smallest value.
    fn of(sorted: &[f64]) -> Result<Deviations, f64> {
        let n = sorted.len();
        if n < 3 {
            return Err(0.0);
        }
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            mid(sorted[n / 2 - 1], sorted[n / 2])
        };
        // As robustbase 0.95 computes it, so a median of 0 has a block too.
        let x_eps = EPS1 * (EPS1 + median.abs());
        if (sorted[0] - median).abs() <= x_eps {
            return Err(-1.0);
        }
        if (sorted[n - 1] - median).abs() <= x_eps {
            return Err(1.0);
        }
        let d: Vec<f64> = sorted.iter().map(|v| v - median).collect();
        let above = d.partition_point(|&v| v >= x_eps);
        let h1 = d.partition_point(|&v| v >= -x_eps);
        Ok(Deviations { d, above, h1 })
    }

    fn kernel(&self) -> Kernel<'_> {
        Kernel {
            a: &self.d[..self.h1],
            b: &self.d[self.above..],
            h1: self.h1,
        }
    }
}

/// The kernel matrix: row `i` (a value `b`) and column `j` (a value `a`),
/// non-increasing along both.
struct Kernel<'a> {
    a: &'a [f64],
    b: &'a [f64],
    h1: usize,
}

impl Kernel<'_> {
    #[inline(always)]
    fn h(&self, j: usize, i: usize) -> f64 {
        let (a, b) = (self.a[j], self.b[i]);
        if b > 0.0 || (a - b).abs() <= EPS2 * (a + b).abs() {
            // Ties at the median: +1, 0 or -1 by position, robustbase's
            // sign(h1 + 1 - (i + j)) with 1-based i and j.
            let (left, right) = (self.h1 + 1, j + i + 2);
            return match left.cmp(&right) {
                std::cmp::Ordering::Greater => 1.0,
                std::cmp::Ordering::Equal => 0.0,
                std::cmp::Ordering::Less => -1.0,
            };
        }
        (a + b) / (a - b)
    }

    /// The `k`-th largest kernel value (1-based `k = h1 * h2 / 2 + 1`),
    /// by rounds that each count, for a trial value, the values above it
    /// and those at or above it with two staircase walks (O(n)), and keep
    /// the side the target lies on. The trials: a pair bracketing the
    /// target's rank among a random sample of the live values (a round then
    /// keeps a few percent of them), or, when a sampled round keeps too
    /// many, Johnson and Mizoguchi's weighted median of the rows' middles
    /// (at least a quarter go): O(log n) rounds of O(n) either way. Once at
    /// most `n` are live, they are gathered and the target selected.
    fn select(&self, n: usize, cancel: &Cancel) -> Result<f64, RwError> {
        let (h1, h2) = (self.h1, self.b.len());
        let target = (h1 as u64 * h2 as u64) / 2 + 1;
        let mut live = Live {
            left: vec![0; h2],
            right: vec![h1; h2],
            below_left: 0,
            upto_right: h1 as u64 * h2 as u64,
        };
        let mut scratch = (vec![0usize; h2], vec![0usize; h2]);
        let mut rng = 0x2545_f491_4f6c_dd1d_u64 ^ n as u64;
        let mut sampled = true;
        while live.count() > n as u64 {
            cancel.check()?;
            let before = live.count();
            let trials = if sampled {
                self.sampled_trials(&live, target, &mut rng)
            } else {
                vec![self.weighted_trial(&live)]
            };
            for trial in trials {
                if let Some(found) = self.narrow(trial, target, &mut live, &mut scratch) {
                    return Ok(found);
                }
            }
            // A sampled round that kept more than a quarter is unlucky:
            // the next round uses the weighted median.
            sampled = live.count() < before - before / 4;
        }
        let mut values: Vec<f64> = Vec::with_capacity(live.count() as usize);
        for i in 0..h2 {
            for j in live.left[i]..live.right[i] {
                values.push(self.h(j, i));
            }
        }
        let k = (target - live.below_left - 1) as usize;
        if k >= values.len() {
            return Err(RwError::Internal("medcouple: no live kernel value".into()));
        }
        Ok(*values.select_nth_unstable_by(k, |x, y| y.total_cmp(x)).1)
    }

    /// Counts the values above `trial` and at or above it, and narrows
    /// `live` to the side of the target: `Some(trial)` when it is the target.
    fn narrow(
        &self,
        trial: f64,
        target: u64,
        live: &mut Live,
        (above, at_or_above): &mut (Vec<usize>, Vec<usize>),
    ) -> Option<f64> {
        let h1 = self.h1;
        // above[i]: columns with h > trial (a prefix of the row); the
        // prefixes shrink as i grows, so one walk finds them all.
        let mut j = 0;
        for (i, count) in above.iter_mut().enumerate().rev() {
            while j < h1 && self.h(j, i) > trial {
                j += 1;
            }
            *count = j;
        }
        let mut j = h1;
        for (i, count) in at_or_above.iter_mut().enumerate() {
            while j > 0 && self.h(j - 1, i) < trial {
                j -= 1;
            }
            *count = j;
        }
        let sum_above: u64 = above.iter().map(|&p| p as u64).sum();
        let sum_at: u64 = at_or_above.iter().map(|&q| q as u64).sum();
        if target <= sum_above {
            // Only narrow: a trial outside the live range changes nothing.
            if sum_above < live.upto_right {
                live.right.copy_from_slice(above);
                live.upto_right = sum_above;
            }
            None
        } else if target <= sum_at {
            Some(trial)
        } else {
            if sum_at > live.below_left {
                live.left.copy_from_slice(at_or_above);
                live.below_left = sum_at;
            }
            None
        }
    }

    /// Johnson and Mizoguchi's trial: the weighted median of the middle
    /// value of each row's live part, weighted by the part's width.
    fn weighted_trial(&self, live: &Live) -> f64 {
        let mut rows: Vec<(f64, u64)> = (0..self.b.len())
            .filter(|&i| live.left[i] < live.right[i])
            .map(|i| {
                let width = live.right[i] - live.left[i];
                (self.h(live.left[i] + width / 2, i), width as u64)
            })
            .collect();
        weighted_median(&mut rows)
    }

    /// Two trials that bracket the target's rank among a random sample of
    /// the live values, three standard deviations of a sample rank apart
    /// either side: the larger first.
    fn sampled_trials(&self, live: &Live, target: u64, rng: &mut u64) -> Vec<f64> {
        let h2 = self.b.len();
        let mut ends = Vec::with_capacity(h2 + 1);
        let mut total = 0u64;
        ends.push(0u64);
        for i in 0..h2 {
            total += live.right[i].saturating_sub(live.left[i]) as u64;
            ends.push(total);
        }
        let size = total.min(SAMPLE) as usize;
        let mut sample: Vec<f64> = (0..size)
            .map(|_| {
                // xorshift64: only the speed depends on it, never the result.
                *rng ^= *rng << 13;
                *rng ^= *rng >> 7;
                *rng ^= *rng << 17;
                let r = *rng % total;
                let i = ends.partition_point(|&e| e <= r) - 1;
                self.h(live.left[i] + (r - ends[i]) as usize, i)
            })
            .collect();
        sample.sort_unstable_by(|x, y| y.total_cmp(x));
        let at = (target - live.below_left) as f64 / total as f64 * size as f64;
        let spread = 3.0 * (size as f64).sqrt();
        let index = |p: f64| (p.max(0.0) as usize).min(size - 1);
        vec![sample[index(at - spread)], sample[index(at + spread)]]
    }
}

/// Values sampled to choose a round's trials.
const SAMPLE: u64 = 8192;

/// The live part of the kernel matrix: row `i`'s columns
/// `left[i]..right[i]`; `below_left` values lie left of it (larger than
/// the target), `upto_right` up to its right end.
struct Live {
    left: Vec<usize>,
    right: Vec<usize>,
    below_left: u64,
    upto_right: u64,
}

impl Live {
    fn count(&self) -> u64 {
        self.upto_right - self.below_left
    }
}

/// A weighted median of `(value, weight)` pairs (the lowest value whose
/// cumulative weight reaches half the total), by three-way partitions:
/// linear expected time. Reorders `items`; `items` must not be empty.
fn weighted_median(items: &mut [(f64, u64)]) -> f64 {
    let total: u64 = items.iter().map(|&(_, w)| w).sum();
    let half = total.div_ceil(2);
    let (mut lo, mut hi, mut before) = (0usize, items.len(), 0u64);
    loop {
        let pivot = items[lo + (hi - lo) / 2].0;
        // items[lo..lt] < pivot, items[lt..gt] == pivot, items[gt..hi] > pivot.
        let (mut lt, mut i, mut gt) = (lo, lo, hi);
        while i < gt {
            let v = items[i].0;
            if v < pivot {
                items.swap(lt, i);
                lt += 1;
                i += 1;
            } else if v > pivot {
                gt -= 1;
                items.swap(i, gt);
            } else {
                i += 1;
            }
        }
        let weight =
            |range: std::ops::Range<usize>| -> u64 { items[range].iter().map(|&(_, w)| w).sum() };
        let less = weight(lo..lt);
        let equal = weight(lt..gt);
        if before + less >= half {
            hi = lt;
        } else if before + less + equal >= half {
            return pivot;
        } else {
            before += less + equal;
            lo = gt;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Rng;

    /// The definition, by brute force over every pair, with the same
    /// conventions.
    fn brute_force(values: &[f64]) -> f64 {
        let mut sorted = values.to_vec();
        sort_descending(&mut sorted, Par::Inline);
        let deviations = match Deviations::of(&sorted) {
            Ok(d) => d,
            Err(settled) => return settled,
        };
        let k = deviations.kernel();
        let mut all = Vec::new();
        for i in 0..k.b.len() {
            for j in 0..k.h1 {
                all.push(k.h(j, i));
            }
        }
        all.sort_by(|x, y| y.total_cmp(x));
        all[all.len() / 2]
    }

    fn mc(values: &[f64]) -> f64 {
        let mut sorted = values.to_vec();
        sort_descending(&mut sorted, Par::Inline);
        medcouple(&sorted, &Cancel::default()).unwrap()
    }

    #[test]
    fn known_values() {
        // Symmetric data: 0.
        assert_eq!(mc(&[1.0, 2.0, 3.0, 4.0, 5.0]), 0.0);
        assert_eq!(mc(&[1.0, 2.0, 3.0, 10.0, 20.0]), 0.75);
        assert_eq!(mc(&[1.0, 2.0]), 0.0);
        // The median at an end.
        assert_eq!(mc(&[1.0, 1.0, 1.0, 2.0]), 1.0);
        assert_eq!(mc(&[1.0, 3.0, 3.0, 3.0]), -1.0);
    }

    #[test]
    fn agrees_with_brute_force() {
        let mut rng = Rng(31);
        for n in (3..60).chain([100, 257, 500]) {
            for kind in 0..4 {
                let x: Vec<f64> = (0..n)
                    .map(|_| match kind {
                        0 => rng.uniform(),
                        1 => (rng.uniform() * 10.0).exp(),
                        // Ties, at the median too; a median of 0.
                        2 => rng.below(5) as f64,
                        _ => rng.below(7) as f64 - 3.0,
                    })
                    .collect();
                assert_eq!(mc(&x), brute_force(&x), "n {n}, kind {kind}: {x:?}");
            }
        }
    }

    #[test]
    fn weighted_medians() {
        let mut items = vec![(3.0, 1), (1.0, 1), (2.0, 1)];
        assert_eq!(weighted_median(&mut items), 2.0);
        let mut items = vec![(3.0, 10), (1.0, 1), (2.0, 1)];
        assert_eq!(weighted_median(&mut items), 3.0);
        let mut items = vec![(5.0, 2), (5.0, 2), (1.0, 3)];
        assert_eq!(weighted_median(&mut items), 5.0);
    }
}
