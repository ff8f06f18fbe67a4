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

    /// The `k`-th largest kernel value (1-based `k = h1 * h2 / 2 + 1`).
    /// Each round takes the weighted median of the middle of each row's
    /// live part as a trial, counts the values above it and those at or
    /// above it with two staircase walks, and keeps the side the target
    /// lies on: at least a quarter of the live values go each round, so
    /// O(log n) rounds of O(n). Once at most `n` are live, they are
    /// gathered and the target is selected among them.
    fn select(&self, n: usize, cancel: &Cancel) -> Result<f64, RwError> {
        let (h1, h2) = (self.h1, self.b.len());
        let target = (h1 as u64 * h2 as u64) / 2 + 1;
        // Live part of row i: columns left[i]..right[i] (exclusive).
        let mut left = vec![0usize; h2];
        let mut right = vec![h1; h2];
        let (mut below_left, mut upto_right) = (0u64, h1 as u64 * h2 as u64);
        let mut rows: Vec<(f64, u64)> = Vec::with_capacity(h2);
        let mut above = vec![0usize; h2];
        let mut at_or_above = vec![0usize; h2];
        while upto_right - below_left > n as u64 {
            cancel.check()?;
            rows.clear();
            for i in 0..h2 {
                if left[i] < right[i] {
                    let width = right[i] - left[i];
                    rows.push((self.h(left[i] + width / 2, i), width as u64));
                }
            }
            let trial = weighted_median(&mut rows);
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
                right.copy_from_slice(&above);
                upto_right = sum_above;
            } else if target <= sum_at {
                return Ok(trial);
            } else {
                left.copy_from_slice(&at_or_above);
                below_left = sum_at;
            }
        }
        let mut live: Vec<f64> = Vec::with_capacity((upto_right - below_left) as usize);
        for i in 0..h2 {
            for j in left[i]..right[i] {
                live.push(self.h(j, i));
            }
        }
        let k = (target - below_left - 1) as usize;
        if k >= live.len() {
            return Err(RwError::Internal("medcouple: no live kernel value".into()));
        }
        let found = *live.select_nth_unstable_by(k, |x, y| y.total_cmp(x)).1;
        Ok(found)
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
