# verify(shards = 2) under plan(multisession, workers = 2), one thread per
# worker, against verify() in this process with 2 threads: the cost of
# futures against the work. Tree A: 64 files, 1 GiB; tree B: 20,000 files of
# 4 KiB (made by bench/verify.R); the 1 GiB bag of bench/bagit.R for
# verify_bag(). Page cache warm; workers started before timing (a plan's
# workers are started once and reused).
if (!exists("report")) source("bench/common.R")
cat("== verify(shards = ) under future ==\n")
if (!requireNamespace("future", quietly = TRUE)) {
  cat("skipped: the package future is not installed\n\n")
} else {
  old_plan <- future::plan(future::multisession, workers = 2)
  # Start the workers and load rwbridge in them.
  invisible(future::value(future::future(rwbridge::hash_files(character()))))
  for (name in c("A", "B")) {
    dir <- file.path(bench_dir, paste0("tree", name))
    if (!file.exists(file.path(dir, "sha1sum.txt"))) {
      cat("tree", name, "missing: run bench/verify.R first\n")
      next
    }
    t_local <- time_it(verify(dir, threads = 2, progress = FALSE), times = 3)
    t_shards <- time_it(verify(dir, threads = 1, progress = FALSE, shards = 2), times = 3)
    label <- sprintf("verify(shards = 2) tree %s", name)
    report(label, t_shards, t_local, "verify(threads = 2) local",
           target = if (name == "A") function(r) r >= 0.8,
           target_text = if (name == "A") ">= 0.8x the local speed" else "")
    if (name == "B") {
      # Overhead per shard: the same tree in 1, 2, 4 and 8 parts.
      t <- vapply(c(1, 2, 4, 8), function(k) {
        time_it(verify(dir, threads = 1, progress = FALSE, shards = k), times = 3)
      }, 0)
      per_shard <- unname(stats::coef(stats::lm(t ~ c(1, 2, 4, 8)))[2])
      cat(sprintf("tree B in 1, 2, 4, 8 shards: %s; about %s more per shard\n",
                  paste(vapply(t, format_time, ""), collapse = ", "), format_time(per_shard)))
    }
  }
  # The same for a bag: verify_bag() reads the tag files and lists the
  # payload here, the workers hash the payload (the 1 GiB bag of
  # bench/bagit.R, SHA-256 and SHA-512 of every file).
  bag <- file.path(bench_dir, "bag")
  if (file.exists(file.path(bag, "bagit.txt"))) {
    t_local <- time_it(verify_bag(bag, threads = 2, progress = FALSE), times = 3)
    t_shards <- time_it(verify_bag(bag, threads = 1, progress = FALSE, shards = 2), times = 3)
    report("verify_bag(shards = 2) 1 GiB bag", t_shards, t_local,
           "verify_bag(threads = 2) local")
  } else {
    cat("bag missing: run bench/bagit.R first\n")
  }
  future::plan(old_plan)
}
cat("\n")
