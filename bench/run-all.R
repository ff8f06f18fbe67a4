# Every benchmark, in one run: Rscript bench/run-all.R (or `make bench`).
# Results also go to $RWB_BENCH_RESULTS (default: a results.csv in the bench
# data folder, $RWB_BENCH_DIR).
source("bench/common.R")
unlink(results_file)
print_machine()
for (script in c("bench/io.R", "bench/verify.R", "bench/digests.R", "bench/manifests.R",
                 "bench/shards.R",
                 "bench/outliers.R", "bench/bagit.R",
                 "bench/sweep.R")) {
  source(script)
}
source("bench/sweep-figure.R")  # vignettes/sweep.png from bench/sweep.csv
cat("results written to", results_file, "\n")
