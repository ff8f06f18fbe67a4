# Plain-R references, one per method, written from the rules in
# ?detect_outliers and never calling rwbridge. Each returns the indices and
# the statistics.

# The two-pass computation in long double that the z-score rule must match:
# R's mean() and sum() accumulate in long double.
zscore_reference <- function(x, threshold = 2) {
  finite <- x[is.finite(x)]
  center <- mean(finite)
  scale <- sqrt(sum((finite - center)^2) / length(finite))
  judged <- length(finite) > 0 && scale > 0
  list(
    indices = which(is.infinite(x) | (judged & abs(x - center) > threshold * scale)),
    center = center, scale = scale
  )
}

# The MAD rule's scale: 1.4826 * mad, or 1.253314 * the mean absolute
# deviation when the MAD is 0.
mad_scale <- function(finite, center) {
  scale <- 1.4826 * median(abs(finite - center))
  if (!is.na(scale) && scale == 0) 1.253314 * mean(abs(finite - center)) else scale
}

mad_reference <- function(x, threshold = 2) {
  finite <- x[is.finite(x)]
  center <- median(finite)
  scale <- mad_scale(finite, center)
  judged <- length(finite) > 0 && scale > 0
  list(
    indices = which(is.infinite(x) | (judged & abs(x - center) > threshold * scale)),
    center = center, scale = scale
  )
}

# Tukey's fences from fivenum() of the finite values, by the formula.
iqr_reference <- function(x, threshold = 1.5) {
  h <- fivenum(x[is.finite(x)])
  iqr <- h[4] - h[2]
  lower <- h[2] - threshold * iqr
  upper <- h[4] + threshold * iqr
  out <- !is.na(x) & !is.na(iqr) & (x < lower | x > upper)
  list(indices = which(is.infinite(x) | out), center = h[3], scale = iqr,
       lower = lower, upper = upper)
}

# What boxplot.stats() reports, mapped back to indices: every element equal
# to a reported value is one (a tie is judged as the value it ties with).
boxplot_indices <- function(x, threshold = 1.5) {
  which(x %in% boxplot.stats(x, coef = threshold)$out)
}

# The Hampel filter, one window at a time.
hampel_reference <- function(x, threshold = 3, window = 3L) {
  n <- length(x)
  hits <- logical(n)
  for (i in seq_len(n)) {
    if (is.infinite(x[i])) {
      hits[i] <- TRUE
    } else if (!is.na(x[i])) {
      w <- x[max(1, i - window):min(n, i + window)]
      w <- w[is.finite(w)]
      center <- median(w)
      scale <- mad_scale(w, center)
      hits[i] <- scale > 0 && abs(x[i] - center) > threshold * scale
    }
  }
  list(indices = which(hits))
}

references <- list(zscore = zscore_reference, mad = mad_reference, iqr = iqr_reference,
                   hampel = hampel_reference)

# The base-R way with groups: split() the indices, apply the rule to each
# group, and put the indices back together.
by_reference <- function(x, by, method, threshold) {
  groups <- split(seq_along(x), by)
  found <- lapply(groups, function(i) i[references[[method]](x[i], threshold)$indices])
  sort(unlist(found, use.names = FALSE))
}

expect_matches_reference <- function(x, threshold = 2) {
  for (method in c("zscore", "mad")) {
    want <- references[[method]](x, threshold)
    got <- detect_outliers(x, threshold, method)
    expect_identical(as.vector(got), want$indices)
    expect_equal(attr(got, "center"), want$center, tolerance = 1e-12)
    expect_equal(attr(got, "scale"), want$scale, tolerance = 1e-10)
  }
}

test_that("the seed's own test: 97 planted at 0-based 7, 113 and 835", {
  set.seed(42)
  x <- runif(1000)
  x[c(7, 113, 835) + 1] <- 97
  got <- detect_outliers(x)
  expect_identical(as.vector(got), c(8L, 114L, 836L))
  expect_identical(attr(got, "method"), "zscore")
  expect_identical(attr(got, "threshold"), 2)
  expect_equal(attr(got, "center"), mean(x))
  expect_equal(attr(got, "scale"), sqrt(mean((x - mean(x))^2)))
})

test_that("agrees with the long-double two-pass reference on several distributions", {
  set.seed(1)
  n <- 2e5
  cases <- list(
    normal = rnorm(n),
    far_from_zero = 1e9 + rnorm(n),
    tiny = 1e-300 * rnorm(n),
    exponential = rexp(n),
    heavy_tails = rt(n, df = 2),
    with_gaps = replace(rnorm(n, 5), sample(n, 500), c(NA, NaN, Inf, -Inf, NA)),
    chunk_edges = rnorm(2048 * 3 + 5)
  )
  for (name in names(cases)) {
    for (threshold in c(0.5, 2, 3)) {
      expect_matches_reference(cases[[name]], threshold)
    }
  }
})

test_that("integer input, with NA, is read as it is", {
  x <- c(1L, 2L, NA, 3L, 1000L, 2L, 1L, 3L, 2L, 2L)
  expect_matches_reference(x)
  expect_identical(as.vector(detect_outliers(x)), 5L)
  expect_identical(detect_outliers(x), detect_outliers(as.double(x)))
  big <- sample(c(-5e8L, 5e8L, NA, 0L), 1e5, replace = TRUE)
  expect_matches_reference(big, 0.5)
})

test_that("NA and NaN are never reported; Inf and -Inf always are", {
  x <- c(1, NA, 2, NaN, Inf, 3, -Inf)
  for (method in c("zscore", "mad")) {
    got <- detect_outliers(x, method = method)
    expect_identical(as.vector(got), c(5L, 7L))
    expect_identical(attr(got, "center"), 2)
  }
  only_bad <- detect_outliers(c(NA, Inf, NaN, -Inf))
  expect_identical(as.vector(only_bad), c(2L, 4L))
  expect_identical(attr(only_bad, "center"), NA_real_)
  expect_identical(attr(only_bad, "scale"), NA_real_)
})

test_that("length 0, one value and constant data report no finite value", {
  for (method in c("zscore", "mad", "iqr", "hampel")) {
    empty <- detect_outliers(numeric(), method = method)
    expect_identical(as.vector(empty), integer())
    expect_identical(attr(empty, "center"), NA_real_)
    expect_identical(as.vector(detect_outliers(5, method = method)), integer())
    constant <- detect_outliers(rep(0.1, 10), threshold = 0.5, method = method)
    expect_identical(as.vector(constant), integer())
    if (method != "hampel") {
      expect_identical(attr(constant, "scale"), 0)
      expect_identical(attr(constant, "center"), 0.1)
      expect_identical(attr(constant, "lower"), 0.1)
    }
    expect_identical(as.vector(detect_outliers(c(rep(3L, 5), Inf), method = method)), 6L)
  }
})

test_that("threshold 0 reports every value off the centre; the rule is strict", {
  x <- c(1, 2, 3)
  expect_identical(as.vector(detect_outliers(x, threshold = 0)), c(1L, 3L))
  # abs(x - 2) is exactly 1 * sd for 1 and 3 with sd = 1: not reported.
  expect_identical(as.vector(detect_outliers(c(1, 3), threshold = 1)), integer())
})

test_that("the MAD rule matches median() and mad(), odd and even counts", {
  set.seed(3)
  for (n in c(11, 12, 1001, 1002)) {
    x <- c(rnorm(n - 2), 30, -25)
    got <- detect_outliers(x, threshold = 3, method = "mad")
    expect_identical(attr(got, "center"), median(x))
    expect_equal(attr(got, "scale"), mad(x), tolerance = 1e-14)
    expect_true(all(c(n - 1, n) %in% got))
  }
})

test_that("the input is read in place: never copied, never modified", {
  skip_if_not(capabilities("profmem"), "R was built without memory profiling")
  x <- rnorm(1e5)
  g <- factor(sample(letters, 1e5, replace = TRUE))
  keep <- x + 0
  traced <- capture.output({
    tracemem(x)
    detect_outliers(x)
    detect_outliers(x, method = "mad")
    detect_outliers(x, method = "iqr")
    detect_outliers(x, method = "hampel")
    detect_outliers(x, method = "iqr", by = g)
    untracemem(x)
  })
  expect_identical(traced[!grepl("^<0x", traced)], character())
  expect_identical(x, keep)
})

test_that("same results whatever the number of threads", {
  set.seed(9)
  x <- c(rnorm(3e5), 10, -12)
  withr::local_options(rwbridge.threads = 1)
  one <- detect_outliers(x)
  one_mad <- detect_outliers(x, method = "mad")
  withr::local_options(rwbridge.threads = 2)
  expect_identical(detect_outliers(x, method = "mad"), one_mad)
  two <- detect_outliers(x)
  expect_identical(as.vector(two), as.vector(one))
  expect_equal(attr(two, "center"), attr(one, "center"), tolerance = 1e-14)
})

test_that("bad arguments are classed errors", {
  expect_error(detect_outliers("a"), "`x`", class = "rwbridge_type_error")
  expect_error(detect_outliers(factor(1:3)), "`x`", class = "rwbridge_type_error")
  expect_error(detect_outliers(TRUE), "`x`", class = "rwbridge_type_error")
  expect_error(detect_outliers(NULL), "`x`", class = "rwbridge_type_error")
  expect_error(detect_outliers(1:3, threshold = -1), "`threshold`", class = "rwbridge_value_error")
  expect_error(detect_outliers(1:3, threshold = Inf), class = "rwbridge_value_error")
  expect_error(detect_outliers(1:3, threshold = NA_real_), class = "rwbridge_value_error")
  expect_error(detect_outliers(1:3, threshold = "2"), class = "rwbridge_type_error")
  expect_error(detect_outliers(1:3, threshold = c(1, 2)), class = "rwbridge_type_error")
  expect_error(detect_outliers(1:3, method = "median"), "`method`", class = "rwbridge_value_error")
  expect_error(detect_outliers(1:3, method = NA), "`method`", class = "rwbridge_type_error")
  expect_error(detect_outliers(1:3, method = c("iqr", "mad")), "`method`",
               class = "rwbridge_type_error")
  expect_error(detect_outliers(1:3, by = 1:2), "`by`", class = "rwbridge_value_error")
  expect_error(detect_outliers(1:3, by = factor(1:4)), "`by`", class = "rwbridge_value_error")
  expect_error(detect_outliers(1:3, by = list(1, 2, 3)), "`by`", class = "rwbridge_type_error")
  expect_error(detect_outliers(1:3, by = as.raw(1:3)), "`by`", class = "rwbridge_type_error")
  expect_error(detect_outliers(1:3, by = 1i * 1:3), "`by`", class = "rwbridge_type_error")
  # A factor whose codes do not fit its levels is caught in Rust.
  broken <- structure(c(1L, 3L, 1L), levels = c("a", "b"), class = "factor")
  expect_error(detect_outliers(1:3, by = broken), "`by`", class = "rwbridge_value_error")
  for (window in list(0L, -1, 1.5, NA_integer_, NA_real_, Inf, 2^31)) {
    expect_error(detect_outliers(1:3, method = "hampel", window = window), "`window`",
                 class = "rwbridge_value_error")
  }
  for (window in list("3", c(1L, 2L), NULL, factor(3), TRUE)) {
    expect_error(detect_outliers(1:3, method = "hampel", window = window), "`window`",
                 class = "rwbridge_type_error")
  }
  # `window` is checked whatever the method.
  expect_error(detect_outliers(1:3, window = 0L), class = "rwbridge_value_error")
  expect_identical(detect_outliers(1:3, method = "hampel", window = 2),
                   detect_outliers(1:3, method = "hampel", window = 2L))
  expect_snapshot(error = TRUE, {
    detect_outliers(list(1, 2))
    detect_outliers(1:3, threshold = -2)
    detect_outliers(1:3, method = "mean")
    detect_outliers(1:3, by = 1:2)
    detect_outliers(1:3, by = list(1, 2, 3))
    detect_outliers(1:3, method = "hampel", window = 0.5)
    detect_outliers(1:3, method = "hampel", window = "3")
  })
})

test_that("the method names are Rust's, in the order of its enum", {
  methods <- rwbridge:::rw_codes$method
  expect_identical(eval(formals(detect_outliers)$method), methods)
  expect_identical(eval(formals(plot_outliers)$method), methods)
  expect_identical(names(rwbridge:::rw_outlier_thresholds), methods)
})

test_that("threshold = NULL is each method's usual value, and is recorded", {
  set.seed(4)
  x <- c(rnorm(200), 7, -9)
  usual <- c(zscore = 2, mad = 2, iqr = 1.5, hampel = 3)
  for (method in names(usual)) {
    got <- detect_outliers(x, method = method)
    expect_identical(attr(got, "threshold"), usual[[method]])
    expect_identical(attr(got, "method"), method)
    expect_identical(got, detect_outliers(x, threshold = usual[[method]], method = method))
    expect_identical(attr(detect_outliers(x, 2.5, method), "threshold"), 2.5)
    expect_identical(attr(detect_outliers(x, 1L, method), "threshold"), 1)
  }
  # Partial matching, as match.arg() would.
  expect_identical(attr(detect_outliers(x, method = "ham"), "method"), "hampel")
  expect_identical(attr(detect_outliers(x, method = c("zscore", "mad", "iqr", "hampel")),
                        "method"), "zscore")
})

test_that("every result carries center, scale, lower, upper, threshold and method", {
  set.seed(8)
  x <- c(rnorm(500, 10, 2), 30, NA, -Inf)
  z <- detect_outliers(x, threshold = 2.5)
  expect_identical(attr(z, "lower"), attr(z, "center") - 2.5 * attr(z, "scale"))
  expect_identical(attr(z, "upper"), attr(z, "center") + 2.5 * attr(z, "scale"))
  m <- detect_outliers(x, threshold = 3, method = "mad")
  expect_identical(attr(m, "lower"), median(x[is.finite(x)]) - 3 * attr(m, "scale"))
  i <- detect_outliers(x, method = "iqr")
  want <- iqr_reference(x)
  expect_identical(attr(i, "center"), want$center)
  expect_identical(attr(i, "scale"), want$scale)
  expect_identical(attr(i, "lower"), want$lower)
  expect_identical(attr(i, "upper"), want$upper)
  finite <- x[is.finite(x)]
  expect_identical(c(attr(i, "lower"), attr(i, "upper")),
                   boxplot.stats(finite)$stats[c(2, 4)] + c(-1.5, 1.5) * diff(fivenum(finite)[c(2, 4)]))
  h <- detect_outliers(x, method = "hampel", window = 5L)
  expect_identical(attributes(h), list(center = NA_real_, scale = NA_real_, lower = NA_real_,
                                       upper = NA_real_, threshold = 3, method = "hampel",
                                       window = 5L))
  for (got in list(z, m, i)) {
    expect_identical(names(attributes(got)),
                     c("center", "scale", "lower", "upper", "threshold", "method"))
    inside <- x >= attr(got, "lower") & x <= attr(got, "upper")
    expect_false(any(inside[got], na.rm = TRUE))
  }
  none <- detect_outliers(c(NA, Inf), method = "iqr")
  expect_identical(attr(none, "lower"), NA_real_)
  expect_identical(as.vector(none), 2L)
})

test_that("a MAD of 0 falls back to the mean absolute deviation", {
  got <- detect_outliers(c(1, 1, 1, 1, 50), method = "mad")
  expect_identical(as.vector(got), 5L)
  expect_equal(attr(got, "scale"), 1.253314 * mean(abs(c(1, 1, 1, 1, 50) - 1)))
  # A column that is mostly one value still has its outliers found.
  x <- c(rep(5, 90), 5.5, 4.5, 5.1, 12, -3, NA)
  got <- detect_outliers(x, method = "mad")
  expect_identical(as.vector(got), mad_reference(x)$indices)
  expect_identical(as.vector(got), c(91L, 92L, 94L, 95L))
  expect_equal(attr(got, "scale"), mad_reference(x)$scale, tolerance = 1e-14)
  # Even counts: both middle deviations are 0.
  expect_identical(as.vector(detect_outliers(c(2, 2, 2, 3), method = "mad", threshold = 2)), 4L)
  # All equal: the mean absolute deviation is 0 too, and nothing finite is reported.
  flat <- detect_outliers(c(rep(7L, 9), NA, Inf), method = "mad")
  expect_identical(as.vector(flat), 11L)
  expect_identical(attr(flat, "scale"), 0)
  # The Hampel filter uses the same fallback in each window.
  spike <- c(rep(0, 10), 1, rep(0, 10))
  expect_identical(as.vector(detect_outliers(spike, method = "hampel")), 11L)
  expect_identical(hampel_reference(spike)$indices, 11L)
})

test_that("\"iqr\" reports what boxplot.stats() does, on random and edge inputs", {
  set.seed(10)
  inputs <- list(
    normal = rnorm(1001), even = rnorm(1000), heavy = rt(999, df = 1),
    ties = sample(c(1:10, 40L), 300, replace = TRUE),
    ties_double = round(rexp(400), 1),
    integers = c(sample(-50:50, 99, replace = TRUE), 900L, NA),
    with_na = replace(rnorm(300), c(3, 77, 150), c(NA, NaN, NA)),
    constant = rep(2.5, 17), almost_constant = c(rep(1, 20), 1.5, -1),
    far_from_zero = 1e9 + rnorm(500),
    chunk_edges = rnorm(2048 * 3 + 5)
  )
  for (n in 0:9) inputs[[paste0("n", n)]] <- round(rnorm(n), 1)
  for (name in names(inputs)) {
    x <- inputs[[name]]
    for (threshold in c(0.5, 1, 1.5, 3)) {
      got <- detect_outliers(x, threshold, "iqr")
      expect_identical(as.vector(got), boxplot_indices(x, threshold),
                       label = sprintf("%s, threshold %s", name, threshold))
      expect_identical(as.vector(got), iqr_reference(x, threshold)$indices, label = name)
      if (sum(!is.na(x)) > 0) {
        expect_identical(attr(got, "center"), boxplot.stats(x, coef = threshold)$stats[[3]])
      }
    }
    # threshold 0: outside the hinges (boxplot.stats() reports nothing).
    expect_identical(as.vector(detect_outliers(x, 0, "iqr")), iqr_reference(x, 0)$indices)
  }
})

test_that("\"iqr\": Inf and -Inf are always reported and do not move the hinges", {
  x <- c(1:9, Inf, -Inf, NA)
  got <- detect_outliers(x, method = "iqr")
  expect_identical(as.vector(got), c(10L, 11L))
  expect_identical(attr(got, "center"), 5)
  # boxplot.stats() counts the infinities in fivenum(): here it finds them,
  # but with other hinges ...
  expect_identical(boxplot.stats(x)$stats[c(2, 4)], c(2.5, 7.5))
  expect_identical(c(attr(got, "lower"), attr(got, "upper")), c(3, 7) + c(-6, 6))
  # ... and here it reports nothing, where rwbridge reports both.
  y <- c(1, 2, Inf, Inf, Inf)
  expect_identical(boxplot.stats(y)$out, numeric())
  expect_identical(as.vector(detect_outliers(y, method = "iqr")), 3:5)
})

test_that("\"hampel\" matches a plain loop over windows", {
  set.seed(12)
  n <- 600
  series <- list(
    smooth = sin(seq(0, 20, length.out = n)) + rnorm(n, sd = 0.05),
    spiky = replace(cumsum(rnorm(n)), c(50, 51, 300, 599), c(40, -40, 25, -30)),
    plateaus = rep(c(0, 1, 0, 3), each = n / 4) + c(rep(0, 100), 0.5, rep(0, n - 101)),
    gaps = replace(rnorm(n), sample(n, 60), c(NA, NaN, Inf, -Inf)),
    integers = sample(c(1:5, NA, 60L), n, replace = TRUE, prob = c(rep(0.19, 5), 0.02, 0.03)),
    short = c(1, 50, 2),
    one = 3, empty = numeric()
  )
  for (name in names(series)) {
    x <- series[[name]]
    for (window in c(1L, 3L, 10L, 1000L)) {
      for (threshold in c(0, 2, 3)) {
        got <- detect_outliers(x, threshold, "hampel", window = window)
        expect_identical(as.vector(got), hampel_reference(x, threshold, window)$indices,
                         label = sprintf("%s, window %d, threshold %s", name, window, threshold))
      }
    }
  }
  # A window as wide as the series is the MAD rule on the whole series.
  x <- series$spiky
  expect_identical(as.vector(detect_outliers(x, 3, "hampel", window = n)),
                   as.vector(detect_outliers(x, 3, "mad")))
})

test_that("`by`: each group judged by its own statistics, as split() and lapply()", {
  set.seed(13)
  n <- 3000
  x <- c(rnorm(n - 10, mean = rep(c(0, 50, -20), length.out = n - 10)), 500, NA, NaN, Inf,
         -Inf, 90, 3, 4, 5, 6)
  by_int <- sample(c(1:12, NA), n, replace = TRUE)
  forms <- list(
    integer = by_int, double = as.double(by_int) / 4, character = sprintf("g%02d", by_int),
    factor = factor(by_int, levels = 12:1)
  )
  forms$character[is.na(by_int)] <- NA
  for (form in names(forms)) {
    by <- forms[[form]]
    for (method in c("zscore", "mad", "iqr", "hampel")) {
      threshold <- c(zscore = 2, mad = 2.5, iqr = 1, hampel = 3)[[method]]
      got <- detect_outliers(x, threshold, method, by = by)
      expect_identical(as.vector(got), by_reference(x, by, method, threshold),
                       label = paste(form, method))
      levels <- if (is.factor(by)) levels(by) else levels(factor(by))
      expect_identical(names(attr(got, "center")), levels, label = paste(form, method))
      expect_identical(names(attr(got, "upper")), levels)
      if (method != "hampel") {
        groups <- split(x, by)
        want <- vapply(groups, function(v) references[[method]](v, threshold)$center, 0)
        expect_equal(attr(got, "center"), want, tolerance = 1e-12)
        want <- vapply(groups, function(v) references[[method]](v, threshold)$scale, 0)
        expect_equal(attr(got, "scale"), want, tolerance = 1e-10)
      } else {
        expect_true(all(is.na(attr(got, "center"))))
      }
    }
  }
  # NA groups are never reported, infinite values included.
  in_na <- which(is.na(by_int))
  expect_false(any(in_na %in% detect_outliers(x, by = by_int)))
  # One group is the whole vector.
  for (method in c("zscore", "mad", "iqr", "hampel")) {
    alone <- detect_outliers(x, method = method)
    one <- detect_outliers(x, method = method, by = rep(1L, n))
    expect_identical(as.vector(one), as.vector(alone))
    expect_equal(unname(attr(one, "upper")), attr(alone, "upper"), tolerance = 1e-12)
  }
})

test_that("`by`: groups named as factor() names its levels, empty ones NA", {
  x <- c(1, 2, 3, 100, 5, 6, 7, 8)
  got <- detect_outliers(x, by = factor(rep(c("a", "b"), 4), levels = c("b", "z", "a")))
  expect_identical(names(attr(got, "center")), c("b", "z", "a"))
  expect_identical(attr(got, "center")[["z"]], NA_real_)
  expect_identical(attr(got, "threshold"), 2)
  expect_identical(attr(got, "method"), "zscore")
  dates <- as.Date("2026-01-01") + rep(c(3, 1), 4)
  expect_identical(names(attr(detect_outliers(x, by = dates), "scale")),
                   c("2026-01-02", "2026-01-04"))
  flags <- detect_outliers(x, method = "mad", by = rep(c(TRUE, FALSE, NA, TRUE), 2))
  expect_identical(names(attr(flags, "center")), c("FALSE", "TRUE"))
  expect_identical(names(attr(detect_outliers(x, by = c(2.5, -1, 0, -0, 1e10, 2.5, -1, 0)),
                              "center")), c("-1", "0", "2.5", "1e+10"))
  wide <- c(-2e9L, 5L, 2e9L, 5L, -2e9L, 5L, 2e9L, 5L)
  expect_identical(names(attr(detect_outliers(x, by = wide), "center")),
                   c("-2000000000", "5", "2000000000"))
  nothing <- detect_outliers(x, by = rep(NA, 8))
  expect_identical(as.vector(nothing), integer())
  expect_identical(attr(nothing, "center"), setNames(numeric(), character()))
})

test_that("`by` with \"hampel\": windows run along each group's own elements", {
  # Two interleaved smooth series: alone each is smooth, together they are not.
  n <- 200
  x <- ifelse(seq_len(n) %% 2 == 0, 100 + seq_len(n) / 100, seq_len(n) / 100)
  x[101] <- 30
  by <- seq_len(n) %% 2
  expect_identical(as.vector(detect_outliers(x, method = "hampel", by = by)), 101L)
  expect_identical(as.vector(detect_outliers(x, method = "hampel", by = by)),
                   by_reference(x, by, "hampel", 3))
  expect_gt(length(detect_outliers(x, method = "hampel")), 1)
})

test_that("new methods and `by`: inline and worker results agree", {
  # 2^16 values run inline; one more, NA, runs on the workers and changes
  # no statistic: every attribute and index must be identical.
  set.seed(14)
  n <- 2^16
  below <- c(rnorm(n - 6, 1e6), NA, NaN, Inf, -Inf, 1e7, -1e7)
  above <- c(below, NA)
  for (method in c("iqr", "hampel", "mad")) {
    expect_identical(detect_outliers(above, method = method),
                     detect_outliers(below, method = method), label = method)
  }
  groups <- sample(1:50, n, replace = TRUE)
  for (method in c("zscore", "mad", "iqr", "hampel")) {
    expect_identical(detect_outliers(above, method = method, by = c(groups, 7L)),
                     detect_outliers(below, method = method, by = groups), label = method)
  }
  ints <- c(sample(-1000:1000, n - 2, replace = TRUE), NA, 1e6L)
  expect_identical(detect_outliers(c(ints, NA), method = "iqr"),
                   detect_outliers(ints, method = "iqr"))
  expect_identical(detect_outliers(c(ints, NA), method = "hampel"),
                   detect_outliers(ints, method = "hampel"))
})

test_that("large inputs: new methods agree with their references", {
  set.seed(15)
  x <- c(rnorm(2e5), 40, -40, NA, Inf)
  x[c(1000, 150000)] <- c(40, -40)
  expect_identical(as.vector(detect_outliers(x, method = "iqr")),
                   c(boxplot_indices(x[-200004]), 200004L))
  hampel <- detect_outliers(x, method = "hampel")
  expect_true(all(c(1000L, 150000L, 200004L) %in% hampel))
  g <- sample(1:300, length(x), replace = TRUE)
  expect_identical(as.vector(detect_outliers(x, method = "iqr", by = g)),
                   by_reference(x, g, "iqr", 1.5))
  withr::local_options(rwbridge.threads = 1)
  expect_identical(detect_outliers(x, method = "hampel"), hampel)
})

test_that("agrees with the seed's numpy detector when numpy is installed", {
  # R's LD_LIBRARY_PATH can make a python3 built with a shared libpython
  # load the system's libpython instead of its own, and lose its packages.
  python <- function(code, ...) {
    system2("env", c("-u", "LD_LIBRARY_PATH", "python3", "-c", shQuote(code)), ...)
  }
  skip_if(Sys.which("python3") == "", "python3 is not installed")
  skip_if(python("import numpy", stdout = FALSE, stderr = FALSE) != 0, "numpy is not installed")
  set.seed(5)
  x <- c(rnorm(5e4, 100, 15), runif(20, 200, 300))
  data <- withr::local_tempfile()
  writeBin(x, data, endian = "little")
  code <- sprintf(paste(
    "import numpy as np",
    "data = np.fromfile('%s', dtype='<f8')",
    "print(' '.join(map(str, np.where(np.abs(data - data.mean()) > 2 * data.std())[0])))",
    sep = "; "), data)
  numpy <- as.integer(strsplit(python(code, stdout = TRUE), " ")[[1]])
  expect_identical(as.vector(detect_outliers(x)), numpy + 1L)
})

test_that("plot_outliers() draws every method, and groups", {
  set.seed(3)
  x <- c(sin(seq(0, 10, length.out = 300)) + rnorm(300, sd = 0.1), NA, Inf)
  x[c(40, 200)] <- c(3, -2)
  g <- rep(c("a", "b", "c"), length.out = length(x))
  pdf_path <- withr::local_tempfile(fileext = ".pdf")
  grDevices::pdf(pdf_path)
  for (method in c("zscore", "mad", "iqr", "hampel")) {
    expect_identical(plot_outliers(x, method = method), detect_outliers(x, method = method))
    expect_identical(plot_outliers(x, method = method, by = g),
                     detect_outliers(x, method = method, by = g))
  }
  many <- plot_outliers(x, method = "iqr", by = seq_along(x) %% 20)
  expect_length(attr(many, "center"), 20)
  expect_identical(as.vector(plot_outliers(c(NA, Inf, 1), method = "hampel")), 2L)
  grDevices::dev.off()
  expect_gt(file.size(pdf_path), 5000)
})

test_that("plot_outliers() draws and returns the detection", {
  path <- withr::local_tempfile(fileext = ".png")
  grDevices::png(path)
  set.seed(2)
  x <- c(rnorm(100), 9)
  got <- withVisible(plot_outliers(x, main = "test"))
  grDevices::dev.off()
  expect_false(got$visible)
  expect_identical(got$value, detect_outliers(x))
  expect_gt(file.size(path), 1000)
  expect_error(plot_outliers("x"), class = "rwbridge_type_error")
  grDevices::pdf(NULL)
  withr::defer(grDevices::dev.off())
  expect_length(plot_outliers(numeric()), 0)
  expect_identical(as.vector(plot_outliers(c(NA, Inf, 1))), 2L)
})
