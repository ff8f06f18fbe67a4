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
  f <- eval(call("function", NULL, substitute(expr)), parent.frame())
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

# R's LD_LIBRARY_PATH can make a python3 built with a shared libpython load
# the system's libpython instead, without its packages.
python <- function(code, ...) {
  system2("env", c("-u", "LD_LIBRARY_PATH", "python3", "-c", shQuote(code)), ...)
}

has_numpy <- function() {
  nzchar(Sys.which("python3")) &&
    python("import numpy", stdout = FALSE, stderr = FALSE) == 0
}
