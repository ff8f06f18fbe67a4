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
    got <- detect_outliers(x, threshold = 2, method = method)
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
  # "mad" was 2 until 2026-12: 2 flags 4.5% of clean normal data.
  usual <- c(zscore = 2, mad = 3, iqr = 1.5, hampel = 3, adjbox = 1.5)
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
  expect_identical(attr(detect_outliers(x, method = eval(formals(detect_outliers)$method)),
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
                                       window = 5L, n = as.double(length(x)),
                                       class = "rwbridge_outliers"))
  for (got in list(z, m, i)) {
    expect_identical(names(attributes(got)),
                     c("center", "scale", "lower", "upper", "threshold", "method", "n", "class"))
    inside <- x >= attr(got, "lower") & x <= attr(got, "upper")
    expect_false(any(inside[got], na.rm = TRUE))
  }
  none <- detect_outliers(c(NA, Inf), method = "iqr")
  expect_identical(attr(none, "lower"), NA_real_)
  expect_identical(as.vector(none), 2L)
})

test_that("a MAD of 0 falls back to the mean absolute deviation", {
  got <- detect_outliers(c(1, 1, 1, 1, 50), threshold = 2, method = "mad")
  expect_identical(as.vector(got), 5L)
  expect_equal(attr(got, "scale"), 1.253314 * mean(abs(c(1, 1, 1, 1, 50) - 1)))
  # A column that is mostly one value still has its outliers found.
  x <- c(rep(5, 90), 5.5, 4.5, 5.1, 12, -3, NA)
  got <- detect_outliers(x, threshold = 2, method = "mad")
  expect_identical(as.vector(got), mad_reference(x)$indices)
  expect_identical(as.vector(got), c(91L, 92L, 94L, 95L))
  expect_equal(attr(got, "scale"), mad_reference(x)$scale, tolerance = 1e-14)
  # Even counts: both middle deviations are 0.
  expect_identical(as.vector(detect_outliers(c(2, 2, 2, 3), method = "mad", threshold = 2)), 4L)
  # All equal: the mean absolute deviation is 0 too, and nothing finite is reported.
  flat <- detect_outliers(c(rep(7L, 9), NA, Inf), threshold = 2, method = "mad")
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
  flags <- detect_outliers(x, threshold = 2, method = "mad", by = rep(c(TRUE, FALSE, NA, TRUE), 2))
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
  # The results differ only in `n`, the length of `x`.
  expect_identical <- function(object, expected, ...) {
    attr(object, "n") <- attr(expected, "n") <- NULL
    testthat::expect_identical(object, expected, ...)
  }
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

# ---------------------------------------------------------------- #18: huge values

# The mean in long double (R's mean()), the sd from halves scaled by the
# largest deviation, so that no square and no difference overflows.
huge_reference <- function(x) {
  finite <- x[is.finite(x)]
  center <- mean(finite)
  d <- finite / 2 - center / 2
  s <- max(abs(d))
  list(center = center, scale = if (s == 0) 0 else 2 * (s * sqrt(mean((d / s)^2))))
}

test_that("huge finite values: the mean and sd are finite and right (issue #18)", {
  xmax <- .Machine$double.xmax
  cases <- list(
    five_max = c(rep(xmax, 5), -xmax),
    mixed = c(1e308, -1e308, 1e308, 0, 1, 2),
    squares_overflow = c(1e200, -1e200, 3e199, 0, NA, Inf),
    chunk_edges = c(rnorm(2048 * 2 + 3), xmax, -xmax / 2)
  )
  for (name in names(cases)) {
    x <- cases[[name]]
    want <- huge_reference(x)
    got <- detect_outliers(x, threshold = 1)
    expect_equal(attr(got, "center"), want$center, tolerance = 1e-14, label = name)
    expect_equal(attr(got, "scale"), want$scale, tolerance = 1e-14, label = name)
    expect_true(is.finite(attr(got, "center")) && is.finite(attr(got, "scale")), label = name)
    # Judged at half scale where a deviation overflows: the same indices
    # as the reference's halves.
    judged <- abs(x / 2 - want$center / 2) > want$scale / 2
    expect_identical(as.vector(got), which(is.infinite(x) | (is.finite(x) & judged)), label = name)
    stats <- outlier_stats(x)
    expect_equal(stats$center, want$center, tolerance = 1e-14, label = name)
    expect_equal(stats$scale, want$scale, tolerance = 1e-14, label = name)
  }
  five <- detect_outliers(cases$five_max)
  expect_identical(as.vector(five), 6L)
  mixed <- detect_outliers(cases$mixed)
  expect_equal(attr(mixed, "center"), mean(cases$mixed), tolerance = 1e-15)
  expect_equal(attr(mixed, "center"), 1.6666666666666667e307, tolerance = 1e-15)
})

test_that("huge values: outlier_stats() merged from chunks equals the whole", {
  xmax <- .Machine$double.xmax
  set.seed(18)
  x <- c(rep(xmax, 5), -xmax, rnorm(5000), 1e308, -1e308, 1e200)
  whole <- outlier_stats(x)
  want <- huge_reference(x)
  expect_equal(whole$center, want$center, tolerance = 1e-13)
  expect_equal(whole$scale, want$scale, tolerance = 1e-13)
  for (chunks in list(c(1, 5), c(3, 3), seq(1, length(x), by = 700))) {
    parts <- split(x, findInterval(seq_along(x), chunks))
    merged <- do.call(c, lapply(parts, outlier_stats))
    expect_identical(merged$n, whole$n)
    expect_equal(merged$center, whole$center, tolerance = 1e-13)
    expect_equal(merged$scale, whole$scale, tolerance = 1e-13)
  }
  # Two chunks of one huge value each, of opposite signs.
  pair <- c(outlier_stats(rep(xmax, 3)), outlier_stats(-xmax))
  expect_equal(pair$center, huge_reference(c(rep(xmax, 3), -xmax))$center, tolerance = 1e-15)
  expect_equal(pair$scale, huge_reference(c(rep(xmax, 3), -xmax))$scale, tolerance = 1e-15)
  # Ordinary data keep unit 1, and their statistics as before.
  expect_identical(outlier_stats(c(1, 2, 4))$unit, 1)
})

# ------------------------------------------------------------------- "adjbox"

skip_without_robustbase <- function() {
  skip_if_not_installed("robustbase")
  options(mc_doScale_quiet = TRUE)
}

# robustbase's outliers mapped back to indices (every element equal to a
# reported value), and its fences.
adjbox_reference <- function(x, coef = 1.5) {
  stats <- robustbase::adjbox(x, range = coef, plot = FALSE)
  list(indices = which(x %in% stats$out), fence = as.vector(stats$fence))
}

test_that("the medcouple is robustbase's mc(doReflect = FALSE)", {
  skip_without_robustbase()
  set.seed(21)
  samples <- list(
    tiny = c(1, 2, 3), symmetric = 1:9, skewed = rexp(50), lognormal = rlnorm(333),
    ties = sample(1:6, 200, replace = TRUE), zero_median = sample(-3:3, 101, replace = TRUE),
    left_skewed = -rexp(1000), median_at_min = c(1, 1, 1, 2, 5),
    median_at_max = c(1, 4, 4, 4, 4), normal = rnorm(10001), big = rlnorm(1e5)
  )
  for (name in names(samples)) {
    x <- samples[[name]]
    expect_equal(rwbridge:::medcouple_(as.double(x)), robustbase::mc(x, doReflect = FALSE),
                 tolerance = 1e-13, label = name)
  }
  # O(n log n): a million values in well under robustbase's time.
  expect_true(is.finite(rwbridge:::medcouple_(rlnorm(1e6))))
})

test_that("\"adjbox\" finds robustbase::adjbox()'s outliers", {
  skip_without_robustbase()
  set.seed(22)
  inputs <- list(
    lognormal = rlnorm(500), exponential = c(rexp(300), 9), normal = rnorm(1001),
    ties = round(rexp(400), 1), integers = c(sample(1:20, 99, replace = TRUE), 200L),
    left = -rlnorm(250), with_na = replace(rlnorm(300), c(5, 50), NA),
    small = c(1.2, 0.7, 3.1, 2.2, 14), far_from_zero = 1e9 + rlnorm(400)
  )
  for (name in names(inputs)) {
    x <- inputs[[name]]
    for (coef in c(1, 1.5, 3)) {
      got <- detect_outliers(x, coef, "adjbox")
      want <- adjbox_reference(x, coef)
      expect_identical(as.vector(got), want$indices, label = sprintf("%s, %s", name, coef))
      expect_equal(c(attr(got, "lower"), attr(got, "upper")), want$fence, tolerance = 1e-12,
                   label = name)
    }
  }
  # Skewed data: Tukey's fences flag the long tail, the adjusted ones far less.
  x <- rlnorm(2000)
  expect_lt(length(detect_outliers(x, method = "adjbox")),
            length(detect_outliers(x, method = "iqr")) / 2)
  # Infinite values are reported and do not move the fences.
  y <- c(inputs$lognormal, Inf, -Inf)
  got <- detect_outliers(y, method = "adjbox")
  expect_identical(as.vector(got), c(adjbox_reference(inputs$lognormal)$indices, 501L, 502L))
  # With `by`: each group as adjbox() sees it alone.
  g <- rep(c("a", "b", "c"), length.out = 600)
  z <- rlnorm(600, meanlog = match(g, c("a", "b", "c")))
  got <- detect_outliers(z, method = "adjbox", by = g)
  want <- sort(unlist(lapply(split(seq_along(z), g), function(i) i[adjbox_reference(z[i])$indices])))
  expect_identical(as.vector(got), unname(want))
})

# ------------------------------------------------------------------- "gesd"

# Rosner's generalized ESD test from its definition (Rosner 1983; NIST/SEMATECH
# e-Handbook 1.3.5.17.3), plain R: R_i, lambda_i, and the outliers.
gesd_reference <- function(x, k = 10, alpha = 0.05) {
  index <- which(is.finite(x))
  left <- x[index]
  n <- length(left)
  R <- lambda <- numeric(k)
  removed <- integer(k)
  for (i in seq_len(k)) {
    distance <- abs(left - mean(left)) / sd(left)
    at <- which.max(distance)
    R[i] <- distance[at]
    p <- 1 - alpha / (2 * (n - i + 1))
    t <- qt(p, n - i - 1)
    lambda[i] <- t * (n - i) / sqrt((n - i - 1 + t^2) * (n - i + 1))
    removed[i] <- index[at]
    left <- left[-at]
    index <- index[-at]
  }
  m <- max(c(0L, which(R > lambda)))
  list(R = R, lambda = lambda, indices = sort(removed[seq_len(m)]))
}

# NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.5.17.3: Rosner's
# 54 values, tested for up to 10 outliers at alpha 0.05.
nist_rosner <- c(
  -0.25, 0.68, 0.94, 1.15, 1.20, 1.26, 1.26, 1.34, 1.38, 1.43, 1.49, 1.49, 1.55, 1.56,
  1.58, 1.65, 1.69, 1.70, 1.76, 1.77, 1.81, 1.91, 1.94, 1.96, 1.99, 2.06, 2.09, 2.10,
  2.14, 2.15, 2.23, 2.24, 2.26, 2.35, 2.37, 2.40, 2.47, 2.54, 2.62, 2.64, 2.90, 2.92,
  2.92, 2.93, 3.21, 3.26, 3.30, 3.59, 3.68, 4.30, 4.64, 5.34, 5.42, 6.01
)

test_that("the plain-R reference reproduces NIST's published example", {
  ref <- gesd_reference(nist_rosner, 10, 0.05)
  # The handbook's table: test statistics and critical values, 3 decimals.
  expect_equal(round(ref$R, 3), c(3.119, 2.943, 3.179, 2.810, 2.816, 2.848, 2.279, 2.310,
                                  2.102, 2.067), tolerance = 1.5e-3)
  expect_equal(round(ref$lambda, 3), c(3.159, 3.151, 3.144, 3.136, 3.128, 3.120, 3.111,
                                       3.103, 3.094, 3.085), tolerance = 1.5e-3)
  expect_identical(ref$indices, 52:54)
})

test_that("\"gesd\" decides as Rosner's test, on NIST's example and random samples", {
  got <- detect_outliers(nist_rosner, method = "gesd")
  expect_identical(as.vector(got), 52:54)
  expect_identical(attr(got, "threshold"), NA_real_)
  expect_identical(attr(got, "alpha"), 0.05)
  kept <- nist_rosner[-(52:54)]
  expect_equal(attr(got, "center"), mean(kept), tolerance = 1e-14)
  expect_equal(attr(got, "scale"), sd(kept), tolerance = 1e-14)
  set.seed(23)
  for (n in c(5, 12, 30, 100, 1000, 1e5)) {
    for (k in c(1, 3, 10)) {
      if (k > n - 4) next  # two values are made NA and Inf below
      x <- c(rnorm(n - 4), runif(4, 3, 8) * sample(c(-1, 1), 4, replace = TRUE))
      x[sample(n, 2)] <- c(NA, Inf)
      want <- gesd_reference(x, k)$indices
      got <- detect_outliers(x, method = "gesd", max_outliers = k)
      expect_identical(as.vector(got), sort(c(want, which(is.infinite(x)))),
                       label = sprintf("n %s, k %s", n, k))
    }
  }
  # alpha moves the decision as the reference says.
  x <- c(rnorm(40), 3.2, 3.4)
  for (alpha in c(0.001, 0.05, 0.2)) {
    expect_identical(as.vector(detect_outliers(x, method = "gesd", alpha = alpha)),
                     gesd_reference(x, 10, alpha)$indices)
  }
  # With `by`: each group tested alone, the default lowered to fit it.
  g <- rep(1:3, c(8, 40, 52))
  y <- c(rnorm(100), 9, -9)[1:100]
  y[c(3, 20, 90)] <- c(7, -8, 10)
  got <- detect_outliers(y, method = "gesd", by = g)
  want <- unlist(lapply(split(seq_along(y), g), function(i) {
    i[gesd_reference(y[i], min(10, length(i) - 2))$indices]
  }))
  expect_identical(as.vector(got), sort(unname(want)))
})

test_that("\"gesd\": few values, ties and the limits of max_outliers", {
  # Fewer than 3 finite values: nothing finite to test.
  expect_identical(as.vector(detect_outliers(c(1, 50, NA, Inf), method = "gesd")), 4L)
  # The default 10 is lowered to n - 2; a given one larger is an error.
  x <- c(1, 2, 3, 2, 1, 40)
  expect_identical(as.vector(detect_outliers(x, method = "gesd")), gesd_reference(x, 4)$indices)
  expect_error(detect_outliers(x, method = "gesd", max_outliers = 5), "`max_outliers`",
               class = "rwbridge_value_error")
  expect_error(detect_outliers(c(x, NA, NA), method = "gesd", max_outliers = 7),
               "`max_outliers`", class = "rwbridge_value_error")
  # Two equal outliers are both found.
  y <- c(rnorm(30), 25, 25)
  expect_identical(as.vector(detect_outliers(y, method = "gesd")), 31:32)
})

# ------------------------------------------------------------ character `by`

test_that("character `by` groups as the factor of its bytewise-sorted values", {
  set.seed(24)
  n <- 5000
  x <- c(rnorm(n - 3), 40, -40, 30)
  words <- c("b", "a", "B", "\u00e9t\u00e9", "a b", "", "Z9", "z")
  by <- sample(c(words, NA), n, replace = TRUE)
  levels <- sort(unique(by[!is.na(by)]), method = "radix")
  as_factor <- factor(by, levels = levels)
  for (method in c("zscore", "mad", "iqr", "hampel", "adjbox", "gesd")) {
    got <- detect_outliers(x, method = method, by = by)
    want <- detect_outliers(x, method = method, by = as_factor)
    expect_identical(got, want, label = method)
    expect_identical(names(attr(got, "center")), levels)
  }
  # Strings built apart are one group; NA is none.
  built <- vapply(c("a", "b", "a"), function(s) paste0(s, ""), "")
  got <- detect_outliers(c(1, 2, 3), by = built)
  expect_identical(names(attr(got, "center")), c("a", "b"))
  expect_identical(as.vector(detect_outliers(c(1, Inf, 3), by = c("a", NA, "a"))), integer())
  # A long vector of strings, on the workers, as one factor gives it.
  big <- sample(sprintf("g%05d", 1:3000), 2e5, replace = TRUE)
  y <- rnorm(2e5)
  expect_identical(detect_outliers(y, method = "mad", by = big),
                   detect_outliers(y, method = "mad", by = factor(big)))
})

# ------------------------------------------------------------ new arguments

test_that("max_outliers, alpha and replace are checked, naming the argument", {
  expect_error(detect_outliers(1:10, method = "gesd", max_outliers = 11), "`max_outliers`",
               class = "rwbridge_value_error")
  for (bad in list(0, -1, 2.5, NA_real_, Inf)) {
    expect_error(detect_outliers(1:10, method = "gesd", max_outliers = bad), "`max_outliers`",
                 class = "rwbridge_value_error")
  }
  for (bad in list("3", c(1, 2), NULL, TRUE)) {
    expect_error(detect_outliers(1:10, method = "gesd", max_outliers = bad), "`max_outliers`",
                 class = "rwbridge_type_error")
  }
  for (bad in list(0, 1, -0.1, 1.5, NA_real_)) {
    expect_error(detect_outliers(1:10, method = "gesd", alpha = bad), "`alpha`",
                 class = "rwbridge_value_error")
  }
  for (bad in list("0.05", c(0.01, 0.05), NULL, 1L)) {
    expect_error(detect_outliers(1:10, method = "gesd", alpha = bad), "`alpha`",
                 class = "rwbridge_type_error")
  }
  # Checked whatever the method, as `window` is.
  expect_error(detect_outliers(1:10, alpha = 2), class = "rwbridge_value_error")
  expect_error(clean_outliers(1:10, replace = "mean"), "`replace`",
               class = "rwbridge_value_error")
  expect_error(clean_outliers(1:10, replace = NA), "`replace`", class = "rwbridge_type_error")
  expect_error(clean_outliers(1:10, replace = 1), "`replace`", class = "rwbridge_type_error")
  expect_snapshot(error = TRUE, {
    detect_outliers(1:10, method = "gesd", max_outliers = 20)
    detect_outliers(c(1:3, NA), method = "gesd", max_outliers = 3)
    detect_outliers(1:10, method = "gesd", alpha = 1)
    clean_outliers(1:10, replace = "mean")
  })
})

test_that("plot_outliers() draws \"adjbox\" and \"gesd\"", {
  pdf_path <- withr::local_tempfile(fileext = ".pdf")
  grDevices::pdf(pdf_path)
  set.seed(25)
  x <- c(rlnorm(300), 30)
  expect_identical(plot_outliers(x, method = "adjbox"), detect_outliers(x, method = "adjbox"))
  g <- rep(c("a", "b"), length.out = length(x))
  expect_identical(plot_outliers(x, method = "gesd", by = g, max_outliers = 3),
                   detect_outliers(x, method = "gesd", by = g, max_outliers = 3))
  grDevices::dev.off()
  expect_gt(file.size(pdf_path), 3000)
})
