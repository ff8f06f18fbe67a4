//! The rules on whole slices and in groups, inline and on workers, against
//! plain computations and R's own results.

use super::indices::PIECE;
use super::sample::NA_INTEGER;
use super::stats::{
    hinges, median_in_place, mid, order_statistics, CHUNK, MAD_CONSTANT, MEAN_AD_CONSTANT,
};
use super::*;
use crate::runtime::Runtime;
use crate::test_support::Rng;

fn request(method: Method, threshold: f64) -> Request {
    Request::new(method, threshold)
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

#[test]
fn huge_finite_values_do_not_overflow() {
    let max = f64::MAX;
    // (x, mean, population sd), the sd from the exact sum of squares.
    let five_max = [max, max, max, max, max, -max];
    let mean = max / 6.0 * 4.0;
    let sd = (5.0f64 / 9.0).sqrt() * max;
    let m = moments(&five_max, Par::Inline, &Cancel::default()).unwrap();
    assert!((m.mean() - mean).abs() <= mean * 1e-15, "{}", m.mean());
    assert!((m.population_sd() - sd).abs() <= sd * 1e-15);
    let found = run(&five_max, 2.0, Method::ZScore);
    assert_eq!(found.indices.to_vec(), vec![5]);
    let mixed = [1e308, -1e308, 1e308, 0.0, 1.0, 2.0];
    let m = moments(&mixed, Par::Inline, &Cancel::default()).unwrap();
    assert!((m.mean() - 1e308 / 6.0 - 0.5).abs() <= 1e292);
    // Chunks merged in any grouping, huge or not, give the same.
    let mut rng = Rng(3);
    let x: Vec<f64> = (0..3 * CHUNK + 7)
        .map(|i| match i % 5 {
            0 => max * (rng.uniform() - 0.5),
            _ => rng.uniform(),
        })
        .collect();
    let whole = moments(&x, Par::Inline, &Cancel::default()).unwrap();
    let (a, b) = x.split_at(CHUNK + 3);
    let merged = moments(a, Par::Inline, &Cancel::default())
        .unwrap()
        .merge(moments(b, Par::Inline, &Cancel::default()).unwrap());
    assert!(whole.population_sd().is_finite());
    assert!((merged.mean() - whole.mean()).abs() <= whole.population_sd() * 1e-12);
    assert!((merged.population_sd() / whole.population_sd() - 1.0).abs() <= 1e-12);
    // Moderate data keep unit 1 (and so the bits they always had).
    let plain = moments(&[1.0, 2.0, 4.0], Par::Inline, &Cancel::default()).unwrap();
    assert_eq!(plain.unit, 1.0);
}
