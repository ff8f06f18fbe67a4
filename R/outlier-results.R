#' Outliers as analysts use them: flags, scores and cleaned values
#'
#' Three companions of [detect_outliers()], with its arguments (passed on
#' through `...`) and its rules:
#' * `is_outlier()`: a logical vector of the length of `x`, `TRUE` for the
#'   outliers, `NA` where `x` is `NA` or `NaN` or its group (`by`) is `NA`;
#'   for [subset()], `dplyr::mutate()` and [ifelse()].
#' * `outlier_scores()`: the signed score of each value, negative below the
#'   centre (see Scores).
#' * `clean_outliers()`: `x` with its outliers replaced, as
#'   `pracma::hampel()` and `forecast::tsclean()` users expect.
#'
#' @section Scores:
#' * `"zscore"`: `(x - mean) / sd` (the population sd); `"mad"`: the robust
#'   z, `(x - median) / scale` (`scale` as in [detect_outliers()]);
#'   `"hampel"`: the same within each value's window (the rolling median
#'   and scale). For these, `abs(score) > threshold` marks the outliers
#'   (to the last bit: the rule compares `abs(x - center)` with
#'   `threshold * scale`).
#' * `"iqr"` and `"adjbox"`: the signed distance beyond the nearer fence in
#'   units of the IQR, `(x - lower) / iqr` below the lower fence,
#'   `(x - upper) / iqr` above the upper one, 0 between them; so
#'   `abs(score) > 0` marks exactly the outliers (with an IQR of 0, the
#'   values beyond the fences score `-Inf` or `Inf`).
#' * `"gesd"`: `(x - mean) / sd` with the mean and sd (divisor `n - 1`) of
#'   the values the test kept; the test, not a threshold on this score,
#'   decides which are outliers ([is_outlier()] says which).
#'
#' Scores are `NA` where undefined: `x` is `NA` or `NaN`, its group is
#' `NA`, or the scale is 0 or undefined (for `"hampel"`, in that value's
#' window). `Inf` and `-Inf` score `Inf` and `-Inf` (they are always
#' outliers).
#'
#' @section Cleaning:
#' `replace` says what an outlier becomes:
#' * `"bounds"` (the default): winsorised to the bound it crossed, the
#'   `lower` or `upper` of [detect_outliers()] (per group with `by`, the
#'   rolling band for `"hampel"`, for `"gesd"` the band of the test's next
#'   critical value). An outlier whose bound is undefined (no finite value
#'   in its group) is left as it is.
#' * `"NA"`: set to `NA`, as `forecast::tsclean()` does before it
#'   interpolates.
#' * `"median"`: replaced by the median of the finite values (of its group,
#'   with `by`), or for `"hampel"` by its window's median, as
#'   `pracma::hampel()` does.
#'
#' The result is a double vector (`x`'s type is kept for `replace = "NA"`),
#' with `x`'s names and attributes `cleaned` (the indices replaced),
#' `replace` and `method`.
#'
#' @param x A double or integer vector, as for [detect_outliers()].
#' @param ... Arguments of [detect_outliers()]: `threshold`, `method`, `by`,
#'   `window`, `center`, `scale`, `max_outliers`, `alpha`.
#' @param replace For `clean_outliers()`: `"bounds"` (the default), `"NA"`
#'   or `"median"` (see Cleaning).
#' @return `is_outlier()`: a logical vector as long as `x`.
#'   `outlier_scores()`: a double vector as long as `x`, with attribute
#'   `method`. `clean_outliers()`: see Cleaning.
#' @section Errors:
#' Those of [detect_outliers()], and for `clean_outliers()`:
#' * `rwbridge_type_error`: `replace` is not a single string.
#' * `rwbridge_value_error`: `replace` is not one of the three.
#' @seealso [detect_outliers()], whose result prints how many values are
#'   outliers and by which rule.
#' @export
#' @examples
#' set.seed(1)
#' readings <- data.frame(t = 1:200, value = sin(1:200 / 10) + rnorm(200, sd = 0.1))
#' readings$value[c(40, 150)] <- c(4, -3)
#' readings$flag <- is_outlier(readings$value, method = "hampel")
#' subset(readings, flag)
#'
#' # Scores: beyond 3 robust scales, or beyond the fences.
#' head(outlier_scores(readings$value, method = "mad"))
#' range(outlier_scores(readings$value, method = "iqr"))
#'
#' # A cleaned series, as pracma::hampel() gives it.
#' cleaned <- clean_outliers(readings$value, method = "hampel", replace = "median")
#' attr(cleaned, "cleaned")
is_outlier <- function(x, ...) {
  found <- detect_outliers(x, ...)
  flags <- logical(length(x))
  flags[found] <- TRUE
  flags[is.na(x)] <- NA
  codes <- rw_codes_of(x, ...)
  if (!is.null(codes)) {
    flags[is.na(codes)] <- NA
  }
  flags
}

#' @rdname is_outlier
#' @export
outlier_scores <- function(x, ...) {
  found <- detect_outliers(x, ...)
  method <- attr(found, "method")
  codes <- rw_codes_of(x, ...)
  at <- if (is.null(codes)) rep_len(1L, length(x)) else as.integer(codes)
  if (method == "hampel") {
    band <- rw_band(x, found, codes, ...)
    center <- band$center
    scale <- band$scale
  } else {
    center <- unname(attr(found, "center"))[at]
    scale <- unname(attr(found, "scale"))[at]
  }
  scores <- if (method %in% c("iqr", "adjbox")) {
    lower <- unname(attr(found, "lower"))[at]
    upper <- unname(attr(found, "upper"))[at]
    ifelse(x < lower, (x - lower) / scale, ifelse(x > upper, (x - upper) / scale, 0))
  } else {
    ifelse(!is.na(scale) & scale > 0, (x - center) / scale, NA_real_)
  }
  infinite <- is.infinite(x) & !is.na(at)
  scores[infinite] <- x[infinite]
  scores[is.na(x) | is.na(at)] <- NA_real_
  attributes(scores) <- list(names = names(x), method = method)
  scores
}

#' @rdname is_outlier
#' @export
clean_outliers <- function(x, ..., replace = c("bounds", "NA", "median")) {
  replace <- if (missing(replace)) "bounds"
             else check_choice(replace, c("bounds", "NA", "median"), "replace")
  found <- detect_outliers(x, ...)
  method <- attr(found, "method")
  at <- as.vector(found)
  out <- x
  if (replace == "NA") {
    out[at] <- NA
  } else {
    storage.mode(out) <- "double"
    codes <- rw_codes_of(x, ...)
    band <- if (method == "hampel") rw_band(x, found, codes, ...)
    group <- if (is.null(codes)) rep_len(1L, length(at)) else as.integer(codes)[at]
    per_value <- function(field) {
      if (method == "hampel") band[[field]][at] else unname(attr(found, field))[group]
    }
    values <- as.double(x[at])
    new <- if (replace == "bounds") {
      lower <- per_value("lower")
      upper <- per_value("upper")
      ifelse(!is.na(lower) & values < lower, lower,
             ifelse(!is.na(upper) & values > upper, upper, values))
    } else if (method == "hampel") {
      band$center[at]
    } else {
      rw_group_medians(x, codes, length(attr(found, "center")))[group]
    }
    out[at] <- ifelse(is.na(new), values, new)
  }
  attr(out, "cleaned") <- at
  attr(out, "replace") <- replace
  attr(out, "method") <- method
  out
}

# The group codes of a call's `by` (NULL without one), the arguments
# matched as detect_outliers() matches them.
rw_codes_of <- function(x, ...) {
  by <- rw_by_of(x, ...)
  if (is.null(by)) {
    return(NULL)
  }
  threads <- getOption("rwbridge.threads")
  rw_groups(by, length(x), if (is.null(threads)) 0L else rw_threads(NULL))$codes
}

rw_by_of <- function(x, threshold = NULL, method = NULL, by = NULL, ...) by

# The rolling band of a "hampel" result for `x`, grouped by `codes`.
rw_band <- function(x, found, codes, ...) {
  threads <- getOption("rwbridge.threads")
  threads <- if (is.null(threads)) 0L else rw_threads(NULL)
  names <- if (is.null(codes)) NULL else names(attr(found, "center"))
  rw_unwrap(hampel_band_(x, attr(found, "threshold"), attr(found, "window"), threads,
                         codes, names))
}

# The median of the finite values of each of `count` groups (one group
# without codes).
rw_group_medians <- function(x, codes, count) {
  finite <- is.finite(x)
  if (is.null(codes)) {
    return(if (any(finite)) stats::median(x[finite]) else NA_real_)
  }
  groups <- factor(as.integer(codes)[finite], levels = seq_len(count))
  vapply(split(x[finite], groups), function(v) if (length(v)) stats::median(v) else NA_real_, 0,
         USE.NAMES = FALSE)
}

#' @export
format.rwbridge_outliers <- function(x, ..., max = 10L) {
  a <- attributes(x)
  k <- length(x)
  n <- if (is.null(a$n)) NA else a$n
  head <- sprintf("%s of %s values are outliers by %s", rw_big(k), rw_big(n), rw_rule(a))
  shown <- utils::head(as.vector(x), max)
  at <- if (k == 0) "none" else paste0(
    paste(format(shown, scientific = FALSE, trim = TRUE), collapse = ", "),
    if (k > max) sprintf(", ... (%s more)", rw_big(k - max)) else ""
  )
  c(head, paste0("at ", at))
}

#' @export
print.rwbridge_outliers <- function(x, ...) {
  cat(format(x, ...), sep = "\n")
  invisible(x)
}

#' @export
summary.rwbridge_outliers <- function(object, ...) {
  a <- attributes(object)
  groups <- names(a$center)
  counts <- if (is.null(groups)) length(object)
            else tabulate(a$group, nbins = length(groups))
  rw_data_frame(group = if (is.null(groups)) "(all)" else groups,
                outliers = counts, center = unname(a$center), scale = unname(a$scale),
                lower = unname(a$lower), upper = unname(a$upper))
}

rw_big <- function(n) format(n, big.mark = ",", scientific = FALSE, trim = TRUE)

# The rule a result was found by, in words, with its bounds when there is
# one set of them.
rw_rule <- function(a) {
  grouped <- !is.null(names(a$center))
  num <- function(v) format(signif(v, 4), trim = TRUE)
  bounds <- if (grouped) sprintf(", within each of %d groups", length(a$center))
            else if (is.na(a$lower)) " (no finite value to judge by)"
            else sprintf(": outside [%s, %s]", num(a$lower), num(a$upper))
  switch(a$method,
    zscore = sprintf("the z-score rule, |x - mean| > %s sd%s", num(a$threshold), bounds),
    mad = sprintf("the MAD rule, |x - median| > %s robust sd%s", num(a$threshold), bounds),
    iqr = sprintf("Tukey's fences at %s IQR%s", num(a$threshold), bounds),
    adjbox = sprintf("the skew-adjusted boxplot's fences at %s IQR%s", num(a$threshold), bounds),
    hampel = sprintf("the Hampel filter, %s robust sd from the median of %d neighbours either side%s",
                     num(a$threshold), a$window,
                     if (grouped) sprintf(", within each of %d groups", length(a$center)) else ""),
    gesd = sprintf("the generalized ESD test, alpha %s, at most %s outliers%s",
                   num(a$alpha), rw_big(a$max_outliers),
                   if (grouped) sprintf(" in each of %d groups", length(a$center)) else ""),
    a$method
  )
}
