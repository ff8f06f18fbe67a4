# detect_outliers() against the base-R expression, numpy's detect (the seed)
# and the memory floor, numpy's x.sum(), on the same 1e8 doubles; "mad"
# against median() + mad() on 1e7.
if (!exists("report")) source("bench/common.R")
cat("== detect_outliers() ==\n")

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
  code <- sprintf(paste(
    "import numpy as np, time",
    "x = np.fromfile('%s', dtype='<f8')",
    "def detect(data): return np.where(np.abs(data - data.mean()) > 2 * data.std())[0]",
    "def best(f, k):",
    "    ts = []",
    "    for _ in range(k):",
    "        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)",
    "    return sorted(ts)[len(ts) // 2]",
    "detect(x); x.sum()",
    "print(best(lambda: detect(x), 5), best(lambda: x.sum(), 7))",
    sep = "\n"), data)
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

y <- rnorm(1e7)
t_ours <- time_it(detect_outliers(y, method = "mad"), times = 5)
t_base <- time_it({ m <- median(y); s <- mad(y) }, times = 3)
report("detect_outliers(rnorm(1e7), 'mad')", t_ours, t_base, "median() + mad()",
       target = function(r) r >= 3, target_text = ">= 3x base R")
cat("\n")
