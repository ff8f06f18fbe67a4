//! Outlier detection on numeric slices by six rules: the z-score (mean and
//! population standard deviation), the MAD (median and scaled median
//! absolute deviation), Tukey's fences (the hinges of `fivenum()`), the
//! Hampel filter (a rolling median and MAD, in `hampel.rs`), the
//! skew-adjusted boxplot (fences scaled by the medcouple, `medcouple.rs`)
//! and the generalized ESD test (`gesd.rs`), on the whole slice or within
//! groups (`groups.rs`). Statistics use the finite values only
//! (`stats.rs`). Reads the input in place, inline or in parallel as the
//! runtime says, and never writes to it; the result does not depend on
//! which. Never touches R.
//!
//! The files below this one never import it: `hampel.rs` and `gesd.rs` use
//! `groups.rs`, `stats.rs` and `indices.rs`, which use `sample.rs`;
//! `medcouple.rs` uses `stats.rs`.

pub mod gesd;
pub mod groups;
pub mod hampel;
pub mod indices;
pub mod medcouple;
pub mod sample;
pub mod stats;
#[cfg(test)]
mod tests;

pub use gesd::Gesd;
pub use groups::Grouping;
pub use indices::Indices;
pub use sample::Sample;
pub use stats::{moments, Moments, Stats};

use crate::errors::RwError;
use crate::runtime::{Cancel, Par, INLINE_MAX_VALUES};
use groups::{Gather, Groups};
use hampel::Hampel;
use indices::{select, select_grouped};
use medcouple::{medcouple, sort_descending};
use rayon::prelude::*;
use stats::{finite_values, hinges, median_and_scale};

/// The rules, in the order R lists them: `code_names_()` gives R their
/// names, which `detect_outliers()`'s `method` must match (a test checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    ZScore,
    Mad,
    Iqr,
    Hampel,
    Adjbox,
    Gesd,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::ZScore,
        Method::Mad,
        Method::Iqr,
        Method::Hampel,
        Method::Adjbox,
        Method::Gesd,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::ZScore => "zscore",
            Method::Mad => "mad",
            Method::Iqr => "iqr",
            Method::Hampel => "hampel",
            Method::Adjbox => "adjbox",
            Method::Gesd => "gesd",
        }
    }

    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// What to look for: the rule, how many scales from the centre a value
/// must lie, for `Hampel` the half-width of the window, for `ZScore`
/// and `Mad` a centre and scale given instead of computed from the data
/// (a baseline, or statistics merged from chunks), and for `Gesd` the
/// test's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    pub method: Method,
    pub threshold: f64,
    pub window: usize,
    pub given: Option<(f64, f64)>,
    pub gesd: Gesd,
}

impl Request {
    /// A request with the usual window (3) and test parameters (at most 10
    /// outliers, level 0.05, lowered to fit), and nothing given.
    pub fn new(method: Method, threshold: f64) -> Request {
        Request {
            method,
            threshold,
            window: 3,
            given: None,
            gesd: Gesd {
                max_outliers: 10,
                alpha: 0.05,
                strict: false,
            },
        }
    }
}

impl Request {
    /// The statistics of the whole of `x`, and the values outside their
    /// bounds (for every method but Hampel's, which [`detect`] settles).
    fn whole<T: Sample>(&self, x: &[T], par: Par, cancel: &Cancel) -> Result<Detection, RwError> {
        let stats = match (self.method, self.given) {
            (Method::ZScore | Method::Mad, Some((center, scale))) => {
                Stats::around(center, scale, self.threshold)
            }
            // No copy: the moments are computed on `x` itself.
            (Method::ZScore, None) => {
                let m = moments(x, par, cancel)?;
                Stats::around(m.mean(), m.population_sd(), self.threshold)
            }
            (Method::Mad | Method::Iqr | Method::Hampel | Method::Adjbox | Method::Gesd, _) => {
                let mut finite = finite_values(x, par, cancel)?;
                self.finite_stats(&mut finite, par, cancel)?
            }
        };
        let (a, b) = self.bounds(&stats);
        let indices = match self.method {
            Method::Iqr | Method::Adjbox => select(x, par, cancel, |v| (v < a) | (v > b))?,
            _ if a.is_nan() => {
                // Bounds beyond the doubles: compared at half scale.
                let (a, b) = (0.5 * stats.center, 0.5 * self.threshold * stats.scale);
                select(x, par, cancel, |v| (0.5 * v - a).abs() > b)?
            }
            _ => select(x, par, cancel, |v| (v - a).abs() > b)?,
        };
        Ok(Detection {
            indices,
            stats: vec![stats],
        })
    }

    /// As [`Request::whole`] within each group (for every method but
    /// Hampel's). Groups are gathered by a counting sort (values of a group
    /// contiguous, in the order of `x`); their statistics are computed in
    /// parallel, each on its own values, then one pass over `x` in order
    /// judges each value by its group's bounds, so indices come out
    /// ascending.
    fn grouped<T: Sample>(
        &self,
        x: &[T],
        groups: Grouping,
        par: Par,
        cancel: &Cancel,
    ) -> Result<Detection, RwError> {
        let Grouping { codes, count } = groups;
        let mut gathered = Groups::gather(x, codes, count, Gather::Finite, par, cancel)?;
        let stats = per_group(gathered.slices_mut(), par, cancel, |values, inner| {
            self.finite_stats(values, inner, cancel)
        })?;
        // A negative `b` marks bounds compared at half scale (see `bounds`).
        let halved = |s: &Stats| (0.5 * s.center, -(0.5 * self.threshold * s.scale));
        let bounds: Vec<(f64, f64)> = stats
            .iter()
            .map(|s| match self.bounds(s) {
                (a, _) if a.is_nan() => halved(s),
                ab => ab,
            })
            .collect();
        let indices = match self.method {
            Method::Iqr | Method::Adjbox => {
                select_grouped(x, codes, &bounds, par, cancel, |v, a, b| (v < a) | (v > b))?
            }
            _ => select_grouped(x, codes, &bounds, par, cancel, |v, a, b| {
                if b >= 0.0 {
                    (v - a).abs() > b
                } else {
                    (0.5 * v - a).abs() > -b
                }
            })?,
        };
        Ok(Detection { indices, stats })
    }

    /// The statistics of `method` from finite values only, which it reorders.
    fn finite_stats(
        &self,
        finite: &mut [f64],
        par: Par,
        cancel: &Cancel,
    ) -> Result<Stats, RwError> {
        let threshold = self.threshold;
        Ok(match self.method {
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
            Method::Adjbox => match hinges(finite) {
                Some([h1, h2, h3]) => {
                    sort_descending(finite, par);
                    let mc = medcouple(finite, cancel)?;
                    // As robustbase's adjboxStats(), a = -4 and b = 3, the
                    // products in its order.
                    let iqr = h3 - h1;
                    let (low, high) = if mc >= 0.0 {
                        ((-4.0 * mc).exp(), (3.0 * mc).exp())
                    } else {
                        ((-3.0 * mc).exp(), (4.0 * mc).exp())
                    };
                    Stats {
                        center: h2,
                        scale: iqr,
                        lower: h1 - threshold * low * iqr,
                        upper: h3 + threshold * high * iqr,
                    }
                }
                None => Stats::UNDEFINED,
            },
            Method::Hampel | Method::Gesd => Stats::UNDEFINED,
        })
    }

    /// The two numbers a value is compared with, so that one comparison that
    /// NaN always fails and the infinities always pass decides. Z-score and
    /// MAD: `abs(v - a) > b`; without a centre or a spread nothing finite is
    /// judged, so only |v| > f64::MAX, the infinities, passes. Fences:
    /// `v < a || v > b`, clamped to the finite range so that infinities pass.
    /// A spread so large that `threshold * scale` overflows gives NaN as
    /// the centre: [`Request::whole`] then compares at half scale.
    fn bounds(&self, stats: &Stats) -> (f64, f64) {
        match self.method {
            Method::Iqr | Method::Adjbox => (stats.lower.max(-f64::MAX), stats.upper.min(f64::MAX)),
            _ => {
                let Stats { center, scale, .. } = *stats;
                if center.is_finite() && scale.is_finite() && scale > 0.0 {
                    let b = self.threshold * scale;
                    if b.is_finite() {
                        (center, b)
                    } else {
                        (f64::NAN, f64::MAX)
                    }
                } else {
                    (0.0, f64::MAX)
                }
            }
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
    if request.method == Method::Hampel {
        let Request {
            window, threshold, ..
        } = *request;
        let rule = Hampel {
            x,
            grouping: groups,
            window,
            threshold,
        };
        let indices = rule.detect(par, cancel)?;
        // The Hampel rule has no statistics of the whole or of a group.
        let stats = vec![Stats::UNDEFINED; groups.map_or(1, |g| g.count)];
        return Ok(Detection { indices, stats });
    }
    if request.method == Method::Gesd {
        return gesd_detect(x, groups, &request.gesd, par, cancel);
    }
    match groups {
        None => request.whole(x, par, cancel),
        Some(groups) => request.grouped(x, groups, par, cancel),
    }
}

/// The generalized ESD test on the whole of `x` or within each group; the
/// indices of the outliers it finds and of the infinite values (in a
/// group), ascending.
fn gesd_detect<T: Sample>(
    x: &[T],
    groups: Option<Grouping>,
    rule: &Gesd,
    par: Par,
    cancel: &Cancel,
) -> Result<Detection, RwError> {
    let Some(Grouping { codes, count }) = groups else {
        let (tested, mut found) = rule.test_whole(x, par, cancel)?;
        found.extend(tested.outliers);
        return Ok(Detection {
            indices: Indices::from_unsorted(found),
            stats: vec![tested.stats],
        });
    };
    let gathered = Groups::gather(x, codes, count, Gather::AllWithIndex, par, cancel)?;
    let ids: Vec<usize> = (0..count).collect();
    let tested = par.map(&ids, |&g| -> Result<(gesd::Tested, Vec<usize>), RwError> {
        cancel.check()?;
        let range = gathered.range(g);
        let (values, index) = (&gathered.values[range.clone()], &gathered.index[range]);
        let infinite = index
            .iter()
            .zip(values)
            .filter(|(_, v)| v.is_infinite())
            .map(|(&i, _)| i)
            .collect();
        let mut items: Vec<(f64, usize)> =
            values.iter().copied().zip(index.iter().copied()).collect();
        Ok((rule.test_items(&mut items)?, infinite))
    });
    let mut found = Vec::new();
    let mut stats = Vec::with_capacity(count);
    for group in tested {
        let (tested, infinite) = group?;
        found.extend(tested.outliers);
        found.extend(infinite);
        stats.push(tested.stats);
    }
    Ok(Detection {
        indices: Indices::from_unsorted(found),
        stats,
    })
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
