# Size sweep (issue "Fast at every size"): rwbridge against its peers, in
# the same run, from the smallest input to the largest, over six to seven
# orders of magnitude.
#
#   detect_outliers() "zscore" and "mad": n = 10 ... 1e7 (and 1e8, see below)
#     against the base-R expression and numpy; detect_outliers(numeric(0)).
#   hash_files(): 1 ... 20,000 files of 3 KiB, and one file of 16 B ... 64 MiB
#     (1 GiB with RWB_SWEEP_FULL=1), against digest::digest() and
#     tools::md5sum() (MD5, not SHA-1: the fastest hasher in base R).
#   verify(): trees of 1 ... 20,000 files of 3 KiB and the 10 bundled logs,
#     against `sha1sum -c --quiet` and tools::md5sum() of the same files.
#   readit()/writeit(): 16 B ... 64 MiB (1 GiB with RWB_SWEEP_FULL=1), against
#     readBin()/writeBin() and brio.
#
# n = 1e8 runs by default only when the 1e7 step projects to under a minute
# for it (10x its time); RWB_SWEEP_FULL=1 forces it and the 1 GiB files.
#
# Timing: medians in this process after a warm-up call, page cache warm.
# Under 1 ms a call: bench::mark() (>= 2,000 iterations, GC iterations
# dropped, as time_fast()); 1 to 100 ms: the median of 5 to 200 runs on
# bench::hires_time() (system.time(), which time_it() uses, ticks in whole
# milliseconds); over 100 ms: time_it(). numpy is timed inside python with
# time.perf_counter() around each call (median of repeats), data transfer
# and import excluded.
#
# Output: one line per comparison (report(), rows in $RWB_BENCH_RESULTS; every
# ratio is the peer's time / rwbridge's, "x faster", so > 1 favours rwbridge), and
# every timing in $RWB_SWEEP_CSV (default bench/sweep.csv: fun, peer, size,
# unit, seconds, timer, date, machine), drawn by bench/sweep-figure.R into
# vignettes/sweep.png.
# Run from the package root:
#   RWB_BENCH_DIR=$PWD/out/bench RWB_BENCH_RESULTS=/tmp/results.csv Rscript bench/sweep.R
if (!exists("report")) source("bench/common.R")
cat("== size sweep ==\n")

# Every R object of the namespace is loaded now, so a reinstall of the package
# during the run cannot break a lazy load half-way.
local({
  ns <- asNamespace("rwbridge")
  for (name in ls(ns, all.names = TRUE)) invisible(get(name, envir = ns))
})

full <- identical(Sys.getenv("RWB_SWEEP_FULL"), "1")
sweep_csv <- Sys.getenv("RWB_SWEEP_CSV", "bench/sweep.csv")
sweep_dir <- file.path(bench_dir, "sweep")
dir.create(sweep_dir, recursive = TRUE, showWarnings = FALSE)
unlink(sweep_csv)

# The 10 bundled logs and their manifest, copied now for the verify() step.
logs <- file.path(sweep_dir, "bundled-logs")
unlink(logs, recursive = TRUE)
dir.create(logs)
bundled <- list.files(system.file("extdata", "logs", package = "rwbridge"), full.names = TRUE)
stopifnot(length(bundled) > 1, all(file.copy(bundled, logs)))

sweep_started <- bench::hires_time()
sweep_machine <- local({
  m <- machine()
  sprintf("%s, %d cores%s", m$cpu, m$cores, if (m$sha_ni) ", SHA-NI" else "")
})

cat(sprintf("rwbridge %s built %s; load average %s; %s\n",
            utils::packageVersion("rwbridge"),
            sub("^[^;]*; [^;]*; ([^;]*);.*$", "\\1", utils::packageDescription("rwbridge")$Built),
            loadavg(), if (full) "RWB_SWEEP_FULL=1" else "default sizes (RWB_SWEEP_FULL=1 for all)"))

# Median seconds per call of `expr`, and the timer used (see the header).
sweep_time <- function(expr) {
  f <- eval(call("function", NULL, substitute(expr)), parent.frame())
  first <- hires_once(f)  # the warm-up run, timed
  if (first < 1e-3) return(list(seconds = mark_median(f), timer = "bench::mark"))
  if (first < 0.1) {
    runs <- min(200, max(5, ceiling(0.5 / first)))
    return(list(seconds = hires_median(f, runs), timer = sprintf("hires x%d", runs)))
  }
  times <- if (first > 3) 2 else if (first > 1) 3 else 5
  list(seconds = time_it(f(), times = times), timer = sprintf("time_it x%d", times))
}

# One timing into the sweep CSV.
record <- function(fun, peer, size, unit, timing) {
  row <- data.frame(fun = fun, peer = peer, size = size, unit = unit,
                    seconds = timing$seconds, timer = timing$timer,
                    date = format(Sys.Date()), machine = sweep_machine)
  utils::write.table(row, sweep_csv, sep = ",", append = file.exists(sweep_csv),
                     col.names = !file.exists(sweep_csv), row.names = FALSE)
  timing$seconds
}

fmt_n <- function(n) if (n == 0) "0" else sprintf("1e%d", round(log10(n)))
fmt_bytes <- function(b) {
  units <- c("B", "KiB", "MiB", "GiB")
  k <- max(0, min(3, floor(log(b, 1024))))
  sprintf("%g %s", b / 1024^k, units[k + 1])
}
fmt_files <- function(k) sprintf("%d file%s", k, if (k == 1) "" else "s")

# ---------------------------------------------------------------- outliers
cat("\n-- detect_outliers(): base R expressions and numpy, same data --\n")
zscore_base_text <- "which(abs(x - mean(x)) > 2 * sqrt(mean((x - mean(x))^2)))"
mad_base_text <- "which(abs(x - median(x)) > 2 * 1.4826 * median(abs(x - median(x))))"
cat("base R zscore:", zscore_base_text, "\nbase R mad:   ", mad_base_text, "\n")

numpy_ok <- has_numpy()
numpy_code <- paste(c(
  "import sys, time, numpy as np",
  "path, k = sys.argv[1], int(sys.argv[2])",
  "x = np.fromfile(path, dtype='<f8')",
  "def zscore(d): return np.where(np.abs(d - d.mean()) > 2 * d.std())[0]",
  "def mad(d):",
  "    m = np.median(d)",
  "    return np.where(np.abs(d - m) > 2 * 1.4826 * np.median(np.abs(d - m)))[0]",
  python_median_time,
  "print(median_time(lambda: zscore(x), k, True), median_time(lambda: mad(x), k, True))"),
  collapse = "\n")
numpy_script <- file.path(sweep_dir, "numpy_sweep.py")
writeLines(numpy_code, numpy_script)
if (numpy_ok) {
  numpy_version <- python("import numpy; print(numpy.__version__)", stdout = TRUE)
  cat(sprintf("numpy %s: timed inside python (time.perf_counter, median of repeats);\n",
              numpy_version),
      "data transfer (a file of doubles) and python start-up excluded\n")
} else {
  cat("numpy is not installed: numpy comparisons skipped\n")
}

numpy_time <- function(x) {
  data <- file.path(sweep_dir, "x.f64")
  writeBin(x, data, endian = "little")
  on.exit(unlink(data))
  repeats <- if (length(x) <= 1e4) 2000 else if (length(x) <= 1e5) 200
             else if (length(x) <= 1e6) 20 else if (length(x) <= 1e7) 5 else 3
  out <- system2("env", c("-u", "LD_LIBRARY_PATH", "python3", numpy_script, data, repeats),
                 stdout = TRUE)
  t <- as.numeric(strsplit(out[length(out)], " ")[[1]])
  list(zscore = list(seconds = t[1], timer = sprintf("perf_counter x%d", repeats)),
       mad = list(seconds = t[2], timer = sprintf("perf_counter x%d", repeats)))
}

outlier_rows <- list()
sizes <- 10^(1:8)
for (n in sizes) {
  if (n == 1e8 && !full) {
    projected <- 10 * step_seconds
    if (projected >= 60) {
      cat(sprintf("n = 1e8 skipped: projected %.0f s (10x the 1e7 step), over a minute;",
                  projected), "RWB_SWEEP_FULL=1 runs it\n")
      break
    }
    cat(sprintf("n = 1e8 included: projected %.0f s, under a minute\n", projected))
  }
  step_start <- bench::hires_time()
  set.seed(1)
  x <- rnorm(n)
  if (n <= 1e6) {
    same <- identical(as.numeric(detect_outliers(x)),
                      as.numeric(which(abs(x - mean(x)) > 2 * sqrt(mean((x - mean(x))^2))))) &&
      identical(as.numeric(detect_outliers(x, threshold = 2, method = "mad")),
                as.numeric(which(abs(x - median(x)) > 2 * 1.4826 *
                                   median(abs(x - median(x))))))
    if (!same) cat(sprintf("NOTE: n = %s: rwbridge and base R flag different indices\n", fmt_n(n)))
  }
  row <- list(n = n)
  row$z_ours <- record("detect_outliers zscore", "rwbridge", n, "n",
                       sweep_time(detect_outliers(x)))
  row$z_base <- record("detect_outliers zscore", "base R", n, "n",
                       sweep_time(which(abs(x - mean(x)) > 2 * sqrt(mean((x - mean(x))^2)))))
  row$m_ours <- record("detect_outliers mad", "rwbridge", n, "n",
                       sweep_time(detect_outliers(x, threshold = 2, method = "mad")))
  row$m_base <- record("detect_outliers mad", "base R", n, "n",
                       sweep_time(which(abs(x - median(x)) > 2 * 1.4826 *
                                          median(abs(x - median(x))))))
  if (numpy_ok) {
    np <- numpy_time(x)
    row$z_numpy <- record("detect_outliers zscore", "numpy", n, "n", np$zscore)
    row$m_numpy <- record("detect_outliers mad", "numpy", n, "n", np$mad)
  }
  outlier_rows[[length(outlier_rows) + 1]] <- row
  rm(x)
  invisible(gc())
  step_seconds <- as.numeric(bench::hires_time() - step_start)
  message(sprintf("  detect_outliers n = %s measured in %.1f s", fmt_n(n), step_seconds))
}

outlier_target <- function(n) {
  if (n > 1e7) return(list(f = NULL, text = ""))
  if (n >= 1e4) list(f = function(r) r >= 10, text = ">= 10x base R at n >= 1e4")
  else list(f = function(r) r >= 2, text = ">= 2x base R at every n")
}
for (method in c("zscore", "mad")) {
  cat(sprintf("\ndetect_outliers(x%s), x = rnorm(n):\n",
              if (method == "mad") ", threshold = 2, method = \"mad\"" else ""))
  prefix <- if (method == "zscore") "z_" else "m_"
  for (row in outlier_rows) {
    ours <- row[[paste0(prefix, "ours")]]
    target <- outlier_target(row$n)
    claim <- sprintf("sweep detect_outliers %s n=%s", method, fmt_n(row$n))
    report(claim, ours, row[[paste0(prefix, "base")]], "base R expression",
           target = target$f, target_text = target$text)
    if (numpy_ok) report(claim, ours, row[[paste0(prefix, "numpy")]], "numpy (in python)")
  }
}

e <- numeric(0)
t_empty <- record("detect_outliers numeric(0)", "rwbridge", 0, "n",
                  sweep_time(detect_outliers(e)))
t_empty_base <- record("detect_outliers numeric(0)", "base R", 0, "n",
                       sweep_time(which(abs(e - mean(e)) > 2 * sqrt(mean((e - mean(e))^2)))))
cat("\n")
report("sweep detect_outliers(numeric(0))", t_empty, t_empty_base, "base R expression",
       target = function(r) t_empty <= 3e-6, target_text = "<= 3 us a call")

# ------------------------------------------------------------------ files
# Trees of 1 ... 20,000 files of 3 KiB, each file different, made once and
# reused; the manifest is written by write_signatures().
file_counts <- c(1, 10, 100, 1000, 20000)
file_size <- 3072
make_sweep_tree <- function(k) {
  dir <- file.path(sweep_dir, sprintf("tree-%05d", k))
  names <- sprintf("d%02d/f%05d.bin", seq_len(k) %% 50, seq_len(k))
  manifest <- file.path(dir, "sha1sum.txt")
  if (!file.exists(manifest)) {
    set.seed(k)
    write_blocks(dir, names, file_size, write = writeBin)
    write_signatures(dir, files = names)
  }
  list(dir = dir, files = names, paths = file.path(dir, names))
}
trees <- lapply(file_counts, make_sweep_tree)

# Single files of 16 B ... 64 MiB (1 GiB: the file io.R makes, with FULL).
byte_sizes <- c(16, 2^10, 2^16, 2^20, 2^26, if (full) 2^30)
make_file <- function(bytes) {
  path <- if (bytes == 2^30) file.path(bench_dir, "1GiB.bin")
          else file.path(sweep_dir, sprintf("io-%.0f.bin", bytes))
  if (!file.exists(path) || file.size(path) != bytes) {
    set.seed(bytes %% 1e6)
    chunk <- as.raw(sample(0:255, min(bytes, 2^24), replace = TRUE))
    con <- file(path, "wb")
    for (i in seq_len(bytes / length(chunk))) writeBin(chunk, con)
    close(con)
  }
  path
}
single_files <- vapply(byte_sizes, make_file, "")

cat(sprintf("\n-- hash_files() (SHA-1): digest::digest(file =, algo = \"sha1\") %s,",
            "in vapply()"),
    "and tools::md5sum() (MD5) --\n")
digest_loop <- function(paths) vapply(paths, function(p) digest::digest(file = p, algo = "sha1"), "")
hash_case <- function(paths, size, unit, label) {
  stopifnot(identical(unname(hash_files(paths)), unname(digest_loop(paths))))
  ours <- record("hash_files", "rwbridge", size, unit, sweep_time(hash_files(paths)))
  dig <- record("hash_files", "digest", size, unit, sweep_time(digest_loop(paths)))
  md5 <- record("hash_files", "tools::md5sum", size, unit, sweep_time(tools::md5sum(paths)))
  one_3k <- unit == "files" && size == 1
  report(paste("sweep hash_files()", label), ours, dig, "digest::digest() loop",
         target = if (one_3k) function(r) r >= 2,
         target_text = if (one_3k) "<= 0.5x digest's time (>= 2x faster)" else "")
  report(paste("sweep hash_files()", label), ours, md5, "tools::md5sum()")
}
for (i in seq_along(file_counts)) {
  hash_case(trees[[i]]$paths, file_counts[i], "files",
            sprintf("%s x 3 KiB", fmt_files(file_counts[i])))
}
for (i in seq_along(byte_sizes)) {
  if (byte_sizes[i] %in% c(2^10, 2^16)) next  # the brief's sizes: 16 B, 1 MiB, 64 MiB, 1 GiB
  hash_case(single_files[i], byte_sizes[i], "bytes", sprintf("one %s file", fmt_bytes(byte_sizes[i])))
}

cat("\n-- verify(threads = NULL, progress = FALSE): `sha1sum -c --quiet` and",
    "tools::md5sum() of the same files --\n")
# Exit status 0 when every file matches, 1 when one does not.
sha1sum_c <- function(dir, manifest = "sha1sum.txt") {
  withr::with_dir(dir, system2("sha1sum", c("-c", "--quiet", manifest),
                               stdout = FALSE, stderr = FALSE))
}
# `bad`: the files known not to match (the bundled logs hold one tampered
# log, httpd-08.log, on purpose); both tools must find exactly those.
verify_case <- function(dir, paths, size, unit, label, target_md5 = FALSE, bad = 0) {
  stopifnot(sum(verify(dir, threads = NULL, progress = FALSE)$status != "ok") == bad,
            sha1sum_c(dir) == (bad > 0))
  ours <- record("verify", "rwbridge", size, unit,
                 sweep_time(verify(dir, threads = NULL, progress = FALSE)))
  gnu <- record("verify", "sha1sum -c", size, unit, sweep_time(sha1sum_c(dir)))
  md5 <- record("verify", "tools::md5sum", size, unit, sweep_time(tools::md5sum(paths)))
  report(paste("sweep verify()", label), ours, gnu, "sha1sum -c --quiet")
  report(paste("sweep verify()", label), ours, md5, "tools::md5sum()",
         target = if (target_md5) function(r) r >= 2,
         target_text = if (target_md5) "<= 0.5x md5sum's time (>= 2x faster)" else "")
}
for (i in seq_along(file_counts)) {
  verify_case(trees[[i]]$dir, trees[[i]]$paths, file_counts[i], "files",
              sprintf("%s x 3 KiB", fmt_files(file_counts[i])))
}
# The bundled logs, copied (taken at the start of the run, see above), so a
# reinstall of the package during the run cannot pull them away.
log_files <- sub("^[0-9a-f]+ [ *]", "", readLines(file.path(logs, "sha1sum.txt")))
verify_case(logs, file.path(logs, log_files), length(log_files), "files (bundled logs)",
            sprintf("bundled logs (%d files)", length(log_files)), target_md5 = TRUE, bad = 1)

# ------------------------------------------------------------------- I/O
cat("\n-- readit(path): readBin(path, \"raw\", file.size(path)), brio::read_file_raw(path) --\n")
for (i in seq_along(byte_sizes)) {
  path <- single_files[i]
  b <- byte_sizes[i]
  stopifnot(identical(readit(path), readBin(path, "raw", file.size(path))))
  ours <- record("readit", "rwbridge", b, "bytes", sweep_time(readit(path)))
  rb <- record("readit", "readBin", b, "bytes", sweep_time(readBin(path, "raw", file.size(path))))
  br <- record("readit", "brio", b, "bytes", sweep_time(brio::read_file_raw(path)))
  label <- sprintf("sweep readit() %s", fmt_bytes(b))
  target <- b == 16
  report(label, ours, rb, "readBin()",
         target = if (target) function(r) r >= 2,
         target_text = if (target) "<= 0.5x readBin's time (>= 2x faster)" else "")
  report(label, ours, br, "brio::read_file_raw()")
}

cat("\n-- writeit(bytes, path): writeBin(bytes, path), brio::write_file_raw(bytes, path) --\n",
    "NOTE: writeit() writes a temporary file, fsyncs it and renames it into place\n",
    "(atomic, durable); writeBin() and brio write in place with no fsync, so they\n",
    "do less work: a ratio under 1 here is the price of durability.\n", sep = "")
out_ours <- file.path(sweep_dir, "out-writeit.bin")
out_wb <- file.path(sweep_dir, "out-writeBin.bin")
out_brio <- file.path(sweep_dir, "out-brio.bin")
for (i in seq_along(byte_sizes)) {
  b <- byte_sizes[i]
  bytes <- readit(single_files[i])
  ours <- record("writeit", "rwbridge", b, "bytes", sweep_time(writeit(bytes, out_ours)))
  wb <- record("writeit", "writeBin", b, "bytes", sweep_time(writeBin(bytes, out_wb)))
  br <- record("writeit", "brio", b, "bytes", sweep_time(brio::write_file_raw(bytes, out_brio)))
  stopifnot(identical(readit(out_ours), bytes))
  label <- sprintf("sweep writeit() %s (fsync)", fmt_bytes(b))
  report(label, ours, wb, "writeBin() (no fsync)")
  report(label, ours, br, "brio (no fsync)")
  rm(bytes)
}
unlink(c(out_ours, out_wb, out_brio))

cat(sprintf("\nsweep done in %.0f s; load average now %s; timings in %s\n",
            as.numeric(bench::hires_time() - sweep_started), loadavg(), sweep_csv))
# Run as a script (not sourced by run-all.R, which draws it itself): the figure.
if (sys.nframe() == 0L) source("bench/sweep-figure.R")
cat("\n")
