//! The Hampel filter's outlier rule: position `i` is an outlier when it lies
//! more than `threshold` scales from the median of the finite values within
//! `window` positions on either side (the window cut at the ends), the
//! scale being 1.4826 times their MAD, or 1.253314 times their mean absolute
//! deviation when the MAD is 0. The window is a sorted buffer in which each
//! step replaces the value leaving by the value entering, and its MAD is
//! read from it without forming the deviations, so a step costs O(window)
//! comparisons and moves and no sort: linear time in the length of the
//! series for a given window. Pieces of the series are processed independently,
//! each building its first window from its own neighbourhood, and every
//! statistic depends only on the window's values: the result is the same
//! inline and on workers. Never touches R.

use super::groups::{Gather, Grouping, Groups};
use super::indices::{Indices, PIECE};
use super::sample::Sample;
use super::stats::{mid, Stats, MAD_CONSTANT, MEAN_AD_CONSTANT};
use crate::errors::RwError;
use crate::runtime::{Cancel, Par};
use std::ops::Range;

/// Positions between two cancel checks within a piece.
const CHECK_EVERY: usize = 1024;

/// The Hampel rule on a series: its values, grouped or not, the half-width
/// of the window and the threshold.
#[derive(Debug, Clone, Copy)]
pub struct Hampel<'a, T> {
    pub x: &'a [T],
    /// With a grouping, each window runs along its group's own elements.
    pub grouping: Option<Grouping<'a>>,
    pub window: usize,
    pub threshold: f64,
}

/// Per position: the centre (rolling median), the scale and the bounds
/// `center -/+ threshold * scale`; NaN where the window has no finite value
/// (and, with groups, for elements in no group).
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub center: Vec<f64>,
    pub scale: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

impl<T: Sample> Hampel<'_, T> {
    /// The 0-based positions the rule reports: infinite values always, NaN
    /// never.
    pub fn detect(&self, par: Par, cancel: &Cancel) -> Result<Indices, RwError> {
        let found = self.walk(par, cancel, |i, v, w, hits| {
            if reported(v, w, self.threshold) {
                hits.push(i)
            }
        })?;
        if self.grouping.is_none() {
            // The parts are the pieces of `x`, in order.
            let offsets = |hits: Vec<usize>| hits.into_iter().map(|i| (i % PIECE) as u32).collect();
            return Ok(Indices::from_pieces(
                found.into_iter().map(offsets).collect(),
            ));
        }
        // Groups interleave: a bit set puts their indices in order.
        let mut bits = vec![0u64; self.x.len().div_ceil(64)];
        for i in found.into_iter().flatten() {
            bits[i / 64] |= 1 << (i % 64);
        }
        Ok(Indices::from_bits(&bits, par))
    }

    /// The band of every element (for plots).
    pub fn band(&self, par: Par, cancel: &Cancel) -> Result<Band, RwError> {
        let found = self.walk(par, cancel, |i, _, w, out| {
            out.push((i, w.center_and_scale()))
        })?;
        let undefined = || vec![f64::NAN; self.x.len()];
        let mut band = Band {
            center: undefined(),
            scale: undefined(),
            lower: undefined(),
            upper: undefined(),
        };
        for (i, (center, scale)) in found.into_iter().flatten() {
            let stats = Stats::around(center, scale, self.threshold);
            band.center[i] = stats.center;
            band.scale[i] = stats.scale;
            band.lower[i] = stats.lower;
            band.upper[i] = stats.upper;
        }
        Ok(band)
    }

    /// The one walk of the rule: `visit(i, value, window, out)` for every
    /// element `i` of `x` in a group (every element without a grouping),
    /// with its value and the sorted finite values of its window, which
    /// runs along the whole series or along the element's group. The
    /// series, or each group, is cut into parts of at most `PIECE`
    /// positions, walked in parallel; returns what each part pushed to its
    /// `out`, in order (without a grouping, the parts are the pieces of
    /// `x`).
    fn walk<R: Send>(
        &self,
        par: Par,
        cancel: &Cancel,
        visit: impl Fn(usize, f64, &Window, &mut Vec<R>) + Sync + Send,
    ) -> Result<Vec<Vec<R>>, RwError> {
        let (x, half) = (self.x, self.window);
        let found = match self.grouping {
            None => par.map(&parts(0..x.len()), |part| {
                let mut out = Vec::new();
                slide(x, part.clone(), half, cancel, |i, w| {
                    visit(i, x[i].value(), w, &mut out)
                });
                out
            }),
            Some(Grouping { codes, count }) => {
                let groups = Groups::gather(x, codes, count, Gather::AllWithIndex, par, cancel)?;
                let items: Vec<(Range<usize>, Range<usize>)> = (0..groups.count())
                    .flat_map(|g| {
                        let group = groups.range(g);
                        parts(0..group.len())
                            .into_iter()
                            .map(move |p| (group.clone(), p))
                    })
                    .collect();
                par.map(&items, |(group, part)| {
                    let mut out = Vec::new();
                    let (values, index) =
                        (&groups.values[group.clone()], &groups.index[group.clone()]);
                    slide(values, part.clone(), half, cancel, |p, w| {
                        visit(index[p], values[p], w, &mut out)
                    });
                    out
                })
            }
        };
        cancel.check()?;
        Ok(found)
    }
}

/// `range` cut into consecutive parts of at most `PIECE` positions.
fn parts(range: Range<usize>) -> Vec<Range<usize>> {
    range
        .clone()
        .step_by(PIECE)
        .map(|start| start..(start + PIECE).min(range.end))
        .collect()
}

/// Whether the rule reports a value `v` whose window is `w`.
#[inline(always)]
fn reported(v: f64, w: &Window, threshold: f64) -> bool {
    if v.is_infinite() {
        return true;
    }
    // NaN is never reported; a finite value is in its own window, so the
    // window is not empty.
    if v.is_nan() {
        return false;
    }
    let center = w.median();
    let distance = (v - center).abs();
    // On the centre: never beyond any multiple of the scale (and no need
    // to find the scale).
    if distance > 0.0 {
        let scale = w.scale(center);
        return scale > 0.0 && scale.is_finite() && distance > threshold * scale;
    }
    false
}

/// Calls `visit(i, window)` for each `i` in `range`, `window` holding the
/// finite values of `x[i - half..=i + half]` (cut at the ends), sorted.
/// Stops early, visiting no more, when the work is cancelled.
fn slide<T: Sample>(
    x: &[T],
    range: Range<usize>,
    half: usize,
    cancel: &Cancel,
    mut visit: impl FnMut(usize, &Window),
) {
    if range.is_empty() {
        return;
    }
    let first = range.start.saturating_sub(half);
    let end = range
        .start
        .saturating_add(half)
        .saturating_add(1)
        .min(x.len());
    let mut window = Window::of(x[first..end].iter().map(|t| t.value()));
    for i in range {
        if i % CHECK_EVERY == 0 && cancel.check().is_err() {
            return;
        }
        visit(i, &window);
        let leaving = i.checked_sub(half).map(|j| x[j].value());
        let entering = i
            .checked_add(half)
            .and_then(|j| j.checked_add(1))
            .and_then(|j| x.get(j))
            .map(|t| t.value());
        window.replace(leaving.unwrap_or(f64::NAN), entering.unwrap_or(f64::NAN));
    }
}

/// The finite values of a window, sorted. Values are kept canonical (`-0`
/// as `0`), so that `==` finds a leaving value again and `<` orders them.
struct Window {
    sorted: Vec<f64>,
}

impl Window {
    fn of(values: impl Iterator<Item = f64>) -> Window {
        let mut sorted: Vec<f64> = values.filter(|v| v.is_finite()).map(canonical).collect();
        sorted.sort_unstable_by(f64::total_cmp);
        Window { sorted }
    }

    /// Takes out one copy of `out` and puts in `new` (either may be
    /// non-finite: then only the other is done). The usual step, one out
    /// and one in, moves only the values between them, in place.
    fn replace(&mut self, out: f64, new: f64) {
        let s = &mut self.sorted;
        match (out.is_finite(), new.is_finite()) {
            (true, true) => {
                let (out, new) = (canonical(out), canonical(new));
                // Counts, not searches: no branch depends on the data.
                let hole = s.iter().filter(|&&v| v < out).count();
                if s.get(hole) != Some(&out) {
                    return;
                }
                let below_new = s.iter().filter(|&&v| v < new).count();
                // `new`'s place once `out` is taken out; the values between
                // the hole and it move one step towards the hole.
                let place = below_new - usize::from(out < new);
                if place >= hole {
                    s.copy_within(hole + 1..place + 1, hole);
                } else {
                    s.copy_within(place..hole, place + 1);
                }
                s[place] = new;
            }
            (true, false) => {
                let out = canonical(out);
                if let Some(at) = s.iter().position(|&v| v == out) {
                    s.remove(at);
                }
            }
            (false, true) => {
                let new = canonical(new);
                let at = s.partition_point(|&v| v < new);
                s.insert(at, new);
            }
            (false, false) => {}
        }
    }

    /// The median; NaN for an empty window.
    #[inline]
    fn median(&self) -> f64 {
        let s = &self.sorted;
        let m = s.len();
        match m {
            0 => f64::NAN,
            _ if m % 2 == 1 => s[m / 2],
            _ => mid(s[m / 2 - 1], s[m / 2]),
        }
    }

    /// The MAD rule's scale about `center` (the median): `MAD_CONSTANT`
    /// times the median absolute deviation, or `MEAN_AD_CONSTANT` times the
    /// mean absolute deviation when that is 0. The deviations are never
    /// formed: the window is sorted, which is enough to find their middle.
    #[inline]
    fn scale(&self, center: f64) -> f64 {
        let s = &self.sorted;
        let m = s.len();
        let mad = if m % 2 == 1 {
            kth_deviation(s, center, m / 2)
        } else {
            mid(
                kth_deviation(s, center, m / 2 - 1),
                kth_deviation(s, center, m / 2),
            )
        };
        if mad > 0.0 {
            return MAD_CONSTANT * mad;
        }
        let total: f64 = s.iter().map(|v| (v - center).abs()).sum();
        MEAN_AD_CONSTANT * (total / m as f64)
    }

    fn center_and_scale(&self) -> (f64, f64) {
        if self.sorted.is_empty() {
            return (f64::NAN, f64::NAN);
        }
        let center = self.median();
        (center, self.scale(center))
    }
}

/// `-0` as `0`: the same value to every statistic, one bit pattern.
#[inline(always)]
fn canonical(v: f64) -> f64 {
    v + 0.0
}

/// Windows up to this many values find a deviation by a branch-free scan;
/// larger ones by binary search.
const SCAN_MAX: usize = 64;

/// The `k`-th smallest (0-based) absolute deviation from `center` of the
/// sorted values `s`.
#[inline(always)]
fn kth_deviation(s: &[f64], center: f64, k: usize) -> f64 {
    let m = s.len();
    if m <= SCAN_MAX {
        // The k + 1 values nearest the centre are k + 1 consecutive sorted
        // values; the deviation that takes them in is the larger of the
        // distances to the two ends of the run, and the k-th smallest
        // deviation is the least of those over all runs. Each is one of the
        // deviations, computed as the others are.
        return s
            .iter()
            .zip(&s[k..])
            .map(|(lo, hi)| (center - lo).max(hi - center))
            .fold(f64::INFINITY, f64::min);
    }
    // The deviations of the values below the centre, read outwards, and of
    // the others, read upwards, are two ascending sequences.
    let (left, right) = s.split_at(s.partition_point(|&v| v < center));
    let nl = left.len();
    kth_of_two(
        nl,
        |j| center - left[nl - 1 - j],
        right.len(),
        |j| right[j] - center,
        k,
    )
}

/// The `k`-th smallest (0-based) of two ascending sequences, `a` of `na`
/// values and `b` of `nb`, read through accessors; `k < na + nb`. Binary
/// search for the number `i` taken from `a`: the smallest with
/// `b[k - i] <= a[i]` (or none left in either).
#[inline(always)]
fn kth_of_two(
    na: usize,
    a: impl Fn(usize) -> f64,
    nb: usize,
    b: impl Fn(usize) -> f64,
    k: usize,
) -> f64 {
    let mut lo = (k + 1).saturating_sub(nb);
    let mut hi = (k + 1).min(na);
    while lo < hi {
        let i = lo + (hi - lo) / 2;
        // i < na, and j = k + 1 - i is in 1..=nb.
        if b(k - i) > a(i) {
            lo = i + 1;
        } else {
            hi = i;
        }
    }
    let from_a = if lo > 0 { a(lo - 1) } else { f64::NEG_INFINITY };
    let from_b = if k + 1 - lo > 0 {
        b(k - lo)
    } else {
        f64::NEG_INFINITY
    };
    from_a.max(from_b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outliers::sample::NA_INTEGER;
    use crate::outliers::stats::{median_and_scale, median_in_place};
    use crate::runtime::Runtime;
    use crate::test_support::Rng;

    // The rule on the whole series or within groups, as these tests call
    // it: (x, grouping, window, threshold, par, cancel).
    type Found<T> = Result<T, RwError>;
    type G<'a> = Grouping<'a>;

    fn rule<'a>(x: &'a [f64], g: Option<Grouping<'a>>, w: usize, t: f64) -> Hampel<'a, f64> {
        Hampel {
            x,
            grouping: g,
            window: w,
            threshold: t,
        }
    }

    fn detect(x: &[f64], w: usize, t: f64, par: Par, c: &Cancel) -> Found<Indices> {
        rule(x, None, w, t).detect(par, c)
    }

    fn detect_grouped(x: &[f64], g: G, w: usize, t: f64, par: Par, c: &Cancel) -> Found<Indices> {
        rule(x, Some(g), w, t).detect(par, c)
    }

    fn band(x: &[f64], w: usize, t: f64, par: Par, c: &Cancel) -> Found<Band> {
        rule(x, None, w, t).band(par, c)
    }

    fn band_of(x: &[f64], g: Option<G>, w: usize, t: f64, par: Par, c: &Cancel) -> Found<Band> {
        rule(x, g, w, t).band(par, c)
    }

    /// The rule written plainly: each window copied, its median and scale
    /// by selection, as `outliers::median_and_scale` finds them.
    fn reference(x: &[f64], window: usize, threshold: f64) -> Vec<usize> {
        let n = x.len();
        (0..n)
            .filter(|&i| {
                if x[i].is_infinite() {
                    return true;
                }
                let lo = i.saturating_sub(window);
                let hi = (i + window).min(n - 1);
                let mut w: Vec<f64> = x[lo..=hi]
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect();
                if x[i].is_nan() || w.is_empty() {
                    return false;
                }
                let (center, scale) =
                    median_and_scale(&mut w, Par::Inline, &Cancel::default()).unwrap();
                scale > 0.0 && (x[i] - center).abs() > threshold * scale
            })
            .collect()
    }

    fn run(x: &[f64], window: usize, threshold: f64) -> Vec<usize> {
        detect(x, window, threshold, Par::Inline, &Cancel::default())
            .unwrap()
            .to_vec()
    }

    #[test]
    fn small_exact_cases() {
        let inf = f64::INFINITY;
        let nan = f64::NAN;
        // (series, window, threshold, outliers)
        let cases: &[(&[f64], usize, f64, &[usize])] = &[
            (&[], 3, 3.0, &[]),
            (&[1.0], 3, 3.0, &[]),
            (&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 3, 3.0, &[]),
            // A spike among a line.
            (
                &[1.0, 2.0, 3.0, 4.0, 50.0, 6.0, 7.0, 8.0, 9.0],
                2,
                3.0,
                &[4],
            ),
            // Plateaus: the MAD is 0, the mean absolute deviation is not.
            (&[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0], 3, 3.0, &[4]),
            (&[5.0, 5.0, 5.0, 5.0, 5.0], 1, 0.0, &[]),
            // Non-finite values: Inf always, NaN never, and neither counts
            // in a window.
            (
                &[1.0, 1.0, nan, 9.0, inf, 1.0, 1.0, -inf],
                3,
                3.0,
                &[3, 4, 7],
            ),
            // The same with window 2: around the 9 the window holds 1, 9, 1,
            // and the spread of three values cannot single one out.
            (&[1.0, 1.0, nan, 9.0, inf, 1.0, 1.0, -inf], 2, 3.0, &[4, 7]),
            (&[nan, nan, nan], 1, 3.0, &[]),
            // A window wider than the series is the whole series.
            (&[1.0, 2.0, 3.0, 2.0, 1.0, 40.0], 100, 3.0, &[5]),
        ];
        for &(x, window, threshold, want) in cases {
            assert_eq!(run(x, window, threshold), want, "{x:?}, window {window}");
            assert_eq!(reference(x, window, threshold), want, "reference, {x:?}");
        }
    }

    #[test]
    fn agrees_with_the_plain_rule() {
        let mut rng = Rng(17);
        for &(n, window) in &[
            (50usize, 1usize),
            (500, 3),
            (2000, 7),
            (3000, 40),
            (300, 500),
        ] {
            let x: Vec<f64> = (0..n)
                .map(|i| match rng.below(40) {
                    0 => f64::NAN,
                    1 => f64::INFINITY,
                    2 => 10.0 + rng.uniform() * 5.0,
                    // Repeated values, so MADs of 0 occur.
                    3..=12 => 1.0,
                    _ => ((i as f64) / 50.0).sin() + rng.uniform() * 0.2,
                })
                .collect();
            for threshold in [0.0, 2.0, 3.0] {
                assert_eq!(
                    run(&x, window, threshold),
                    reference(&x, window, threshold),
                    "n {n}, window {window}, threshold {threshold}"
                );
            }
        }
    }

    #[test]
    fn pieces_and_threads_do_not_change_results() {
        let mut rng = Rng(4);
        let n = PIECE * 3 + 123;
        let x: Vec<f64> = (0..n)
            .map(|i| {
                if i % 501 == 0 {
                    f64::NAN
                } else {
                    (i as f64 / 200.0).sin() + rng.uniform() * 0.1
                }
            })
            .collect();
        let inline = detect(&x, 3, 2.0, Par::Inline, &Cancel::default()).unwrap();
        for threads in [1, 2] {
            let workers = Runtime::new(threads, None)
                .run_on_values(usize::MAX, |par, cancel| detect(&x, 3, 2.0, par, cancel))
                .unwrap();
            assert_eq!(workers, inline);
        }
        assert!(!inline.is_empty());
        // Across the piece boundaries too: the same as the plain rule.
        assert_eq!(inline.to_vec(), reference(&x, 3, 2.0));
        let band = band(&x, 3, 2.0, Par::Workers, &Cancel::default()).unwrap();
        for i in inline.iter() {
            assert!(x[i] < band.lower[i] || x[i] > band.upper[i], "{i}");
        }
    }

    #[test]
    fn the_band_is_the_rolling_median_and_scale() {
        let x = [3.0, 1.0, f64::NAN, 4.0, 1.0, 5.0];
        let b = band(&x, 1, 2.0, Par::Inline, &Cancel::default()).unwrap();
        for i in 0..x.len() {
            let mut w: Vec<f64> = x[i.saturating_sub(1)..(i + 2).min(x.len())]
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            let (center, scale) =
                median_and_scale(&mut w, Par::Inline, &Cancel::default()).unwrap();
            assert_eq!(b.center[i], center, "{i}");
            assert_eq!(b.lower[i], center - 2.0 * scale, "{i}");
            assert_eq!(b.upper[i], center + 2.0 * scale, "{i}");
        }
        let empty = band(
            &[f64::NAN, f64::NAN],
            0,
            2.0,
            Par::Inline,
            &Cancel::default(),
        )
        .unwrap();
        assert!(empty.center.iter().all(|c| c.is_nan()));
    }

    #[test]
    fn groups_have_their_own_windows() {
        // Two interleaved series: alone, each is smooth; together, not.
        let x: Vec<f64> = (0..40)
            .map(|i| {
                if i % 2 == 0 {
                    0.0 + (i as f64) * 0.01
                } else {
                    100.0
                }
            })
            .collect();
        let mut x = x;
        x[20] = 30.0;
        let codes: Vec<i32> = (0..40)
            .map(|i| match i {
                7 => NA_INTEGER,
                _ => (i % 2) + 1,
            })
            .collect();
        let cancel = Cancel::default();
        let grouping = Grouping {
            codes: &codes,
            count: 2,
        };
        for par in [Par::Inline, Par::Workers] {
            let got = detect_grouped(&x, grouping, 3, 3.0, par, &cancel).unwrap();
            assert_eq!(got.to_vec(), vec![20]);
        }
        let b = band_of(&x, Some(grouping), 3, 3.0, Par::Inline, &cancel).unwrap();
        assert_eq!(b.center[1], 100.0);
        assert!(b.center[7].is_nan(), "no group, no band");
        let evens: Vec<f64> = x.iter().step_by(2).copied().collect();
        let alone = band(&evens, 3, 3.0, Par::Inline, &cancel).unwrap();
        assert_eq!(b.center[20], alone.center[10]);
        assert_eq!(b.upper[20], alone.upper[10]);
    }

    #[test]
    fn kth_of_two_sorted_sequences() {
        let mut rng = Rng(9);
        for _ in 0..500 {
            let mut a: Vec<f64> = (0..rng.below(6)).map(|_| rng.below(8) as f64).collect();
            let mut b: Vec<f64> = (0..rng.below(6)).map(|_| rng.below(8) as f64).collect();
            a.sort_by(f64::total_cmp);
            b.sort_by(f64::total_cmp);
            let mut both: Vec<f64> = a.iter().chain(&b).copied().collect();
            both.sort_by(f64::total_cmp);
            for (k, want) in both.iter().enumerate() {
                let got = kth_of_two(a.len(), |i| a[i], b.len(), |i| b[i], k);
                assert_eq!(got, *want, "{a:?} {b:?} k {k}");
            }
        }
    }

    #[test]
    fn the_window_scale_is_the_mad_rule() {
        let mut rng = Rng(21);
        // Both ways of finding a deviation: scans, then binary search.
        for m in (1..40).chain([SCAN_MAX, SCAN_MAX + 1, 150, 151]) {
            let values: Vec<f64> = (0..m).map(|_| rng.below(6) as f64 * 0.5).collect();
            let window = Window::of(values.iter().copied());
            let mut copy = values.clone();
            let center = median_in_place(&mut copy.clone()).unwrap();
            let (c, s) = median_and_scale(&mut copy, Par::Inline, &Cancel::default()).unwrap();
            assert_eq!(window.median(), center);
            assert_eq!(c, center);
            assert_eq!(window.scale(center), s, "{values:?}");
        }
    }

    #[test]
    fn cancelled_work_stops() {
        let x = vec![1.0; PIECE * 2];
        let cancel = Cancel::default();
        cancel.set();
        let err = detect(&x, 3, 3.0, Par::Inline, &cancel).unwrap_err();
        assert_eq!(err.kind(), "interrupt");
    }
}
