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

use crate::errors::RwError;
use crate::groups::{Gather, Groups};
use crate::outliers::{
    mid, Grouping, Indices, Sample, Stats, MAD_CONSTANT, MEAN_AD_CONSTANT, PIECE,
};
use crate::runtime::{Cancel, Par};
use std::ops::Range;

/// Positions between two cancel checks within a piece.
const CHECK_EVERY: usize = 1024;

/// The 0-based positions of `x` that the Hampel rule reports: infinite
/// values always, NaN never.
pub fn detect<T: Sample>(
    x: &[T],
    window: usize,
    threshold: f64,
    par: Par,
    cancel: &Cancel,
) -> Result<Indices, RwError> {
    let starts: Vec<usize> = (0..x.len()).step_by(PIECE).collect();
    let pieces = par.map(&starts, |&start| {
        let end = (start + PIECE).min(x.len());
        let mut hits = Vec::new();
        flag(x, start..end, window, threshold, cancel, |i| {
            hits.push((i - start) as u32)
        });
        hits
    });
    cancel.check()?;
    Ok(Indices::from_pieces(pieces))
}

/// As [`detect`] within each group: the window of an element is taken
/// along its group's own elements (gathered with their indices), and the
/// indices are into `x`.
pub fn detect_grouped<T: Sample>(
    x: &[T],
    grouping: Grouping,
    window: usize,
    threshold: f64,
    par: Par,
    cancel: &Cancel,
) -> Result<Indices, RwError> {
    let groups = gather(x, grouping, par, cancel)?;
    let found = over_group_parts(&groups, par, |values, part, index, out| {
        flag(values, part, window, threshold, cancel, |p| {
            out.push(index[p])
        })
    });
    cancel.check()?;
    let mut bits = vec![0u64; x.len().div_ceil(64)];
    for i in found.into_iter().flatten() {
        bits[i / 64] |= 1 << (i % 64);
    }
    Ok(Indices::from_bits(&bits, par))
}

/// Every element of `x` with its index, gathered by group.
fn gather<T: Sample>(
    x: &[T],
    grouping: Grouping,
    par: Par,
    cancel: &Cancel,
) -> Result<Groups, RwError> {
    let Grouping { codes, count } = grouping;
    Groups::gather(x, codes, count, Gather::AllWithIndex, par, cancel)
}

/// What `each(values, part, index, out)` pushes to `out` for every part of
/// every group (a group's values, the positions of the part among them, and
/// their indices in `x`), run in parallel: one list per part, in order.
fn over_group_parts<R: Send>(
    groups: &Groups,
    par: Par,
    each: impl Fn(&[f64], Range<usize>, &[usize], &mut Vec<R>) + Sync + Send,
) -> Vec<Vec<R>> {
    par.map(&work_items(groups), |(group, part)| {
        let mut out = Vec::new();
        let (values, index) = (&groups.values[group.clone()], &groups.index[group.clone()]);
        each(values, part.clone(), index, &mut out);
        out
    })
}

/// Each group's range in the gathered values, with a part of it of at
/// most `PIECE` positions: one item of work each.
fn work_items(groups: &Groups) -> Vec<(Range<usize>, Range<usize>)> {
    let mut items = Vec::new();
    for g in 0..groups.count() {
        let group = groups.range(g);
        for start in (0..group.len()).step_by(PIECE) {
            items.push((group.clone(), start..(start + PIECE).min(group.len())));
        }
    }
    items
}

/// Per position: the centre (rolling median) and the bounds
/// `center -/+ threshold * scale`; NaN where the window has no finite value
/// (and, with groups, for elements in no group).
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub center: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

impl Band {
    fn undefined(n: usize) -> Band {
        Band {
            center: vec![f64::NAN; n],
            lower: vec![f64::NAN; n],
            upper: vec![f64::NAN; n],
        }
    }

    fn set(&mut self, i: usize, (center, scale): (f64, f64), threshold: f64) {
        let stats = Stats::around(center, scale, threshold);
        self.center[i] = stats.center;
        self.lower[i] = stats.lower;
        self.upper[i] = stats.upper;
    }
}

/// The band of every position of `x` (for plots).
pub fn band<T: Sample>(
    x: &[T],
    window: usize,
    threshold: f64,
    par: Par,
    cancel: &Cancel,
) -> Result<Band, RwError> {
    let starts: Vec<usize> = (0..x.len()).step_by(PIECE).collect();
    let parts = par.map(&starts, |&start| {
        let mut stats = Vec::new();
        slide(
            x,
            start..(start + PIECE).min(x.len()),
            window,
            cancel,
            |_, w| stats.push(w.center_and_scale()),
        );
        stats
    });
    cancel.check()?;
    let mut band = Band::undefined(x.len());
    for (i, stats) in parts.into_iter().flatten().enumerate() {
        band.set(i, stats, threshold);
    }
    Ok(band)
}

/// The band of every element of `x`, along its group with a grouping.
pub fn band_of<T: Sample>(
    x: &[T],
    grouping: Option<Grouping>,
    window: usize,
    threshold: f64,
    par: Par,
    cancel: &Cancel,
) -> Result<Band, RwError> {
    match grouping {
        None => band(x, window, threshold, par, cancel),
        Some(grouping) => band_grouped(x, grouping, window, threshold, par, cancel),
    }
}

/// The band of every element of `x` along its group.
fn band_grouped<T: Sample>(
    x: &[T],
    grouping: Grouping,
    window: usize,
    threshold: f64,
    par: Par,
    cancel: &Cancel,
) -> Result<Band, RwError> {
    let groups = gather(x, grouping, par, cancel)?;
    let found = over_group_parts(&groups, par, |values, part, index, out| {
        slide(values, part, window, cancel, |p, w| {
            out.push((index[p], w.center_and_scale()))
        })
    });
    cancel.check()?;
    let mut band = Band::undefined(x.len());
    for (i, stats) in found.into_iter().flatten() {
        band.set(i, stats, threshold);
    }
    Ok(band)
}

/// Calls `hit(i)` for each position `i` in `range` that the rule reports.
fn flag<T: Sample>(
    x: &[T],
    range: Range<usize>,
    window: usize,
    threshold: f64,
    cancel: &Cancel,
    mut hit: impl FnMut(usize),
) {
    slide(x, range, window, cancel, |i, w| {
        let v = x[i].value();
        if v.is_infinite() {
            hit(i);
            return;
        }
        // NaN is never reported; a finite value is in its own window, so
        // the window is not empty.
        if v.is_nan() {
            return;
        }
        let center = w.median();
        let distance = (v - center).abs();
        // On the centre: never beyond any multiple of the scale (and no
        // need to find the scale).
        if distance > 0.0 {
            let scale = w.scale(center);
            if scale > 0.0 && scale.is_finite() && distance > threshold * scale {
                hit(i);
            }
        }
    });
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
    use crate::outliers::{median_and_scale, median_in_place, Rng, NA_INTEGER};
    use crate::runtime::Runtime;

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
