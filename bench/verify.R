# verify() against `sha1sum -c --quiet`, a loop of digest::digest(file = ),
# and the hash floor: `openssl speed -evp sha1` on every core.
# Tree A: 64 files, 1 GiB. Tree B: 20,000 files of 4 KiB. Page cache warm.
if (!exists("report")) source("bench/common.R")
cat("== verify() ==\n")
cores <- parallel::detectCores()

make_tree <- function(dir, files, size) {
  manifest <- file.path(dir, "sha1sum.txt")
  if (file.exists(manifest)) return(dir)
  names <- sprintf("d%02d/f%05d.bin", seq_len(files) %% 50, seq_len(files))
  write_blocks(dir, names, size)
  # The manifest comes from coreutils, so the peer checks its own format.
  writeLines(names, file.path(dir, "files.lst"))
  withr::with_dir(dir, system("xargs -d '\\n' -a files.lst sha1sum > sha1sum.txt"))
  dir
}

trees <- list(
  A = make_tree(file.path(bench_dir, "treeA"), 64, 2^24),
  B = make_tree(file.path(bench_dir, "treeB"), 20000, 4096)
)
floor_rate <- openssl_rate("sha1", cores)  # bytes/s, 16 KiB blocks; NA without openssl

for (name in names(trees)) {
  dir <- trees[[name]]
  listed <- sub("^[0-9a-f]+  ", "", readLines(file.path(dir, "sha1sum.txt")))
  bytes <- sum(file.size(file.path(dir, listed)))
  times <- if (name == "A") 5 else 5
  t_ours <- time_it(stopifnot(all(verify(dir)$status == "ok")), times = times)
  t_gnu <- time_it(withr::with_dir(dir, system2("sha1sum", c("-c", "--quiet", "sha1sum.txt"))),
                   times = times)
  t_digest <- time_it(vapply(file.path(dir, listed), digest::digest, "", algo = "sha1",
                             file = TRUE), times = if (name == "A") 2 else 1)
  label <- sprintf("verify() tree %s (%d files, %.0f MB)", name, length(listed), bytes / 1e6)
  report(label, t_ours, t_gnu, "sha1sum -c --quiet",
         target = function(r) r >= if (name == "A") 4 else 2,
         target_text = if (name == "A") ">= 4x sha1sum" else ">= 2x sha1sum")
  report(label, t_ours, t_digest, "digest::digest() loop")
  if (name == "A" && !is.na(floor_rate)) {
    t_floor <- bytes / floor_rate
    report(label, t_ours, t_floor, sprintf("openssl x%d floor", cores),
           ratio = t_floor / t_ours, unit = "of floor",
           target = function(r) r >= 0.8, target_text = ">= 80% of the floor")
  }
}
cat("\n")
