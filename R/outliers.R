#' Detect outliers in a numeric vector
#'
#' Finds the elements of `x` far from its centre, by the rule of `method`,
#' on the whole vector or within each group of `by`. The default is the
#' rule of the numpy detector `np.where(np.abs(x - x.mean()) > 2 * x.std())`.
#' The work is done in Rust on R's own memory (no copy of `x`). Vectors of
#' up to 65,536 values are processed on the calling thread; longer ones on
#' worker threads (see [rwbridge]). The result does not depend on which.
#'
#' @section Methods:
#' * `"zscore"` (threshold 2): indices where
#'   `abs(x - mean) > threshold * sd`, with the **population** standard
#'   deviation (divisor `n`, as numpy's `std()`; R's [sd()] divides by
#'   `n - 1`).
#' * `"mad"` (threshold 3; 2 before rwbridge 0.3.0): indices where
#'   `abs(x - median) > threshold * scale`, `scale` being `1.4826 * mad`,
#'   `mad` the median of `abs(x - median)` (R's `mad(x)`; the median of an
#'   even count is the mean of the two middle values). Robust to the
#'   outliers themselves. When the MAD is 0 (more than half the values are
#'   equal), the scale is `1.253314 * mean(abs(x - median))` instead, the
#'   modified z-score's rule, so a column that is mostly one value still has
#'   its outliers found; when that is 0 too (all values equal), no finite
#'   value is reported.
#' * `"iqr"` (threshold 1.5): Tukey's fences, as
#'   `boxplot.stats(x, coef = threshold)$out` finds them: indices where
#'   `x < h1 - threshold * (h3 - h1)` or `x > h3 + threshold * (h3 - h1)`,
#'   `h1` and `h3` being the hinges of [fivenum()] (for an even count of
#'   values, the medians of the lower and upper halves; for an odd count,
#'   of the halves that share the median). A value on a fence is not
#'   reported. An IQR of 0 reports every value off the hinges, as
#'   `boxplot.stats()` does. Found by selection, without sorting `x`.
#' * `"hampel"` (threshold 3): the Hampel filter, for series. For each `i`,
#'   the window is `x[max(1, i - window):min(n, i + window)]` (cut at the
#'   ends; its finite values); `x[i]` is reported when
#'   `abs(x[i] - median(w)) > threshold * scale(w)`, the scale as for
#'   `"mad"` (`1.4826 *` the window's MAD, or `1.253314 *` its mean absolute
#'   deviation when the MAD is 0). Each step updates a small sorted window,
#'   so a series costs time linear in its length for a given window.
#' * `"adjbox"` (threshold 1.5): the skew-adjusted boxplot of Hubert and
#'   Vandervieren, as `robustbase::adjbox()` finds its outliers: Tukey's
#'   fences scaled by the medcouple `mc` (robustbase's `mc(x, doReflect =
#'   FALSE)`, its conventions for ties at the median included), below
#'   `h1 - threshold * exp(-4 * mc) * iqr` or above
#'   `h3 + threshold * exp(3 * mc) * iqr` (for `mc < 0`, `exp(-3 * mc)` and
#'   `exp(4 * mc)`). For skewed data (incomes, durations, concentrations),
#'   where Tukey's fences flag the long tail. The medcouple is found in
#'   O(n log n) (Johnson and Mizoguchi's selection, as robustbase does).
#'   Where it differs from robustbase, deliberately: the statistics come
#'   from the finite values (robustbase's `fivenum()` counts `Inf`, and its
#'   `mc()` first pulls values beyond `1e11` robust scales in, which changes
#'   nothing but for such values), infinite values are always reported, and
#'   `threshold = 0` reports the values outside the hinges (robustbase then
#'   reports none).
#' * `"gesd"` (no threshold): the generalized ESD test of Rosner (1983), as
#'   `EnvStats::rosnerTest(x, k = max_outliers, alpha = alpha)` decides: up
#'   to `max_outliers` times, the finite value farthest from the mean of
#'   those left (the first in `x` on a tie) is taken out, with
#'   `R_i = abs(value - mean) / sd` (`sd` with divisor `n - 1`) and the
#'   critical value
#'   `lambda_i = t * (n - i) / sqrt((n - i - 1 + t^2) * (n - i + 1))`,
#'   `t` the `1 - alpha / (2 * (n - i + 1))` quantile of Student's t with
#'   `n - i - 1` degrees of freedom; the outliers are the first `m` taken,
#'   `m` the largest `i` with `R_i > lambda_i`. For small samples that may
#'   hold several outliers (NIST's e-Handbook, section 1.3.5.17.3).
#'   `threshold` is not used. The test examines at most `n - 2` of `n`
#'   finite values: the default `max_outliers` (10) is lowered to fit, and
#'   a `max_outliers` given larger than that is an `rwbridge_value_error`
#'   (with `by`, it is lowered to fit each group). Fewer than 3 finite
#'   values: no finite value is reported. Only the `max_outliers` largest
#'   and smallest values are kept aside; one pass finds them and one the
#'   moments of the rest, so the test costs about two passes over `x`.
#'
#' The comparisons are strict (`>`), so `threshold = 0` reports every finite
#' value off the centre (for `"iqr"`, outside the hinges).
#'
#' @section Missing and infinite values:
#' The statistics use the finite values only. `NA` and `NaN` are never
#' reported; `Inf` and `-Inf` are always reported (except in an `NA`
#' group), even when no value is finite. With no finite value, no finite
#' value is reported; for `"zscore"` and `"mad"`, nor with a scale of 0.
#'
#' Where `"iqr"` differs from `boxplot.stats()`, deliberately: `fivenum()`
#' counts `Inf` and `-Inf` among the values, so one infinite value moves the
#' hinges and several can hide each other or make the IQR `NaN`; here the
#' hinges come from the finite values and infinite values are always
#' reported. And `boxplot.stats(coef = 0)` reports nothing (its whiskers
#' then reach the extremes); here `threshold = 0` reports the values outside
#' the hinges. Otherwise the indices are those of `boxplot.stats()$out`.
#'
#' @section Groups:
#' Every method works with `by`; for `"gesd"` each group is tested alone
#' (the default `max_outliers` lowered to fit each), and for `"hampel"`
#' windows run along each group. `center` and `scale` do not combine with
#' `by` (each group has its own) and apply to `"zscore"` and `"mad"` only:
#' the other rules' statistics are fences, windows or a sequential test,
#' not one centre and scale. The helpers [is_outlier()],
#' [outlier_scores()] and [clean_outliers()] take every argument.
#'
#' With `by`, the statistics are computed within each group, in one call:
#' the groups are gathered in Rust (a counting sort), and processed in
#' parallel on the workers. The indices stay indices into `x`, ascending.
#' Elements whose group is `NA` (or `NaN`) are never reported, `Inf`
#' included. The groups are the levels of a factor (unused levels too, with
#' `NA` statistics), or else the distinct values of `by`, in ascending
#' order as [factor()] orders its levels, named as `as.character()` writes
#' them (doubles that differ beyond the 15 significant digits it shows stay
#' separate groups). **Character `by` is ordered bytewise**, as
#' `sort(method = "radix")` orders strings (the C locale: `"B"` before
#' `"a"`), not in the locale as `factor()` would: its strings are grouped
#' in Rust by the address of R's interned string (equal strings share
#' one), as fast as a factor. (Equal text declared in two encodings, rare,
#' makes two groups.) A factor keeps its levels' order. For
#' `"hampel"`, each element's window is taken along its own group's
#' elements, in the order of `x`: `window` neighbours within the group on
#' either side, whatever lies between them.
#'
#' @section Result:
#' The 1-based indices of the outliers, ascending: an integer vector, or a
#' double vector when an index exceeds `.Machine$integer.max`. Attributes
#' say what was used, on every result:
#' * `center`: the mean, the median, or for `"iqr"` the median of
#'   `fivenum()`.
#' * `scale`: the quantity multiplied by `threshold`: the population sd,
#'   the MAD rule's scale (`1.4826 * mad`, or `1.253314 *` the mean absolute
#'   deviation when the MAD is 0), or the IQR `h3 - h1`.
#' * `lower`, `upper`: the bounds, `center -/+ threshold * scale` (for
#'   `"zscore"` and `"mad"`, a value is compared as
#'   `abs(x - center) > threshold * scale`, which can differ from comparing
#'   it with these bounds in the last bit), or for `"iqr"` the fences
#'   themselves.
#' * `threshold`: the threshold used (the method's usual value for `NULL`).
#' * `method`: the method used; for `"hampel"`, also `window`; for
#'   `"gesd"`, also `max_outliers` and `alpha` (and `threshold` is `NA`).
#' * `n`: the length of `x`.
#' * `group` (with `by`): the group code of each outlier, for `summary()`.
#'
#' The result has class `rwbridge_outliers` and is still the integer
#' vector of indices: `x[found]`, `length(found)` and `as.vector(found)`
#' work as on any integer vector. It prints in two lines how many of how
#' many values are outliers, by which rule and bounds, and the first
#' indices; `summary()` gives one row per group (`group`, `outliers`,
#' `center`, `scale`, `lower`, `upper`).
#'
#' For `"gesd"`, `center` and `scale` are the mean and sd (divisor
#' `n - 1`) of the values the test kept, and `lower` and `upper` their band
#' for the next step's critical value (`center -/+ lambda * scale`, `NA`
#' when the test has no next step): the kept values lie within it.
#'
#' `center`, `scale`, `lower` and `upper` are `NA` when undefined (no
#' finite value). For `"hampel"` they change along the series, so they are
#' `NA`: storing them would take four times the memory of `x`.
#' [plot_outliers()] draws the rolling band. With `by`, the four are
#' vectors named by group.
#'
#' Worker threads: option `rwbridge.threads`, or else every core (see
#' [rwbridge]). Ctrl-C interrupts the call.
#'
#' @param x A double or integer vector (long vectors included). Factors,
#'   logicals and other types are refused.
#' @param threshold `NULL` (the method's usual value: 2 for `"zscore"`, 3
#'   for `"mad"` and `"hampel"`, 1.5 for `"iqr"` and `"adjbox"`) or a single
#'   finite number `>= 0`: how many scales from the centre a value must lie
#'   to be reported. Not used by `"gesd"`.
#' @param method `"zscore"` (the default), `"mad"`, `"iqr"`, `"hampel"`,
#'   `"adjbox"` or `"gesd"`.
#' @param by `NULL`, or a factor or vector (integer, double, character,
#'   logical, or a class on one of them, such as `Date`) of the length of
#'   `x`: the statistics are then computed within each group.
#' @param window For `"hampel"`: how many neighbours on either side make
#'   the window of each value, a whole number from 1 to
#'   `.Machine$integer.max` (default 3, a window of 7). Ignored by the
#'   other methods (but checked).
#' @param center,scale `NULL` (the default), or both a single number: for
#'   `"zscore"` and `"mad"` without `by`, they replace the centre and the
#'   scale computed from `x` (`scale` is the quantity multiplied by
#'   `threshold`, as in the `scale` attribute), so new data are scored
#'   against a baseline, or each chunk of data too big for one process
#'   against the statistics of the whole, merged from the chunks with
#'   [outlier_stats()]. Given for other methods or with `by`, they are an
#'   `rwbridge_value_error`: the other rules' statistics are not a centre
#'   and a scale (fences, windows, a sequential test), and with `by` each
#'   group has its own.
#' @param max_outliers For `"gesd"`: the most values the test examines, a
#'   whole number from 1 to `length(x)` (default 10; see Methods).
#'   Ignored by the other methods (but checked).
#' @param alpha For `"gesd"`: the test's level, a number strictly between 0
#'   and 1 (default 0.05). Ignored by the other methods (but checked).
#' @return The 1-based indices of the outliers, ascending, of class
#'   `rwbridge_outliers`, with attributes `center`, `scale`, `lower`,
#'   `upper`, `threshold`, `method` and `n` (see Result).
#' @section Errors:
#' * `rwbridge_type_error`: `x` is not a double or integer vector,
#'   `threshold` is not `NULL` or a single number, `method` is not a single
#'   string, `by` is not a vector or factor (a list, say), or `window` is
#'   not a single number.
#' * `rwbridge_value_error`: `threshold` is `NA`, infinite or negative,
#'   `method` is not one of the six, `by` does not have the length of `x`,
#'   `window` is not a whole number from 1 to `.Machine$integer.max`,
#'   `max_outliers` is not a whole number from 1 to `length(x)` (or, for
#'   `"gesd"` without `by`, more than the finite values less 2), or `alpha`
#'   is not strictly between 0 and 1.
#' @seealso [plot_outliers()] to see them; [is_outlier()],
#'   [outlier_scores()] and [clean_outliers()] for flags, scores and
#'   cleaned values.
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
#'
#' # Tukey's fences, as boxplot.stats() draws them.
#' z <- c(rnorm(50), 8)
#' found <- detect_outliers(z, method = "iqr")
#' identical(z[found], boxplot.stats(z)$out)
#'
#' # Chunks scored against the statistics of the whole, merged from chunks.
#' chunks <- split(x, rep(1:4, each = 250))
#' whole <- do.call(c, lapply(chunks, outlier_stats))
#' found <- lapply(chunks, detect_outliers, center = whole$center, scale = whole$scale)
#' lengths(found)
#'
#' # A column that is mostly one value: the MAD is 0.
#' detect_outliers(c(rep(5, 20), 5.5, 9), method = "mad")
#'
#' # Skewed data: Tukey's fences flag the long tail, the adjusted ones not.
#' incomes <- rlnorm(500, 10, 0.6)
#' length(detect_outliers(incomes, method = "iqr"))
#' detect_outliers(incomes, method = "adjbox")
#'
#' # A small sample with several outliers: the generalized ESD test.
#' detect_outliers(c(rnorm(30), 6, 7, -6), method = "gesd", max_outliers = 5)
#'
#' # A series with a spike, judged by its neighbours.
#' s <- sin(seq(0, 6, length.out = 200))
#' s[120] <- s[120] + 1
#' detect_outliers(s, method = "hampel")
#'
#' # Within groups, in one call.
#' g <- rep(c("a", "b"), each = 50)
#' v <- c(rnorm(50), rnorm(50, 100))
#' v[c(10, 60)] <- c(6, 90)
#' detect_outliers(v, method = "mad", by = g)
detect_outliers <- function(x, threshold = NULL,
                            method = c("zscore", "mad", "iqr", "hampel", "adjbox", "gesd"),
                            by = NULL, window = 3L, center = NULL, scale = NULL,
                            max_outliers = 10L, alpha = 0.05) {
  # The success path tests with primitives only (a classed vector such as a
  # Date or a factor is left to check_numeric()): this call runs 10,000
  # times in a loop.
  if (!(is.double(x) || is.integer(x)) || is.object(x)) {
    check_numeric(x, "x")
  }
  threads <- getOption("rwbridge.threads")
  threads <- if (is.null(threads)) 0L else rw_threads(NULL)
  if (nargs() == 1L) {
    # The seed's call, with every default: nothing else to check. It is the
    # one that runs 10,000 times in a loop. detect_outliers_() is called
    # without its generated R wrapper: on ten values that wrapper's own
    # call is a tenth of the time.
    result <- .Call(wrap__detect_outliers_, x,
                    if (threads == 0L) rw_seed_spec else c(2, 1, threads))
    return(if (is.list(result)) rw_unwrap(result) else result)
  }
  if (missing(method)) {
    method <- "zscore"
  } else if (!is.character(method) || length(method) != 1L || is.na(method) ||
             is.na(rw_outlier_thresholds[method])) {
    method <- check_choice(method, rw_codes$method, "method")
  }
  if (is.null(threshold)) {
    threshold <- rw_outlier_thresholds[[method]]
  } else if (!is.double(threshold) || length(threshold) != 1L || !is.finite(threshold) ||
             threshold < 0 || is.object(threshold)) {
    threshold <- rw_threshold(threshold)
  }
  if (!missing(window) && !(is.integer(window) && length(window) == 1L && !is.na(window) &&
                            window >= 1L && !is.object(window))) {
    window <- rw_window(window)
  }
  strict <- !missing(max_outliers)
  if (strict) {
    max_outliers <- rw_max_outliers(max_outliers, length(x))
  }
  if (!missing(alpha)) {
    alpha <- rw_alpha(alpha)
  }
  if (!is.null(center) || !is.null(scale)) {
    given <- rw_given_stats(center, scale, method, by)
    result <- detect_outliers_given_(x, threshold, method, threads, given[[1L]], given[[2L]])
  } else if (is.null(by) && method != "hampel" && method != "gesd") {
    result <- .Call(wrap__detect_outliers_, x,
                    c(threshold, rw_method_codes[[method]], threads))
  } else {
    codes <- NULL
    groups <- NULL
    if (!is.null(by)) {
      # Strings go to Rust as they are, coded there (see rw_groups()).
      grouped <- rw_groups(by, length(x), threads, strings = TRUE)
      codes <- grouped$codes
      groups <- grouped$names
    }
    result <- detect_outliers_by_(x, threshold, method, threads, codes, groups, window,
                                  as.double(max_outliers), as.double(alpha),
                                  strict && is.null(by))
  }
  if (is.list(result)) rw_unwrap(result) else result
}

# The usual threshold of each method, which `threshold = NULL` means; the
# names are the methods, in the order of Rust's enum (`rw_codes$method`) and
# of `method`'s default, as a test checks. "gesd" uses none (its test
# decides; the result's `threshold` is NA): 0 only marks the name as known.
rw_outlier_thresholds <- c(zscore = 2, mad = 3, iqr = 1.5, hampel = 3, adjbox = 1.5, gesd = 0)

# Each method's 1-based position in Rust's enum, as detect_outliers_()
# takes it, and the spec (threshold, method, threads) of the seed's call.
rw_method_codes <- stats::setNames(seq_along(rw_outlier_thresholds), names(rw_outlier_thresholds))
rw_seed_spec <- c(2, 1, 0)

# `max_outliers` given: a whole number from 1 to `n`, the length of `x`.
rw_max_outliers <- function(max_outliers, n, call = sys.call(-1)) {
  if (!(is.double(max_outliers) || is.integer(max_outliers)) || is.object(max_outliers) ||
      length(max_outliers) != 1L) {
    rw_abort("type", sprintf("`max_outliers` must be a single whole number, not %s.",
                             rw_describe(max_outliers)), call = call)
  }
  if (is.na(max_outliers) || max_outliers < 1 || max_outliers != trunc(max_outliers) ||
      max_outliers > n) {
    rw_abort("value", sprintf(
      "`max_outliers` must be a whole number from 1 to the length of `x` (%s), not %s.",
      format(n), format(max_outliers)), call = call)
  }
  as.double(max_outliers)
}

# `alpha` given: a single number strictly between 0 and 1.
rw_alpha <- function(alpha, call = sys.call(-1)) {
  if (!is.double(alpha) || is.object(alpha) || length(alpha) != 1L) {
    rw_abort("type", sprintf("`alpha` must be a single number, not %s.", rw_describe(alpha)),
             call = call)
  }
  if (is.na(alpha) || alpha <= 0 || alpha >= 1) {
    rw_abort("value", sprintf("`alpha` must be a number between 0 and 1 (exclusive), not %s.",
                              format(alpha)), call = call)
  }
  alpha
}

# `threshold` when it is not a single finite double >= 0 (the success
# path's test): an integer is accepted, anything else raises.
rw_threshold <- function(threshold, call = sys.call(-1)) {
  if (!(is.double(threshold) || is.integer(threshold)) || is.object(threshold) ||
      length(threshold) != 1L) {
    rw_abort("type", sprintf("`threshold` must be NULL or a single number, not %s.",
                             rw_describe(threshold)), call = call)
  }
  if (!is.finite(threshold) || threshold < 0) {
    rw_abort("value", sprintf("`threshold` must be NULL or a finite number >= 0, not %s.",
                              format(threshold)), call = call)
  }
  as.double(threshold)
}

# `window` when it is not a single non-NA integer >= 1 (the success path's
# test): a whole double is accepted, anything else raises.
rw_window <- function(window, call = sys.call(-1)) {
  if (!(is.double(window) || is.integer(window)) || is.object(window) || length(window) != 1L) {
    rw_abort("type", sprintf("`window` must be a single whole number, not %s.",
                             rw_describe(window)), call = call)
  }
  if (is.na(window) || window < 1 || window > .Machine$integer.max || window != trunc(window)) {
    rw_abort("value", sprintf(
      "`window` must be a whole number from 1 to .Machine$integer.max, not %s.", format(window)
    ), call = call)
  }
  as.integer(window)
}

# The groups of `by` as Rust takes them: 1-based integer codes (NA for no
# group) and one name per group. A factor's own codes and levels; strings,
# numbers and logicals coded in Rust (strings by the address of R's
# interned string, sorted bytewise), named by the first element of each
# group, so that classes such as Date name their groups as they print.
#
# With `strings`, a character `by` is returned as its own codes, without
# names: detect_outliers_by_() codes it itself, so that the codes never
# become an R vector (1e6 of them, a few calls apart, set R's garbage
# collector going).
rw_groups <- function(by, n, threads, strings = FALSE, call = sys.call(-1)) {
  if (!is.factor(by) && (!is.atomic(by) ||
                         !(typeof(by) %in% c("logical", "integer", "double", "character")))) {
    rw_abort("type", sprintf(
      "`by` must be NULL, a factor, or an integer, double, character or logical vector, not %s.",
      rw_describe(by)
    ), call = call)
  }
  if (length(by) != n) {
    rw_abort("value", sprintf("`by` must have the length of `x` (%s), not %s.",
                              format(n), format(length(by))), call = call)
  }
  if (is.factor(by)) {
    return(list(codes = by, names = levels(by)))
  }
  if (strings && is.character(by)) {
    return(list(codes = by, names = NULL))
  }
  coded <- group_codes_(if (is.logical(by)) as.integer(by) else by, threads)
  if (inherits(coded, "rwbridge_failure")) {
    rw_unwrap(coded, call = call)
  }
  list(codes = coded$codes, names = as.character(by[coded$first]))
}

# A baseline's centre and scale: both, for "zscore" or "mad", without `by`.
rw_given_stats <- function(center, scale, method, by, call = sys.call(-1)) {
  if (is.null(center) || is.null(scale)) {
    rw_abort("value", "`center` and `scale` must be given together.", call = call)
  }
  if (!method %in% c("zscore", "mad") || !is.null(by)) {
    rw_abort("value", paste0(
      "`center` and `scale` replace the statistics of the \"zscore\" and \"mad\" rules ",
      "without `by`, not of \"", method, "\"", if (!is.null(by)) " with `by`", "."
    ), call = call)
  }
  for (arg in c("center", "scale")) {
    value <- get(arg)
    if (!(is.double(value) || is.integer(value)) || length(value) != 1L || is.object(value)) {
      rw_abort("type", sprintf("`%s` must be NULL or a single number, not %s.", arg,
                               rw_describe(value)), call = call)
    }
  }
  if (!is.finite(center) || is.na(scale) || scale < 0) {
    rw_abort("value", sprintf(
      "`center` must be finite and `scale` a number >= 0, not %s and %s.",
      format(center), format(scale)), call = call)
  }
  c(as.double(center), as.double(scale))
}

#' Plot a vector with its outliers highlighted
#'
#' Draws the values of `x` in order with base graphics and the outliers
#' found by [detect_outliers()] as red points, with the bounds each value
#' was judged by:
#' * `"zscore"`, `"mad"`: the centre as a solid line and the band
#'   `lower`..`upper` (`center -/+ threshold * scale`) as dashed lines;
#' * `"iqr"`, `"adjbox"`: the median as a solid line and the fences (for
#'   `"adjbox"`, scaled by the medcouple) as dashed lines;
#' * `"gesd"`: the mean of the values the test kept as a solid line and
#'   their band for the next step's critical value as dashed lines;
#' * `"hampel"`: the rolling median and the rolling band, which change
#'   along the series.
#'
#' With `by`, each group has its own colour, its values and lines drawn in
#' it (each group's lines spanning its first to its last element) with a
#' legend; values in no group are light grey. Beyond 12 groups, only the
#' values and outliers are drawn (the lines would hide them). `Inf` and
#' `-Inf` outliers are red triangles on the top and bottom edges. Long
#' vectors are drawn with small points.
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
#' plot_outliers(x, method = "iqr")
#'
#' s <- sin(seq(0, 12, length.out = 300)) + rnorm(300, sd = 0.1)
#' s[c(50, 200)] <- c(2, -2)
#' plot_outliers(s, method = "hampel", window = 5)
#'
#' g <- rep(c("low", "high"), each = 150)
#' v <- rnorm(300, mean = ifelse(g == "low", 0, 10))
#' v[c(20, 220)] <- c(5, 3)
#' plot_outliers(v, method = "mad", by = g)
#'
#' skewed <- c(rexp(300), 12)
#' plot_outliers(skewed, method = "adjbox")
#' plot_outliers(c(rnorm(40), 5, -6), method = "gesd", max_outliers = 4)
plot_outliers <- function(x, threshold = NULL,
                          method = c("zscore", "mad", "iqr", "hampel", "adjbox", "gesd"),
                          by = NULL, window = 3L, max_outliers = 10L, alpha = 0.05, ...) {
  found <- if (missing(max_outliers)) {
    detect_outliers(x, threshold = threshold, method = method, by = by, window = window,
                    alpha = alpha)
  } else {
    detect_outliers(x, threshold = threshold, method = method, by = by, window = window,
                    max_outliers = max_outliers, alpha = alpha)
  }
  method <- attr(found, "method")
  threshold <- attr(found, "threshold")
  n <- length(x)
  index <- seq_len(n)
  finite <- is.finite(x)
  threads <- getOption("rwbridge.threads")
  threads <- if (is.null(threads)) 0L else rw_threads(NULL)
  grouped <- if (is.null(by)) NULL else rw_groups(by, n, threads)
  codes <- if (is.null(grouped)) rep(1L, n) else as.integer(unclass(grouped$codes))
  palette <- if (is.null(grouped)) "grey40" else rw_group_colours(length(grouped$names))
  lines <- if (method == "hampel") {
    band <- rw_unwrap(hampel_band_(x, threshold, attr(found, "window"), threads,
                                   if (is.null(grouped)) NULL else grouped$codes,
                                   grouped$names))
    list(center = band$center, lower = band$lower, upper = band$upper)
  } else {
    list(center = attr(found, "center"), lower = attr(found, "lower"),
         upper = attr(found, "upper"))
  }
  col <- palette[codes]
  col[is.na(col)] <- "grey80"
  drawn <- c(x[finite], unlist(lines, use.names = FALSE))
  drawn <- drawn[is.finite(drawn)]
  defaults <- list(
    x = index[finite], y = x[finite], xlab = "index", ylab = "value",
    xlim = c(1, max(1, n)),
    ylim = if (length(drawn) > 0L) range(drawn) else c(-1, 1),
    pch = if (n > 1e4) "." else 20, col = col[finite],
    main = sprintf("%s outliers (%s, %s%s%s)", length(found), method,
                   if (method == "gesd") sprintf("alpha %s", format(attr(found, "alpha")))
                   else paste("threshold", format(threshold)),
                   if (method == "hampel") sprintf(", window %d", attr(found, "window")) else "",
                   if (is.null(grouped)) "" else sprintf(", %d groups", length(grouped$names)))
  )
  do.call(graphics::plot, utils::modifyList(defaults, list(...)))
  if (is.null(grouped)) {
    rw_draw_bounds(index, lines, 1L, "steelblue", method)
  } else if (length(grouped$names) <= 12L && length(grouped$names) > 0L) {
    members <- split(index, factor(codes, levels = seq_along(grouped$names)))
    for (g in seq_along(members)) {
      rw_draw_bounds(members[[g]], lines, g, palette[[g]], method)
    }
    graphics::legend("topright", legend = grouped$names, col = palette, pch = 20,
                     lty = 1, bty = "n", cex = 0.8)
  }
  shown <- found[is.finite(x[found])]
  graphics::points(shown, x[shown], pch = 21, bg = "red", col = "black", cex = 1.2)
  # Inf and -Inf: triangles on the top and bottom edges.
  infinite <- found[is.infinite(x[found])]
  if (length(infinite) > 0L) {
    edges <- graphics::par("usr")[3:4]
    graphics::points(infinite, edges[(x[infinite] > 0) + 1L],
                     pch = ifelse(x[infinite] > 0, 24, 25), bg = "red", col = "black",
                     cex = 1.2, xpd = TRUE)
  }
  invisible(found)
}

# Colours for groups, colour-blind safe (Okabe and Ito, without the
# vermillion that the outliers' red could be confused with), recycled.
rw_group_colours <- function(k) {
  rep_len(c("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#999999",
            "#000000", "#F0E442"), k)
}

# The centre (solid) and bounds (dashed) of one group, whose elements are
# `at`: horizontal segments across the group for one value per group, or
# the rolling lines for "hampel".
rw_draw_bounds <- function(at, lines, g, colour, method) {
  if (length(at) == 0L) {
    return(invisible())
  }
  if (method == "hampel") {
    graphics::lines(at, lines$center[at], col = colour, lwd = 1.5)
    graphics::lines(at, lines$lower[at], col = colour, lty = 2)
    graphics::lines(at, lines$upper[at], col = colour, lty = 2)
    return(invisible())
  }
  span <- range(at)
  if (is.finite(lines$center[[g]])) {
    graphics::segments(span[1], lines$center[[g]], span[2], lines$center[[g]],
                       col = colour, lwd = 2)
  }
  for (bound in c(lines$lower[[g]], lines$upper[[g]])) {
    if (is.finite(bound)) {
      graphics::segments(span[1], bound, span[2], bound, col = colour, lty = 2)
    }
  }
  invisible()
}
