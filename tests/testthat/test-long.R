# Long vectors: run with RWB_LONG=1 (`make long`); they need about 20 GB of
# memory and a few GB of disk, so they are skipped otherwise.
skip_unless_long <- function() {
  skip_if_not(identical(Sys.getenv("RWB_LONG"), "1"), "set RWB_LONG=1 (needs about 20 GB)")
}

test_that("readit() of a file over 2 GiB gives a long raw vector", {
  skip_unless_long()
  path <- withr::local_tempfile()
  size <- 2^31 + 100
  # A sparse file: zeros, then 4 known bytes at the very end.
  con <- file(path, "wb")
  seek(con, size - 4, rw = "write")
  writeBin(as.raw(c(1, 2, 3, 4)), con)
  close(con)
  expect_equal(file.size(path), size)
  bytes <- readit(path)
  expect_identical(length(bytes), size)
  expect_identical(bytes[(size - 4):size], as.raw(c(0, 1, 2, 3, 4)))
  expect_identical(bytes[c(1, 2^31)], as.raw(c(0, 0)))
  rm(bytes)
  invisible(gc())
  err <- expect_error(readit(path, as = "text"), class = "rwbridge_value_error")
  expect_match(conditionMessage(err), "limit of one R string")
})

test_that("detect_outliers() past 2^31 - 1 elements returns double indices", {
  skip_unless_long()
  n <- 2^31 + 10
  x <- numeric(n)
  x[c(5, n - 1)] <- c(1e6, -1e6)
  got <- detect_outliers(x)
  expect_type(got, "double")
  expect_identical(as.vector(got), c(5, n - 1))
  expect_lt(abs(attr(got, "center")), 1e-12)
  rm(x)
  invisible(gc())
})
