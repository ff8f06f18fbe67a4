# verify() in every algorithm against each algorithm's own tool (`md5sum -c`
# ... `b2sum -c`, `b3sum -c`, whose manifests are the input), and against
# the floor: `openssl speed -multi <cores>` for that digest (16 KiB blocks),
# as the time 1 GiB takes at that rate. Tree: 64 files of 16 MiB (1 GiB),
# page cache warm.
if (!exists("report")) source("bench/common.R")
cat("== verify() in every algorithm ==\n")
cores <- parallel::detectCores()

tools <- c(md5 = "md5sum", sha1 = "sha1sum", sha224 = "sha224sum", sha256 = "sha256sum",
           sha384 = "sha384sum", sha512 = "sha512sum", blake2b = "b2sum", blake3 = "b3sum")
# The issue's targets: against the tool, and as a share of the floor.
targets <- list(md5 = c(tool = 1.8, floor = 0.8), sha512 = c(tool = 1.8, floor = 0.8),
                blake3 = c(tool = 1))

dir <- file.path(bench_dir, "digests")
files <- sprintf("f%02d.bin", 0:63)
if (!all(file.exists(file.path(dir, files)))) write_blocks(dir, files, 2^24)
bytes <- sum(file.size(file.path(dir, files)))

for (algo in names(tools)) {
  tool <- tools[[algo]]
  if (!nzchar(Sys.which(tool))) {
    cat(sprintf("%-8s skipped: %s is not installed\n", algo, tool))
    next
  }
  manifest <- paste0(tool, ".txt")
  if (!file.exists(file.path(dir, manifest))) {
    withr::with_dir(dir, system2(tool, files, stdout = manifest))
  }
  stopifnot(all(verify(dir, manifest, algo = algo)$status == "ok"))
  t_ours <- time_it(verify(dir, manifest, algo = algo, progress = FALSE), times = 3)
  t_tool <- time_it(withr::with_dir(dir, system2(tool, c("-c", "--quiet", manifest))),
                    times = 3)
  label <- sprintf("verify(algo = \"%s\"), 64 files, 1 GiB", algo)
  goal <- targets[[algo]]
  has <- function(kind) kind %in% names(goal)
  report(label, t_ours, t_tool, paste(tool, "-c"),
         target = if (has("tool")) function(r) r >= goal[["tool"]],
         target_text = if (has("tool")) sprintf(">= %gx %s -c", goal[["tool"]], tool) else "")
  rate <- if (algo %in% c("blake2b", "blake3")) NA else openssl_rate(algo, cores)
  if (!is.na(rate)) {
    t_floor <- bytes / rate
    report(label, t_ours, t_floor, sprintf("openssl x%d floor", cores),
           ratio = t_floor / t_ours, unit = "of floor",
           target = if (has("floor")) function(r) r >= goal[["floor"]],
           target_text = if (has("floor")) ">= 80% of the floor" else "")
  }
}
cat("\n")
