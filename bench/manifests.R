# "Every manifest real tools write" (issue #19): rwbridge against each
# tool in the same run, page cache warm.
# * hash_files() of one 1 GiB file in BLAKE3 against `b3sum` (both on every
#   core): target >= 1x.
# * verify() of 1 GiB in 64 files (the tree of digests.R) against the tool's
#   own -c on its own manifest: xxh3 and xxh128 >= 1.8x `xxhsum -c`, md5
#   >= 1.8x `md5sum -c`; sha3-256 >= 80% of twice OpenSSL's one-core
#   `sha3-256` speed (`openssl speed -evp sha3-256`, 16 KiB blocks).
# * The candidate fallback costs nothing when every file matches: the same
#   tree under a name that hints at nothing (`checksums.txt`) against
#   `algo =` named (no candidate tried), for SHA-256 (the first candidate
#   of 64 digits), BLAKE3 (the second) and XXH128 (the second of 32, after
#   MD5): for these, the first file of each thread is read twice, then the
#   algorithm that matched is tried first.
if (!exists("report")) source("bench/common.R")
cat("== manifests (issue #19) ==\n")
cores <- parallel::detectCores()
has <- function(tool) nzchar(Sys.which(tool))

# One 1 GiB file, as io.R makes it.
big <- file.path(bench_dir, "1GiB.bin")
if (!file.exists(big) || file.size(big) != 2^30) {
  write_blocks(bench_dir, "1GiB.bin", 2^30)
}
if (has("b3sum")) {
  invisible(readBin(big, "raw", 2^30))  # warm the page cache
  want <- sub(" .*", "", system2("b3sum", shQuote(big), stdout = TRUE))
  stopifnot(identical(unname(hash_files(big, "blake3")), want))
  t_ours <- time_it(hash_files(big, "blake3", progress = FALSE), times = 9)
  t_b3sum <- time_it(system2("b3sum", shQuote(big), stdout = FALSE), times = 9)
  report("hash_files() 1 GiB file, blake3", t_ours, t_b3sum, sprintf("b3sum (%d cores)", cores),
         target = function(r) r >= 1, target_text = ">= 1x b3sum")
}

# The tree of digests.R: 64 files of 16 MiB.
dir <- file.path(bench_dir, "digests")
files <- sprintf("f%02d.bin", 0:63)
if (!all(file.exists(file.path(dir, files)))) write_blocks(dir, files, 2^24)
bytes <- sum(file.size(file.path(dir, files)))
tool_manifest <- function(name, tool, args) {
  if (!file.exists(file.path(dir, name))) {
    withr::with_dir(dir, system2(tool, c(args, files), stdout = name))
  }
  name
}
check <- function(manifest, algo = NULL) {
  stopifnot(all(verify(dir, manifest, algo = algo)$status == "ok"))
}

targets <- list(
  list(algo = "xxh3", tool = "xxhsum", args = "-H3", name = "checksums.xxh3", goal = 1.8),
  list(algo = "xxh128", tool = "xxhsum", args = "-H2", name = "checksums.xxh128", goal = 1.8),
  list(algo = "md5", tool = "md5sum", args = NULL, name = "MD5SUMS", goal = 1.8)
)
for (t in targets) {
  if (!has(t$tool)) {
    cat(sprintf("%-8s skipped: %s is not installed\n", t$algo, t$tool))
    next
  }
  # Named as the tools' users name them (`checksums.xxh128`, `MD5SUMS`).
  manifest <- tool_manifest(t$name, t$tool, t$args)
  check(manifest)
  t_ours <- time_it(verify(dir, manifest, progress = FALSE), times = 5)
  t_tool <- time_it(withr::with_dir(dir, system2(t$tool, c("-c", "--quiet", manifest),
                                                 stdout = FALSE)), times = 5)
  report(sprintf("verify() %s, 64 files, 1 GiB", t$algo), t_ours, t_tool,
         paste(t$tool, "-c"), target = function(r) r >= t$goal,
         target_text = sprintf(">= %gx %s -c", t$goal, t$tool))
}

# SHA3-256 against twice OpenSSL's speed on one core.
if (has("rhash")) {
  manifest <- tool_manifest("SHA3-256SUMS", "rhash", c("--sha3-256", "--bsd"))
  check(manifest)
  t_ours <- time_it(verify(dir, manifest, progress = FALSE), times = 5)
  rate <- openssl_rate("sha3-256", cores = 1)
  if (!is.na(rate)) {
    t_floor <- bytes / (2 * rate)
    report("verify() sha3-256, 64 files, 1 GiB", t_ours, t_floor, "2 x openssl 1 core",
           ratio = t_floor / t_ours, unit = "of 2x1",
           target = function(r) r >= 0.8, target_text = ">= 80% of 2 x openssl one core")
  }
}

# The fallback, when every file matches: one hash a file, as with `algo =`,
# when the most common algorithm of the length matches (SHA-256); else the
# first file of each thread is read twice (BLAKE3, XXH128 after MD5).
for (algo in c("sha256", "blake3", "xxh128")) {
  manifest <- paste0("plain-", algo, ".txt")
  if (!file.exists(file.path(dir, manifest))) {
    write_signatures(dir, manifest, files = files, algo = algo)
  }
  file.copy(file.path(dir, manifest), file.path(dir, "checksums.txt"), overwrite = TRUE)
  check("checksums.txt")
  stopifnot(all(verify(dir, "checksums.txt")$algo == algo))
  t_named <- time_it(verify(dir, "checksums.txt", algo = algo, progress = FALSE), times = 5)
  t_fallback <- time_it(verify(dir, "checksums.txt", progress = FALSE), times = 5)
  report(sprintf("verify() %s as checksums.txt, no algo", algo), t_fallback, t_named,
         sprintf("algo = \"%s\"", algo),
         target = function(r) r >= 0.95, target_text = ">= 0.95: costs nothing")
}
unlink(file.path(dir, "checksums.txt"))
cat("\n")
