# Shared by the bench scripts: machine context, timing, and a results table.
# Timings are medians of repeated runs in this process, page cache warm;
# every ratio compares peers measured in the same run.

suppressPackageStartupMessages(library(rwbridge))

bench_dir <- Sys.getenv("RWB_BENCH_DIR", file.path(tempdir(), "rwbridge-bench"))
dir.create(bench_dir, recursive = TRUE, showWarnings = FALSE)
results_file <- Sys.getenv("RWB_BENCH_RESULTS", file.path(bench_dir, "results.csv"))

machine <- function() {
  cpu <- tryCatch({
    info <- readLines("/proc/cpuinfo")
    sub(".*: ", "", grep("^model name", info, value = TRUE)[1])
  }, error = function(e) NA_character_)
  rustc <- tryCatch(system2("rustc", "--version", stdout = TRUE), error = function(e) NA)
  list(
    date = format(Sys.time(), "%Y-%m-%d %H:%M %Z"), cpu = cpu,
    cores = parallel::detectCores(), r = R.version.string, rustc = rustc,
    sha_ni = any(grepl("sha_ni", tryCatch(readLines("/proc/cpuinfo"), error = function(e) "")))
  )
}

print_machine <- function() {
  m <- machine()
  cat(sprintf("machine: %s, %d cores, SHA-NI %s\n%s; %s\ndate: %s; page cache warm\n\n",
              m$cpu, m$cores, if (m$sha_ni) "yes" else "no", m$r, m$rustc, m$date))
}

# Median elapsed seconds of `times` runs of `expr` (after one warm-up run).
time_it <- function(expr, times = 5) {
  f <- eval(call("function", NULL, substitute(expr)), parent.frame())
  f()
  stats::median(vapply(seq_len(times), function(i) system.time(f())[["elapsed"]], 0))
}

# Median seconds per call of a fast expression, from bench::mark.
time_fast <- function(expr) {
  mark_median(eval(call("function", NULL, substitute(expr)), parent.frame()))
}

# Median seconds of `times` runs of `expr` after a warm-up run, timed with
# bench::hires_time() (system.time() ticks in whole milliseconds).
time_hires <- function(expr, times = 15) {
  f <- eval(call("function", NULL, substitute(expr)), parent.frame())
  f()
  hires_median(f, times)
}

# The timers above, for a function of no arguments `f` (as they build from
# their expression), so that a timer choosing among them (sweep_time() in
# sweep.R, time_any() in outliers.R) times `f` itself:
#   hires_once(f): seconds of one call, on bench::hires_time();
#   hires_median(f, times): median of `times` such calls (no warm-up);
#   mark_median(f): median seconds per call from bench::mark() (>= 2,000
#     iterations, GC iterations dropped).
hires_once <- function(f) {
  start <- bench::hires_time()
  f()
  as.numeric(bench::hires_time() - start)
}

hires_median <- function(f, times) {
  stats::median(vapply(seq_len(times), function(i) hires_once(f), 0))
}

mark_median <- function(f) {
  m <- bench::mark(f(), min_iterations = 2000, check = FALSE, filter_gc = TRUE)
  as.numeric(m$median)
}

format_time <- function(s) {
  if (is.na(s)) return("n/a")
  if (s < 1e-6) sprintf("%.0f ns", s * 1e9)
  else if (s < 1e-3) sprintf("%.2f us", s * 1e6)
  else if (s < 1) sprintf("%.1f ms", s * 1e3)
  else sprintf("%.2f s", s)
}

# One comparison: prints and records it. `target` is a predicate on the
# ratio (ours / peer, or as stated) with its description.
report <- function(claim, ours, peer, peer_name, ratio = peer / ours,
                   target = NULL, target_text = "", unit = "x faster") {
  met <- if (is.null(target) || is.na(ratio)) NA else target(ratio)
  cat(sprintf("%-44s rwbridge %9s | %-22s %9s | %6.2f %-9s %s\n",
              claim, format_time(ours), peer_name, format_time(peer), ratio, unit,
              if (is.na(met)) "" else paste0(if (met) "target met" else "TARGET MISSED",
                                             " (", target_text, ")")))
  row <- data.frame(date = format(Sys.Date()), claim = claim, ours = ours, peer = peer,
                    peer_name = peer_name, ratio = ratio, unit = unit,
                    target = target_text, met = met)
  utils::write.table(row, results_file, sep = ",", append = file.exists(results_file),
                     col.names = !file.exists(results_file), row.names = FALSE)
  invisible(row)
}

# Bytes a second of `openssl speed -multi <cores> -evp <algo> -seconds <seconds>`
# (all cores, `seconds` per block size) at its largest block size, the last column:
# 16 KiB. NA when openssl is not installed or does not list `algo`.
openssl_rate <- function(algo = "sha1", cores = parallel::detectCores(), seconds = 2) {
  if (!nzchar(Sys.which("openssl"))) return(NA)
  out <- suppressWarnings(system2("openssl", c("speed", "-multi", cores, "-evp", algo,
                                               "-seconds", seconds), stdout = TRUE, stderr = FALSE))
  row <- grep(paste0("^", algo, " "), out, value = TRUE)
  if (length(row) == 0) return(NA)
  fields <- strsplit(trimws(row[[1]]), " +")[[1]]
  as.numeric(sub("k$", "", fields[length(fields)])) * 1000
}

# Writes `files` (paths under `dir`; folders made as needed), `size` bytes
# each: one random block (from the session's random stream: set.seed()
# first for a fixed one) whose first 4 bytes are, in each file, its index in
# `files` as a native-order integer, so that every file differs. `write`
# writes a raw vector to a path. Returns the paths, invisibly.
write_blocks <- function(dir, files, size, write = writeit) {
  dir.create(dir, recursive = TRUE, showWarnings = FALSE)
  for (d in setdiff(unique(dirname(files)), ".")) {
    dir.create(file.path(dir, d), recursive = TRUE, showWarnings = FALSE)
  }
  block <- as.raw(sample(0:255, size, replace = TRUE))
  for (i in seq_along(files)) {
    block[1:4] <- writeBin(i, raw(), size = 4)  # every file different
    write(block, file.path(dir, files[i]))
  }
  invisible(file.path(dir, files))
}

# The load averages from /proc/loadavg, "n/a" without it: the 1, 5 and 15
# minute figures, or with `all` the whole line (with the running/total
# tasks and the last PID).
loadavg <- function(all = FALSE) {
  tryCatch({
    line <- readLines("/proc/loadavg", n = 1)
    if (all) line else paste(strsplit(line, " ")[[1]][1:3], collapse = " ")
  }, error = function(e) "n/a")
}

# R's LD_LIBRARY_PATH can make a python3 built with a shared libpython load
# the system's libpython instead, without its packages.
python <- function(code, ...) {
  system2("env", c("-u", "LD_LIBRARY_PATH", "python3", "-c", shQuote(code)), ...)
}

# Python lines defining median_time(f, k, warm = False): the median seconds
# of `k` calls of `f`, each timed with time.perf_counter(), after one
# untimed call with `warm`. The numpy peers are timed inside python with it.
python_median_time <- c(
  "def median_time(f, k, warm=False):",
  "    if warm: f()",
  "    ts = []",
  "    for _ in range(k):",
  "        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)",
  "    return sorted(ts)[len(ts) // 2]"
)

has_numpy <- function() {
  nzchar(Sys.which("python3")) &&
    python("import numpy", stdout = FALSE, stderr = FALSE) == 0
}
