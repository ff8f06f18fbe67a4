#' Detect outliers in a numeric vector
#'
#' Finds the elements of `x` far from its centre: the rule of the numpy
#' detector `np.where(np.abs(x - x.mean()) > 2 * x.std())`, done in Rust on
#' R's own memory (no copy of `x`). Vectors of up to 65,536 values are
#' processed on the calling thread; longer ones on worker threads (see
#' [rwbridge]). The result does not depend on which.
#'
#' * `"zscore"`: indices where `abs(x - mean) > threshold * sd`, with the
#'   **population** standard deviation (divisor `n`, as numpy's `std()`;
#'   R's [sd()] divides by `n - 1`).
#' * `"mad"`: indices where `abs(x - median) > threshold * 1.4826 * mad`,
#'   `mad` being the median of `abs(x - median)` (R's `mad(x, constant = 1)`;
#'   the median of an even count is the mean of the two middle values).
#'   Robust to the outliers themselves.
#'
#' The statistics use the finite values only. `NA` and `NaN` are never
#' reported; `Inf` and `-Inf` are always reported, even when no value is
#' finite. With no finite value, or a scale of 0 (all finite values equal,
#' or a MAD of 0), no finite value is reported. The comparison is strict
#' (`>`), so `threshold = 0` reports every finite value that differs from
#' the centre. The mean and variance are computed stably (chunks of
#' shifted values merged pairwise), so data far from zero, such as
#' `1e9 + rnorm(n)`, give the same indices as a two-pass computation in
#' long double.
#'
#' Worker threads: option `rwbridge.threads`, or else every core (see
#' [rwbridge]). Ctrl-C interrupts the call.
#'
#' @param x A double or integer vector (long vectors included). Factors,
#'   logicals and other types are refused.
#' @param threshold A single finite number `>= 0`: how many scales from the
#'   centre a value must lie to be reported.
#' @param method `"zscore"` (the default) or `"mad"`.
#' @return The 1-based indices of the outliers, ascending: an integer
#'   vector, or a double vector when an index exceeds
#'   `.Machine$integer.max`. Attributes `center` (the mean or median),
#'   `scale` (the quantity multiplied by `threshold`: the population sd, or
#'   `1.4826 * mad`), `threshold` and `method` say what was used; `center`
#'   and `scale` are `NA` when undefined.
#' @section Errors:
#' * `rwbridge_type_error`: `x` is not a double or integer vector,
#'   `threshold` is not a single number, or `method` is not a single string.
#' * `rwbridge_value_error`: `threshold` is `NA`, infinite or negative, or
#'   `method` is not `"zscore"` or `"mad"`.
#' @seealso [plot_outliers()] to see them.
#' @export
#' @examples
#' # Uniform values with three planted outliers.
#' set.seed(1)
#' x <- runif(1000)
#' x[c(8, 114, 836)] <- 97
#' detect_outliers(x)
#'
#' # Robust to the outliers themselves, and to NA and Inf.
#' y <- c(rnorm(100), 50, NA, Inf)
#' detect_outliers(y, threshold = 3, method = "mad")
detect_outliers <- function(x, threshold = 2, method = c("zscore", "mad")) {
  if (!(is.double(x) || is.integer(x)) || (is.object(x) && inherits(x, "factor"))) {
    rw_abort("type", sprintf("`x` must be a double or integer vector, not %s.", rw_describe(x)),
             call = sys.call())
  }
  if (!is.double(threshold) || length(threshold) != 1L || !is.finite(threshold) ||
      threshold < 0 || is.object(threshold)) {
    threshold <- check_number(threshold, "threshold")
  }
  method <- if (missing(method)) "zscore" else check_choice(method, c("zscore", "mad"), "method")
  threads <- getOption("rwbridge.threads")
  threads <- if (is.null(threads)) 0L else rw_threads(NULL)
  result <- detect_outliers_(x, threshold, method, threads)
  if (is.list(result)) rw_unwrap(result) else result
}

#' Plot a vector with its outliers highlighted
#'
#' Draws the values of `x` in order with base graphics, the outliers found
#' by [detect_outliers()] in red, the centre as a solid line and the band
#' `center +/- threshold * scale` as dashed lines. Long vectors are drawn
#' with small points.
#'
#' @inheritParams detect_outliers
#' @param ... Passed to [plot()], e.g. `main` or `ylab`.
#' @return The result of [detect_outliers()], invisibly.
#' @section Errors:
#' The same as [detect_outliers()].
#' @export
#' @examples
#' set.seed(1)
#' x <- c(rnorm(300), 6, -7)
#' plot_outliers(x, threshold = 3)
plot_outliers <- function(x, threshold = 2, method = c("zscore", "mad"), ...) {
  found <- detect_outliers(x, threshold = threshold, method = method)
  index <- seq_along(x)
  finite <- is.finite(x)
  center <- attr(found, "center")
  band <- threshold * attr(found, "scale")
  args <- list(...)
  defaults <- list(
    x = index[finite], y = x[finite], xlab = "index", ylab = "value",
    xlim = c(1, max(1, length(x))),
    ylim = if (any(finite)) range(x[finite], center + c(-1, 1) * band, finite = TRUE) else c(-1, 1),
    pch = if (length(x) > 1e4) "." else 20, col = "grey40",
    main = sprintf("%s outliers (%s, threshold %s)", length(found), attr(found, "method"),
                   format(threshold))
  )
  do.call(graphics::plot, utils::modifyList(defaults, args))
  shown <- found[is.finite(x[found])]
  graphics::points(shown, x[shown], col = "red", pch = 19)
  if (is.finite(center)) {
    graphics::abline(h = center, col = "steelblue", lwd = 2)
    if (is.finite(band)) {
      graphics::abline(h = center + c(-1, 1) * band, col = "steelblue", lty = 2)
    }
  }
  invisible(found)
}
