# detect_outliers() against its peers, each ratio measured in the same run:
#   "zscore": the base-R expression on 1e8 doubles, numpy's detect (the seed)
#     and the memory floor, numpy's x.sum(); and the base-R expression at
#     every n from 10 to 1e7 (>= 2x faster everywhere, >= 10x from 1e4).
#   "mad": median() + mad() on 1e7.
#   "iqr": boxplot.stats() on 1e7 (>= 3x faster).
#   `by`: 1e6 values in 1e4 groups against the base-R way with the same rule
#     (split()/lapply(), or ave(), whichever is faster), for "zscore" and
#     "iqr" (>= 10x faster), with an integer and with a factor `by`.
#   "hampel": window 3 on 1e6 values, against stats::runmed(x, 7), the
#     rolling median alone (at most 2x its time).
#   "adjbox": 1e6 skewed values against robustbase::adjbox(x, plot = FALSE)
#     (>= 10x faster).
#   "gesd": max_outliers = 10 on 1e6 values against the z-score rule on the
#     same data (at most 3x its time).
#   `by` of strings: 1e6 values in 1e5 character groups against the same
#     groups as a factor (at most 1.5x its time) and against split()/lapply()
#     (>= 10x faster).
if (!exists("report")) {
  source("bench/common.R")
  print_machine()
}
cat("== detect_outliers() ==\n")

# A note when rwbridge and its peer disagree (they should not).
same_or_note <- function(ours, peer, what) {
  if (!identical(as.numeric(ours), as.numeric(peer))) {
    cat(sprintf("NOTE: %s: rwbridge and its peer report different indices\n", what))
  }
}

# ------------------------------------------------------------- zscore, 1e8
set.seed(1)
n <- 1e8
x <- rnorm(n)
t_ours <- time_it(detect_outliers(x), times = 7)
t_base <- time_it(which(abs(x - mean(x)) > 2 * sqrt(mean((x - mean(x))^2))), times = 2)
report("detect_outliers(rnorm(1e8))", t_ours, t_base, "base R expression",
       target = function(r) r >= 20, target_text = ">= 20x base R")

if (has_numpy()) {
  data <- file.path(bench_dir, "x.f64")
  writeBin(x, data, endian = "little")
  code <- sprintf(paste(c(
    "import numpy as np, time",
    "x = np.fromfile('%s', dtype='<f8')",
    "def detect(data): return np.where(np.abs(data - data.mean()) > 2 * data.std())[0]",
    python_median_time,
    "detect(x); x.sum()",
    "print(median_time(lambda: detect(x), 5), median_time(lambda: x.sum(), 7))"),
    collapse = "\n"), data)
  script <- file.path(bench_dir, "numpy_bench.py")
  writeLines(code, script)
  out <- system2("env", c("-u", "LD_LIBRARY_PATH", "python3", script), stdout = TRUE)
  numpy <- as.numeric(strsplit(out, " ")[[1]])
  report("detect_outliers(rnorm(1e8))", t_ours, numpy[1], "numpy detect (seed)",
         target = function(r) r >= 4, target_text = ">= 4x numpy detect")
  report("detect_outliers(rnorm(1e8))", t_ours, numpy[2], "numpy x.sum() (floor)",
         ratio = t_ours / numpy[2], unit = "x time",
         target = function(r) r <= 2.2, target_text = "<= 2.2x numpy sum")
  unlink(data)
} else {
  cat("numpy is not installed: numpy comparisons skipped\n")
}
rm(x)
invisible(gc())

# ------------------------------------------------- zscore, n = 10 ... 1e7
# Under a millisecond a call: bench::mark (time_fast()); above: hires.
time_any <- function(expr) {
  f <- eval(call("function", NULL, substitute(expr)), parent.frame())
  if (hires_once(f) < 1e-3) time_fast(f()) else time_hires(f())
}
for (n in 10^(1:7)) {
  set.seed(1)
  x <- rnorm(n)
  same_or_note(detect_outliers(x), which(abs(x - mean(x)) > 2 * sqrt(mean((x - mean(x))^2))),
               sprintf("zscore n = %g", n))
  t_ours <- time_any(detect_outliers(x))
  t_base <- time_any(which(abs(x - mean(x)) > 2 * sqrt(mean((x - mean(x))^2))))
  at_least <- if (n >= 1e4) 10 else 2
  report(sprintf("detect_outliers(rnorm(%s))", format(n, scientific = TRUE)), t_ours, t_base,
         "base R expression", target = function(r) r >= at_least,
         target_text = sprintf(">= %gx base R", at_least))
}
rm(x)

# -------------------------------------------------------------- mad, 1e7
y <- rnorm(1e7)
t_ours <- time_it(detect_outliers(y, method = "mad"), times = 5)
t_base <- time_it({ m <- median(y); s <- mad(y) }, times = 3)
report("detect_outliers(rnorm(1e7), 'mad')", t_ours, t_base, "median() + mad()",
       target = function(r) r >= 3, target_text = ">= 3x base R")

# -------------------------------------------------------------- iqr, 1e7
same_or_note(detect_outliers(y, method = "iqr"), which(y %in% boxplot.stats(y)$out), "iqr 1e7")
t_ours <- time_hires(detect_outliers(y, method = "iqr"), times = 7)
t_base <- time_it(boxplot.stats(y), times = 3)
report("detect_outliers(rnorm(1e7), 'iqr')", t_ours, t_base, "boxplot.stats()",
       target = function(r) r >= 3, target_text = ">= 3x boxplot.stats()")
rm(y)
invisible(gc())

# ------------------------------------------------- by: 1e6 values, 1e4 groups
# The base-R ways, with the same rules as detect_outliers().
zscore_rule <- function(v, threshold = 2) {
  f <- v[is.finite(v)]
  m <- mean(f)
  s <- sqrt(mean((f - m)^2))
  judged <- length(f) > 0 && s > 0
  is.infinite(v) | (judged & abs(v - m) > threshold * s)
}
iqr_rule <- function(v, threshold = 1.5) {
  h <- fivenum(v[is.finite(v)])
  r <- h[4] - h[2]
  is.infinite(v) | (!is.na(v) & (v < h[2] - threshold * r | v > h[4] + threshold * r))
}
by_split <- function(x, by, rule) {
  groups <- split(seq_along(x), by)
  sort(unlist(lapply(groups, function(i) i[rule(x[i])]), use.names = FALSE))
}
by_ave <- function(x, by, rule) which(ave(x, by, FUN = rule) == 1)

set.seed(2)
x <- rnorm(1e6)
by_int <- sample.int(1e4, 1e6, replace = TRUE)
by_factor <- factor(by_int)
for (method in c("zscore", "iqr")) {
  rule <- if (method == "zscore") zscore_rule else iqr_rule
  for (form in c("integer", "factor")) {
    by <- if (form == "integer") by_int else by_factor
    same_or_note(detect_outliers(x, method = method, by = by), by_split(x, by, rule),
                 paste(method, "by", form))
    t_ours <- time_hires(detect_outliers(x, method = method, by = by))
    t_split <- time_hires(by_split(x, by, rule), times = 3)
    t_ave <- time_hires(by_ave(x, by, rule), times = 3)
    peer <- if (t_split <= t_ave) "split()/lapply()" else "ave()"
    report(sprintf("by (%s, 1e4 groups), 1e6 values, '%s'", form, method), t_ours,
           min(t_split, t_ave), paste(peer, "same rule"),
           target = function(r) r >= 10, target_text = ">= 10x base R")
  }
}

# ------------------------------------------------------- hampel, 1e6, w = 3
t_ours <- time_hires(detect_outliers(x, method = "hampel", window = 3L))
t_runmed <- time_hires(stats::runmed(x, 7))
report("detect_outliers(rnorm(1e6), 'hampel')", t_ours, t_runmed, "runmed(x, 7)",
       ratio = t_ours / t_runmed, unit = "x time",
       target = function(r) r <= 2, target_text = "<= 2x runmed")
rm(x)
invisible(gc())

# ------------------------------------------------------- adjbox, 1e6 skewed
if (requireNamespace("robustbase", quietly = TRUE)) {
  options(mc_doScale_quiet = TRUE)
  set.seed(3)
  x <- rlnorm(1e6)
  same_or_note(detect_outliers(x, method = "adjbox"),
               which(x %in% robustbase::adjbox(x, plot = FALSE)$out), "adjbox 1e6")
  t_ours <- time_hires(detect_outliers(x, method = "adjbox"), times = 7)
  t_peer <- time_it(robustbase::adjbox(x, plot = FALSE), times = 3)
  report("detect_outliers(rlnorm(1e6), 'adjbox')", t_ours, t_peer,
         "robustbase::adjbox()", target = function(r) r >= 10, target_text = ">= 10x adjbox()")
} else {
  cat("robustbase is not installed: the adjbox comparison is skipped\n")
}

# ------------------------------------------------------------- gesd, 1e6
set.seed(4)
x <- c(rnorm(1e6 - 5), 8, -9, 10, 7.5, -8)
t_gesd <- time_hires(detect_outliers(x, method = "gesd", max_outliers = 10), times = 21)
t_z <- time_hires(detect_outliers(x), times = 21)
report("detect_outliers(1e6, 'gesd', max_outliers = 10)", t_gesd, t_z, "zscore, same data",
       ratio = t_gesd / t_z, unit = "x time",
       target = function(r) r <= 3, target_text = "<= 3x zscore's time")

# ---------------------------------------------- by: 1e5 character groups
set.seed(5)
x <- rnorm(1e6)
by_chr <- sprintf("sensor-%06d", sample.int(1e5, 1e6, replace = TRUE))
by_fct <- factor(by_chr)
same_or_note(detect_outliers(x, by = by_chr), detect_outliers(x, by = by_fct), "by strings")
t_chr <- time_hires(detect_outliers(x, by = by_chr), times = 9)
t_fct <- time_hires(detect_outliers(x, by = by_fct), times = 9)
t_split <- time_it(by_split(x, by_chr, zscore_rule), times = 3)
report("by (character, 1e5 groups), 1e6 values", t_chr, t_fct, "same groups as a factor",
       ratio = t_chr / t_fct, unit = "x time",
       target = function(r) r <= 1.5, target_text = "<= 1.5x the factor's time")
report("by (character, 1e5 groups), 1e6 values", t_chr, t_split, "split()/lapply() same rule",
       target = function(r) r >= 10, target_text = ">= 10x base R")
rm(x, by_chr, by_fct)
invisible(gc())
cat("\n")
