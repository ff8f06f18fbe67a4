# outlier_stats(): statistics that merge across chunks as if computed at once.

# The two-pass reference in long double (R's mean() and sum()).
stats_reference <- function(x) {
  finite <- x[is.finite(x)]
  center <- mean(finite)
  list(n = length(finite), center = center, scale = sqrt(sum((finite - center)^2) / length(finite)))
}

test_that("one pass agrees with the long-double reference", {
  set.seed(3)
  for (x in list(rnorm(1e5), 1e9 + rnorm(2e5), c(1:10, NA, Inf), sample(-5:5, 1e5, TRUE))) {
    got <- outlier_stats(x)
    want <- stats_reference(x)
    expect_s3_class(got, "rwbridge_outlier_stats")
    expect_identical(got$n, as.double(want$n))
    expect_equal(got$center, want$center, tolerance = 1e-12)
    expect_equal(got$scale, want$scale, tolerance = 1e-12)
  }
  empty <- outlier_stats(c(NA, NaN, Inf))
  expect_identical(empty$n, 0)
  expect_identical(c(empty$center, empty$scale), c(NA_real_, NA_real_))
})

test_that("chunks merged with c() equal one pass, to 1e-12, whatever the chunks", {
  set.seed(4)
  x <- c(1e9 + rnorm(3e5), NA, 1e9 + 50, -Inf)
  whole <- outlier_stats(x)
  for (chunks in c(2, 7, 64)) {
    parts <- split(x, sort(rep_len(seq_len(chunks), length(x))))
    merged <- do.call(c, lapply(parts, outlier_stats))
    expect_identical(merged$n, whole$n)
    expect_equal(merged$center, whole$center, tolerance = 1e-12)
    expect_equal(merged$scale, whole$scale, tolerance = 1e-12)
  }
  # Empty chunks change nothing.
  expect_identical(c(whole, outlier_stats(numeric(0))), whole)
  expect_error(c(whole, list(n = 1)), class = "rwbridge_type_error")
  expect_error(outlier_stats("a"), class = "rwbridge_type_error")
  expect_output(print(whole), "n = 300001")
})

test_that("chunked detection with the merged statistics equals detection on the whole", {
  set.seed(5)
  x <- c(1e6 + rnorm(2e5), 1e6 + 9, NA, Inf, 1e6 - 7)
  whole <- detect_outliers(x)
  chunks <- split(seq_along(x), sort(rep_len(1:5, length(x))))
  merged <- do.call(c, lapply(chunks, function(i) outlier_stats(x[i])))
  found <- unlist(lapply(chunks, function(i) {
    i[detect_outliers(x[i], center = merged$center, scale = merged$scale)]
  }), use.names = FALSE)
  expect_identical(found, as.vector(whole))
  expect_equal(merged$center, attr(whole, "center"), tolerance = 1e-12)
  expect_equal(merged$scale, attr(whole, "scale"), tolerance = 1e-12)
  # A baseline's statistics, given, are the ones used and reported.
  scored <- detect_outliers(x, center = 1e6, scale = 2, threshold = 3)
  expect_identical(attr(scored, "center"), 1e6)
  expect_identical(attr(scored, "scale"), 2)
  expect_identical(as.vector(scored), which(is.infinite(x) | abs(x - 1e6) > 6))
  mad <- detect_outliers(x, threshold = 2, method = "mad", center = 1e6, scale = 2)
  expect_identical(as.vector(mad), which(is.infinite(x) | abs(x - 1e6) > 4))
})

test_that("center and scale are checked", {
  expect_error(detect_outliers(1:10, center = 1), "together", class = "rwbridge_value_error")
  expect_error(detect_outliers(1:10, center = 1, scale = 1, method = "iqr"),
               class = "rwbridge_value_error")
  expect_error(detect_outliers(1:10, center = 1, scale = 1, by = rep(1:2, 5)),
               class = "rwbridge_value_error")
  expect_error(detect_outliers(1:10, center = "1", scale = 1), class = "rwbridge_type_error")
  expect_error(detect_outliers(1:10, center = 1, scale = -1), class = "rwbridge_value_error")
  expect_error(detect_outliers(1:10, center = NA_real_, scale = 1), class = "rwbridge_value_error")
  expect_error(detect_outliers(1:10, center = NA, scale = 1), class = "rwbridge_type_error")
})
