# verify_bag() against bagit-python's Bag.validate(processes = 2), both
# computing SHA-256 and SHA-512 of every file, and both against the hash
# floor: `openssl speed -multi <cores> -evp sha256` and `sha512` combined, i.e.
# the time to push every byte through both digests on every core,
# bytes / r256 + bytes / r512. A 1 GiB bag of 64 files; page cache warm.
if (!exists("report")) source("bench/common.R")
cat("== verify_bag() ==\n")
cores <- parallel::detectCores()

make_bag_dir <- function(dir, files, size) {
  if (file.exists(file.path(dir, "bagit.txt"))) return(dir)
  unlink(dir, recursive = TRUE)
  write_blocks(dir, sprintf("f%02d.bin", seq_len(files)), size)
  write_bag(dir, algo = c("sha256", "sha512"))
  dir
}

has_bagit_python <- function() {
  nzchar(Sys.which("python3")) &&
    python("import bagit", stdout = FALSE, stderr = FALSE) == 0
}

# Median seconds of `times` runs of bagit.Bag(dir).validate(processes = 2),
# timed inside Python (so interpreter start-up is not counted), after one
# warm-up run; bagit-python raises unless the bag is valid.
time_bagit_python <- function(dir, times) {
  code <- paste(
    "import sys, time, statistics, bagit",
    "def run():",
    "    t = time.perf_counter()",
    "    bagit.Bag(sys.argv[1]).validate(processes=2)",
    "    return time.perf_counter() - t",
    "run()",
    sprintf("print(statistics.median([run() for _ in range(%d)]))", times),
    sep = "\n"
  )
  out <- system2("env", c("-u", "LD_LIBRARY_PATH", "python3", "-c", shQuote(code), shQuote(dir)),
                 stdout = TRUE, stderr = FALSE)
  as.numeric(utils::tail(out, 1))
}

dir <- make_bag_dir(file.path(bench_dir, "bag"), 64, 2^24)
payload <- list.files(file.path(dir, "data"), full.names = TRUE)
bytes <- sum(file.size(payload))
cat(sprintf("bag: %d files, %.0f MB; load average before: %s\n", length(payload), bytes / 1e6,
            loadavg(all = TRUE)))
# The machine may be shared: runs of the two alternate, so that both see
# the same load, and the medians are compared.
ours <- function() system.time(stopifnot(attr(verify_bag(dir, threads = cores), "valid")))[["elapsed"]]
ours()
py <- has_bagit_python()
runs <- vapply(1:5, function(i) c(ours(), if (py) time_bagit_python(dir, 1) else NA), numeric(2))
t_ours <- stats::median(runs[1, ])
t_py <- stats::median(runs[2, ])
label <- sprintf("verify_bag() %d files, %.0f MB, sha256+sha512", length(payload), bytes / 1e6)
if (!py) cat("bagit-python unavailable (python3 -m pip install bagit): comparison skipped\n")
report(label, t_ours, t_py, "bagit-python validate(2)",
       target = function(r) r >= 1.3, target_text = ">= 1.3x bagit-python")
if (nzchar(Sys.which("openssl"))) {
  r256 <- openssl_rate("sha256", cores)  # bytes/s, 16 KiB blocks
  r512 <- openssl_rate("sha512", cores)
  t_floor <- bytes / r256 + bytes / r512
  cat(sprintf("floor: openssl x%d sha256 %.2f GB/s, sha512 %.2f GB/s: both digests of %.0f MB in %s\n",
              cores, r256 / 1e9, r512 / 1e9, bytes / 1e6, format_time(t_floor)))
  report(label, t_ours, t_floor, sprintf("openssl x%d floor", cores),
         ratio = t_floor / t_ours, unit = "of floor")
  if (!is.na(t_py)) {
    cat(sprintf("%-44s bagit-python %s is %.2f of the floor\n", "", format_time(t_py),
                t_floor / t_py))
  }
}
cat(sprintf("load average after: %s\n\n", loadavg(all = TRUE)))
