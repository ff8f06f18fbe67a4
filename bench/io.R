# readit()/writeit() against readBin()/writeBin() and brio::read_file_raw()/
# write_file_raw(); the per-call cost of an extendr entry point against a
# bare .Call into C. Run from the package root: Rscript bench/io.R
if (!exists("report")) source("bench/common.R")
cat("== file I/O and call overhead ==\n")

small <- file.path(bench_dir, "16-bytes.bin")
writeBin(as.raw(1:16), small)
t_ours <- time_fast(readit(small))
t_readbin <- time_fast(readBin(small, "raw", 16))
t_brio <- time_fast(brio::read_file_raw(small))
report("readit() 16-byte file", t_ours, t_readbin, "readBin(f, 'raw', 16)",
       ratio = t_ours / t_readbin, unit = "x time",
       target = function(r) r <= 0.5, target_text = "<= 0.5x readBin's time")
report("readit() 16-byte file", t_ours, t_brio, "brio::read_file_raw()")

big <- file.path(bench_dir, "1GiB.bin")
if (!file.exists(big) || file.size(big) != 2^30) {
  con <- file(big, "wb")
  chunk <- as.raw(sample(0:255, 2^24, replace = TRUE))
  for (i in 1:64) writeBin(chunk, con)
  close(con)
}
invisible(readBin(big, "raw", 2^30))  # warm the page cache
t_ours <- time_it(readit(big), times = 3)
t_readbin <- time_it(readBin(big, "raw", 2^30), times = 3)
t_brio <- time_it(brio::read_file_raw(big), times = 3)
report("readit() 1 GiB file", t_ours, t_readbin, "readBin(f, 'raw', n)",
       target = function(r) r >= 2, target_text = ">= 2x readBin")
report("readit() 1 GiB file", t_ours, t_brio, "brio::read_file_raw()")

data <- readit(big)
out <- file.path(bench_dir, "out.bin")
t_ours <- time_it(writeit(data, out), times = 3)
t_writebin <- time_it(writeBin(data, out), times = 3)
t_brio <- time_it(brio::write_file_raw(data, out), times = 3)
report("writeit() 1 GiB (atomic, fsync)", t_ours, t_writebin, "writeBin() (no fsync)")
report("writeit() 1 GiB (atomic, fsync)", t_ours, t_brio, "brio (no fsync)")
rm(data)
unlink(out)

# The C baseline is compiled here, so the package ships no benchmark code.
so <- file.path(bench_dir, paste0("noop", .Platform$dynlib.ext))
if (!file.exists(so)) {
  file.copy("bench/noop.c", file.path(bench_dir, "noop.c"), overwrite = TRUE)
  withr::with_dir(bench_dir, system2(file.path(R.home("bin"), "R"),
                                     c("CMD", "SHLIB", "noop.c"), stdout = FALSE))
}
dll <- dyn.load(so)
noop_c <- getNativeSymbolInfo("rwbridge_bench_noop", dll)
noop_rust <- rwbridge:::noop_
t_c <- time_fast(.Call(noop_c))
t_rust <- time_fast(noop_rust())
report("trivial extendr call (noop_())", t_rust, t_c, "bare .Call into C",
       ratio = t_rust / t_c, unit = "x time",
       target = function(r) t_rust < 0.5e-6,
       target_text = "< 0.5 us a call; seeds: ctypes 3.61 us, cgo ~5 us")
cat("\n")
