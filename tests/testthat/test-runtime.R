# Where work runs: inline on the R thread when small, on kept worker
# threads when not. Results must not depend on which, and the kept workers
# must survive fork(), as parallel::mclapply() and future's multicore do.

# Evaluates `expr` in a forked child and returns its value; a child that
# hangs (a pool waiting on threads that fork() did not copy) is killed and
# fails the test instead of hanging the suite.
in_fork <- function(expr, timeout = 60) {
  job <- parallel::mcparallel(expr, silent = TRUE)
  got <- parallel::mccollect(job, wait = FALSE, timeout = timeout)
  if (is.null(got)) {
    tools::pskill(job$pid, tools::SIGKILL)
    parallel::mccollect(job, wait = FALSE, timeout = 1)
    stop("the forked child did not answer within ", timeout, " s")
  }
  got[[1L]]
}

# 2^16 values run inline; one more runs on the workers.
inline_max <- 2^16

test_that("inline and worker results agree on both sides of the threshold", {
  set.seed(11)
  below <- c(rnorm(inline_max - 6, 1e6), NA, NaN, Inf, -Inf, 1e7, -1e7)
  # One more element, NA, changes no statistic but moves the work to the
  # workers: every attribute and index must be identical, bit for bit, but
  # `n`, the length of `x`.
  above <- c(below, NA)
  expect_identical <- function(object, expected, ...) {
    attr(object, "n") <- attr(expected, "n") <- NULL
    testthat::expect_identical(object, expected, ...)
  }
  for (method in c("zscore", "mad")) {
    inline <- detect_outliers(below, method = method)
    workers <- detect_outliers(above, method = method)
    expect_identical(workers, inline, label = method)
    expect_true(all(c(inline_max - 3, inline_max - 2) %in% inline))
  }
  ints <- c(sample(-1000:1000, inline_max - 2, replace = TRUE), NA, 1e6L)
  expect_identical(detect_outliers(c(ints, NA)), detect_outliers(ints))
  expect_identical(detect_outliers(c(ints, NA), method = "mad"),
                   detect_outliers(ints, method = "mad"))
})

test_that("one file hashed inline and many shared with workers agree", {
  files <- setNames(as.list(sprintf("content %d\n", 1:40)), sprintf("f%02d", 1:40))
  dir <- local_tree(unlist(files))
  paths <- file.path(dir, names(files))
  want <- vapply(unlist(files), sha1_of, "")
  # One path at a time stays inline; forty are shared with the workers.
  one_by_one <- vapply(paths, function(p) unname(hash_files(p)), "", USE.NAMES = FALSE)
  expect_identical(one_by_one, unname(want))
  expect_identical(unname(hash_files(paths)), unname(want))
})

test_that("the thread option takes effect at the next call", {
  x <- c(rnorm(2e5), 40)
  withr::local_options(rwbridge.threads = 1)
  one <- detect_outliers(x)
  withr::local_options(rwbridge.threads = 2)
  expect_identical(detect_outliers(x), one)
  withr::local_options(rwbridge.threads = 0)
  expect_error(detect_outliers(x), "rwbridge.threads", class = "rwbridge_value_error")
})

test_that("a forked child works after the parent used its workers", {
  skip_on_os("windows")
  set.seed(5)
  x <- c(rnorm(3e5), 25, -30, NA, Inf)
  dir <- local_tree(setNames(as.list(sprintf("%d\n", 1:30)), sprintf("f%d", 1:30)))
  write_signatures(dir)
  # The parent's pools exist now ...
  want <- detect_outliers(x)
  want_mad <- detect_outliers(x, method = "mad")
  checked <- verify(dir)
  # ... and a child, where their threads do not exist, builds its own.
  got <- in_fork(list(detect_outliers(x), detect_outliers(x, method = "mad"), verify(dir)))
  expect_identical(got[[1]], want)
  expect_identical(got[[2]], want_mad)
  expect_identical(got[[3]], checked)
  # mclapply() after a parallel call, as users write it.
  results <- parallel::mclapply(1:2, function(i) detect_outliers(x), mc.cores = 2)
  expect_identical(results, list(want, want))
})

test_that("a forked child can use workers and fork again", {
  skip_on_os("windows")
  set.seed(6)
  x <- c(rnorm(2e5), 30)
  want <- detect_outliers(x)
  got <- in_fork({
    first <- detect_outliers(x)
    list(first, in_fork(detect_outliers(x)))
  })
  expect_identical(got, list(want, want))
})

test_that("with rwbridge.threads unset, work uses every core and gives the same results", {
  # setup.R sets the option for the whole suite, as CRAN asks; here it is
  # unset, so the workers are as many as the cores (2 under R CMD check).
  set.seed(12)
  x <- c(rnorm(3 * inline_max), 50, -60, NA)
  files <- setNames(as.list(sprintf("unset %d\n", 1:80)), sprintf("g%02d", 1:80))
  dir <- local_tree(unlist(files))
  paths <- file.path(dir, names(files))
  write_signatures(dir)
  withr::local_options(rwbridge.threads = 1)
  want <- list(detect_outliers(x), detect_outliers(x, method = "mad"),
               hash_files(paths), verify(dir))
  withr::local_options(rwbridge.threads = NULL)
  expect_null(getOption("rwbridge.threads"))
  got <- list(detect_outliers(x), detect_outliers(x, method = "mad"),
              hash_files(paths), verify(dir))
  expect_identical(got, want)
  expect_true(all(c(3 * inline_max + 1, 3 * inline_max + 2) %in% got[[1]]))
  expect_identical(unname(got[[3]]), vapply(unlist(files), sha1_of, "", USE.NAMES = FALSE))
})
