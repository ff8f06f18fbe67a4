# The result's class, print(), format() and summary(); is_outlier(),
# outlier_scores() and clean_outliers(), each against plain R or the
# package that defines the behaviour (pracma for the Hampel filter).

test_that("the result is still the integer vector of indices", {
  set.seed(42)
  x <- runif(1000)
  x[c(8, 114, 836)] <- 97
  found <- detect_outliers(x)
  expect_s3_class(found, "rwbridge_outliers")
  expect_type(found, "integer")
  expect_identical(as.vector(found), c(8L, 114L, 836L))
  expect_identical(length(found), 3L)
  expect_identical(x[found], c(97, 97, 97))
  expect_identical(unclass(found)[1:3], c(8L, 114L, 836L))
  expect_identical(which(seq_along(x) %in% found), c(8L, 114L, 836L))
  # Subsetting gives plain integers.
  expect_identical(found[2], 114L)
})

test_that("print() and format() say how many of how many, by which rule, and where", {
  set.seed(42)
  x <- runif(1000)
  x[c(8, 114, 836)] <- 97
  found <- detect_outliers(x)
  text <- format(found)
  expect_length(text, 2)
  expect_match(text[1], "^3 of 1,000 values are outliers by the z-score rule, \\|x - mean\\| > 2 sd")
  expect_match(text[1], sprintf("outside \\[%s, %s\\]", signif(attr(found, "lower"), 4),
                                signif(attr(found, "upper"), 4)), fixed = FALSE)
  expect_identical(text[2], "at 8, 114, 836")
  expect_output(print(found), "3 of 1,000 values are outliers", fixed = TRUE)
  expect_identical(withVisible(print(found))$visible, FALSE)
  many <- detect_outliers(seq(-50, 50), threshold = 0.1)
  expect_match(format(many)[2], "^at 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, \\.\\.\\. \\([0-9]+ more\\)$")
  expect_identical(format(detect_outliers(1:5))[2], "at none")
  expect_match(format(detect_outliers(x, method = "hampel"))[1], "Hampel filter")
  expect_match(format(detect_outliers(x, method = "gesd"))[1],
               "generalized ESD test, alpha 0.05, at most 10 outliers")
  expect_match(format(detect_outliers(x, method = "adjbox"))[1], "skew-adjusted boxplot")
  expect_match(format(detect_outliers(x, method = "mad", by = rep(1:4, 250)))[1],
               "within each of 4 groups")
  expect_snapshot(print(detect_outliers(c(1:20, 90, -70), method = "iqr")))
})

test_that("summary() gives one row per group", {
  x <- c(1, 2, 3, 100, 5, 6, 7, 8, 2, 3, -90, 4)
  g <- rep(c("a", "b", "c"), each = 4)
  found <- detect_outliers(x, method = "mad", threshold = 2, by = g)
  s <- summary(found)
  expect_identical(s$group, c("a", "b", "c"))
  expect_identical(s$outliers, vapply(split(seq_along(x), g), function(i) sum(i %in% found), 0L,
                                      USE.NAMES = FALSE))
  expect_identical(s$center, unname(attr(found, "center")))
  expect_identical(s$upper, unname(attr(found, "upper")))
  whole <- summary(detect_outliers(x))
  expect_identical(nrow(whole), 1L)
  expect_identical(whole$outliers, length(detect_outliers(x)))
})

test_that("is_outlier(): a flag per value, NA where x or its group is NA", {
  x <- c(1, 2, NA, 3, 100, NaN, 2, Inf, 3)
  flags <- is_outlier(x, threshold = 2, method = "mad")
  want <- seq_along(x) %in% detect_outliers(x, threshold = 2, method = "mad")
  want[is.na(x)] <- NA
  expect_identical(flags, want)
  # The median is 2.5 and the MAD 0.5: 1 lies 2.02 robust sd below.
  expect_identical(flags, c(TRUE, FALSE, NA, FALSE, TRUE, NA, FALSE, TRUE, FALSE))
  g <- c("a", "a", "a", NA, "a", "b", "b", "b", "b")
  flags <- is_outlier(x, method = "iqr", by = g)
  expect_identical(is.na(flags), is.na(x) | is.na(g))
  expect_identical(which(flags), as.vector(detect_outliers(x, method = "iqr", by = g)))
  # As a data frame column, for subset().
  d <- data.frame(v = c(rnorm(50), 9))
  expect_identical(nrow(subset(d, is_outlier(v, method = "mad"))), 1L)
  expect_identical(is_outlier(numeric()), logical())
})

test_that("outlier_scores(): signed; abs(score) > threshold, or > 0 for fences, marks the outliers", {
  set.seed(26)
  x <- c(rlnorm(300), 40, NA, -Inf, NaN)
  for (method in c("zscore", "mad", "hampel")) {
    found <- detect_outliers(x, method = method)
    scores <- outlier_scores(x, method = method)
    expect_length(scores, length(x))
    expect_identical(which(abs(scores) > attr(found, "threshold")), as.vector(found),
                     label = method)
  }
  for (method in c("iqr", "adjbox")) {
    found <- detect_outliers(x, method = method)
    scores <- outlier_scores(x, method = method)
    expect_identical(which(abs(scores) > 0), as.vector(found), label = method)
    # The distance beyond the nearer fence, in IQRs.
    up <- which(x > attr(found, "upper") & is.finite(x))
    expect_equal(scores[up], (x[up] - attr(found, "upper")) / attr(found, "scale"))
  }
  z <- outlier_scores(x)
  finite <- x[is.finite(x)]
  expect_equal(z[1:300], (x[1:300] - mean(finite)) / sqrt(mean((finite - mean(finite))^2)))
  expect_identical(z[302:304], c(NA, -Inf, NA))
  expect_true(all(outlier_scores(x, method = "mad")[1:300] * sign(x[1:300] - median(finite)) >= 0))
  # "gesd": z against the values the test kept.
  g <- detect_outliers(x, method = "gesd")
  expect_equal(outlier_scores(x, method = "gesd")[1:10],
               (x[1:10] - attr(g, "center")) / attr(g, "scale"))
  # Undefined: a scale of 0, an NA group.
  expect_identical(outlier_scores(rep(2, 5)), rep(NA_real_, 5), ignore_attr = TRUE)
  by <- rep(c("a", NA), length.out = length(x))
  expect_true(all(is.na(outlier_scores(x, method = "mad", by = by)[is.na(by)])))
  expect_identical(attr(outlier_scores(x, method = "mad"), "method"), "mad")
})

test_that("clean_outliers(): winsorised, NA or median, and the attributes say which", {
  x <- c(1, 2, 3, 2, 1, 50, 2, 3, -40, 2)
  found <- detect_outliers(x, threshold = 2, method = "mad")
  bounds <- clean_outliers(x, threshold = 2, method = "mad")
  expect_identical(attr(bounds, "cleaned"), as.vector(found))
  expect_identical(attr(bounds, "replace"), "bounds")
  expect_identical(attr(bounds, "method"), "mad")
  expect_identical(as.vector(bounds[-found]), x[-found])
  expect_identical(as.vector(bounds[6]), attr(found, "upper"))
  expect_identical(as.vector(bounds[9]), attr(found, "lower"))
  as_na <- clean_outliers(x, threshold = 2, method = "mad", replace = "NA")
  expect_identical(which(is.na(as_na)), as.vector(found))
  median_of <- clean_outliers(x, threshold = 2, method = "mad", replace = "median")
  expect_identical(as.vector(median_of[found]), rep(median(x), length(found)))
  # Integers keep their type with "NA"; names are kept.
  ints <- c(a = 1L, b = 2L, c = 90L, d = 2L, e = 1L)
  expect_type(clean_outliers(ints, threshold = 2, method = "mad", replace = "NA"), "integer")
  expect_identical(names(clean_outliers(ints, threshold = 2, method = "mad")), names(ints))
  # By group: each outlier to its own group's bounds or median.
  g <- rep(c("u", "v"), each = 5)
  cleaned <- clean_outliers(x, method = "iqr", by = g, replace = "median")
  for (i in attr(cleaned, "cleaned")) {
    expect_identical(as.vector(cleaned[i]), median(x[g == g[i]]))
  }
  # "zscore" winsorised: the bound crossed.
  z <- c(rnorm(100), 12)
  cz <- clean_outliers(z)
  expect_identical(as.vector(cz[101]), attr(detect_outliers(z), "upper"))
})

test_that("clean_outliers(method = \"hampel\", replace = \"median\") is pracma::hampel()", {
  skip_if_not_installed("pracma")
  set.seed(27)
  n <- 500
  x <- sin(seq(0, 20, length.out = n)) + rnorm(n, sd = 0.1)
  x[c(40, 41, 200, 350, 499)] <- c(3, -2, 4, -3, 5)
  for (k in c(2L, 3L, 7L)) {
    for (t0 in c(2, 3)) {
      ours <- clean_outliers(x, method = "hampel", window = k, threshold = t0, replace = "median")
      theirs <- pracma::hampel(x, k, t0)
      # pracma leaves the first and last k values alone; its windows are
      # whole everywhere else, as ours are.
      inner <- (k + 1):(n - k)
      expect_identical(as.vector(ours)[inner], theirs$y[inner], label = sprintf("k %d, t0 %s", k, t0))
      expect_identical(intersect(attr(ours, "cleaned"), inner), as.integer(theirs$ind))
    }
  }
})
