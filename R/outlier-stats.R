#' Statistics for outlier detection that merge across chunks
#'
#' Computes the count, the mean and the population standard deviation of
#' the finite values of `x` (what `detect_outliers(method = "zscore")` uses),
#' in a form that merges: `c()` of several results gives, to rounding, the
#' statistics of all their data together. Data too big for one process can
#' then be summarised chunk by chunk, on different machines (for example as
#' futures, with \pkg{future.apply}), merged, and each chunk scored against
#' the whole with `detect_outliers(chunk, center = s$center, scale = s$scale)`.
#'
#' The merge is Chan, Golub and LeVeque's pairwise update of the count, the
#' mean and the sum of squared deviations from the mean, which loses no
#' precision to data far from zero (such as `1e9 + rnorm(n)`), whatever the
#' chunks.
#'
#' @inheritParams detect_outliers
#' @param ... For `c()`: results of `outlier_stats()`.
#' @return A list of class `rwbridge_outlier_stats` with fields `n` (the
#'   number of finite values, a double), `center` (their mean), `scale`
#'   (their population standard deviation, divisor `n`), and what the merge
#'   needs: `shift` (a value near the data, the first finite one),
#'   `shifted_mean` (the mean minus `shift`), `m2` (the sum of squared
#'   deviations from the mean) and `unit`, the unit of the last two: 1, or
#'   `2^560` when the data are spread so widely (deviations beyond about
#'   `1e154`) that their squares would overflow, so that the mean and sd of
#'   any finite doubles, `.Machine$double.xmax` included, are finite and
#'   right. `center` and `scale` are `NA` when `n` is 0.
#' @section Errors:
#' * `rwbridge_type_error`: `x` is not a double or integer vector, or an
#'   argument of `c()` is not an `rwbridge_outlier_stats`.
#' @seealso [detect_outliers()] and its `center` and `scale` arguments.
#' @export
#' @examples
#' set.seed(1)
#' x <- c(rnorm(1e5), 12)
#' chunks <- split(x, rep(1:4, length.out = length(x)))
#' merged <- do.call(c, lapply(chunks, outlier_stats))
#' merged
#' all.equal(merged$scale, sqrt(mean((x - mean(x))^2)))
outlier_stats <- function(x) {
  check_numeric(x, "x")
  moments <- rw_unwrap(outlier_stats_(x, rw_threads(NULL)))
  rw_outlier_stats(moments[[1L]], moments[[2L]], moments[[3L]], moments[[4L]], moments[[5L]])
}

# `shifted_mean` and `m2` are in units of `unit`: 1, or 2^560 when the data
# are so spread (beyond about 1e154) that squares or sums would overflow.
rw_outlier_stats <- function(n, shift, shifted_mean, m2, unit = 1) {
  center <- if (n == 0) NA_real_
            else if (unit == 1) shift + shifted_mean
            else (shift / unit + shifted_mean) * unit
  structure(
    list(n = n, center = center, scale = if (n > 0) sqrt(m2 / n) * unit else NA_real_,
         shift = shift, shifted_mean = shifted_mean, m2 = m2, unit = unit),
    class = "rwbridge_outlier_stats"
  )
}

# The unit of huge data, as Rust's BIG_UNIT.
rw_big_unit <- 2^560

#' @rdname outlier_stats
#' @export
c.rwbridge_outlier_stats <- function(...) {
  parts <- list(...)
  if (!all(vapply(parts, inherits, NA, "rwbridge_outlier_stats"))) {
    rw_abort("type", "`c()` merges only results of outlier_stats().", call = sys.call())
  }
  Reduce(rw_merge_stats, parts)
}

# Chan et al.'s update: exact in exact arithmetic, stable in floating point.
# The means are compared relative to `a`'s shift: far from zero (1e9 +
# noise) their difference is much smaller than the means' rounding. In the
# larger unit of the two, or, when that overflows, in the big unit (as
# Rust's Moments::merge()).
rw_merge_stats <- function(a, b) {
  if (b$n == 0) return(a)
  if (a$n == 0) return(b)
  n <- a$n + b$n
  for (unit in c(max(a$unit, b$unit), rw_big_unit)) {
    a1 <- rw_in_unit(a, unit)
    b1 <- rw_in_unit(b, unit)
    shifts <- if (a1$shift == b1$shift) 0 else b1$shift / unit - a1$shift / unit
    delta <- shifts + (b1$shifted_mean - a1$shifted_mean)
    shifted_mean <- if (unit == 1) a1$shifted_mean + delta * (b$n / n)
                    else a1$shifted_mean * (a$n / n) + b1$shifted_mean * (b$n / n)
    m2 <- a1$m2 + b1$m2 + delta * delta * (a$n * b$n / n)
    if (is.finite(shifted_mean) && is.finite(m2)) break
  }
  rw_outlier_stats(n, a1$shift, shifted_mean, m2, unit)
}

# The same statistics in a larger `unit`: in the big unit, with no shift,
# so that huge values of both signs cancel exactly (as Rust's
# Moments::in_unit()).
rw_in_unit <- function(s, unit) {
  if (unit == s$unit) {
    return(s)
  }
  f <- s$unit / unit
  list(shift = 0, shifted_mean = s$shift / unit + s$shifted_mean * f, m2 = s$m2 * f * f)
}

#' @export
print.rwbridge_outlier_stats <- function(x, ...) {
  cat(sprintf("<rwbridge outlier stats> n = %s, center = %s, scale = %s\n",
              format(x$n), format(x$center, digits = 10), format(x$scale, digits = 10)))
  invisible(x)
}
