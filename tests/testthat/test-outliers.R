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

mad_reference <- function(x, threshold = 2) {
  finite <- x[is.finite(x)]
  center <- median(finite)
  scale <- 1.4826 * median(abs(finite - center))
  judged <- length(finite) > 0 && scale > 0
  list(
    indices = which(is.infinite(x) | (judged & abs(x - center) > threshold * scale)),
    center = center, scale = scale
  )
}

expect_matches_reference <- function(x, threshold = 2) {
  for (method in c("zscore", "mad")) {
    want <- if (method == "zscore") zscore_reference(x, threshold) else mad_reference(x, threshold)
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

test_that("length 0, one value, constant data and a MAD of 0 report no finite value", {
  for (method in c("zscore", "mad")) {
    empty <- detect_outliers(numeric(), method = method)
    expect_identical(as.vector(empty), integer())
    expect_identical(attr(empty, "center"), NA_real_)
    expect_identical(as.vector(detect_outliers(5, method = method)), integer())
    constant <- detect_outliers(rep(0.1, 10), threshold = 0.5, method = method)
    expect_identical(as.vector(constant), integer())
    expect_identical(attr(constant, "scale"), 0)
    expect_identical(attr(constant, "center"), 0.1)
    expect_identical(as.vector(detect_outliers(c(rep(3L, 5), Inf), method = method)), 6L)
  }
  mad0 <- detect_outliers(c(1, 1, 1, 1, 50), method = "mad")
  expect_identical(as.vector(mad0), integer())
  expect_identical(attr(mad0, "scale"), 0)
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
  keep <- x + 0
  traced <- capture.output({
    tracemem(x)
    detect_outliers(x)
    detect_outliers(x, method = "mad")
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
  expect_snapshot(error = TRUE, {
    detect_outliers(list(1, 2))
    detect_outliers(1:3, threshold = -2)
    detect_outliers(1:3, method = "mean")
  })
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
