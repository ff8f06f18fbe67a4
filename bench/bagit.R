# verify_bag() on a 1 GiB bag (64 files of 16 MiB, SHA-256 and SHA-512
# manifests) against:
# * bagit-python's default, Bag.validate() in one process (target >= 1.8x);
# * the two-core OpenSSL floor: two `openssl dgst` processes at once, each
#   computing SHA-256 then SHA-512 of half the payload, i.e. the same bytes
#   through the same digests on both cores (target >= 90% of it);
# * the same bag as an uncompressed .tar, checked in place (target: within
#   1.2x the time of the unpacked bag).
# Page cache warm; runs of the peers alternate with ours, so that all see
# the same load, and medians are compared.
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

# Seconds of one bagit.Bag(dir).validate(processes = `processes`), timed
# inside Python (interpreter start-up not counted); bagit-python raises
# unless the bag is valid.
time_bagit_python <- function(dir, processes = 1) {
  code <- paste(
    "import sys, time, bagit",
    "t = time.perf_counter()",
    sprintf("bagit.Bag(sys.argv[1]).validate(processes=%d)", processes),
    "print(time.perf_counter() - t)",
    sep = "\n"
  )
  out <- system2("env", c("-u", "LD_LIBRARY_PATH", "python3", "-c", shQuote(code), shQuote(dir)),
                 stdout = TRUE, stderr = FALSE)
  as.numeric(utils::tail(out, 1))
}

# Seconds for two openssl processes at once, each SHA-256 then SHA-512 of
# half of `files`.
time_openssl_floor <- function(files) {
  halves <- split(files, rep(1:2, length.out = length(files)))
  one <- function(half) {
    paths <- paste(shQuote(half), collapse = " ")
    sprintf("(openssl dgst -sha256 %s > /dev/null; openssl dgst -sha512 %s > /dev/null)", paths, paths)
  }
  script <- paste(one(halves[[1]]), "&", one(halves[[2]]), "& wait")
  system.time(system(script))[["elapsed"]]
}

dir <- make_bag_dir(file.path(bench_dir, "bag"), 64, 2^24)
payload <- list.files(file.path(dir, "data"), full.names = TRUE)
bytes <- sum(file.size(payload))
tarball <- file.path(bench_dir, "bag.tar")
if (!file.exists(tarball)) {
  system2("tar", c("-cf", shQuote(tarball), "-C", shQuote(dirname(dir)), shQuote(basename(dir))))
}
cat(sprintf("bag: %d files, %.0f MB; load average before: %s\n", length(payload), bytes / 1e6,
            loadavg(all = TRUE)))
ours <- function(bag = dir) {
  system.time(stopifnot(attr(verify_bag(bag, threads = cores), "valid")))[["elapsed"]]
}
ours()
ours(tarball)
py <- has_bagit_python()
floor_ok <- nzchar(Sys.which("openssl"))
runs <- vapply(1:5, function(i) {
  c(ours(), if (py) time_bagit_python(dir) else NA, if (floor_ok) time_openssl_floor(payload) else NA,
    ours(tarball))
}, numeric(4))
t_ours <- stats::median(runs[1, ])
t_py <- stats::median(runs[2, ])
t_floor <- stats::median(runs[3, ])
t_tar <- stats::median(runs[4, ])
label <- sprintf("verify_bag() %d files, %.0f MB, sha256+sha512", length(payload), bytes / 1e6)
if (!py) cat("bagit-python unavailable (python3 -m pip install bagit): comparison skipped\n")
report(label, t_ours, t_py, "bagit-python validate()",
       target = function(r) r >= 1.8, target_text = ">= 1.8x bagit-python's default")
if (floor_ok) {
  report(label, t_ours, t_floor, sprintf("openssl dgst x2 floor"),
         ratio = t_floor / t_ours, unit = "of floor",
         target = function(r) r >= 0.9, target_text = ">= 90% of the floor")
  if (!is.na(t_py)) {
    cat(sprintf("%-44s bagit-python %s is %.2f of the floor\n", "", format_time(t_py),
                t_floor / t_py))
  }
}
report("verify_bag() of the bag as a .tar", t_tar, t_ours, "the unpacked bag",
       ratio = t_tar / t_ours, unit = "x the time",
       target = function(r) r <= 1.2, target_text = "<= 1.2x the unpacked bag")
cat(sprintf("load average after: %s\n\n", loadavg(all = TRUE)))
