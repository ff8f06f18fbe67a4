coreutils <- test_path("fixtures", "coreutils")

test_that("manifests written by GNU coreutils verify, in every accepted form", {
  for (manifest in c("sha1sum.txt", "sha256sum.txt", "bsd-tags.txt", "crlf.txt")) {
    result <- verify(coreutils, manifest)
    expect_s3_class(result, c("rwbridge_verification", "data.frame"), exact = TRUE)
    expect_true(all(result$status == "ok"), info = manifest)
    expect_identical(result$actual, result$expected)
  }
  result <- verify(coreutils, "bsd-tags.txt")
  expect_identical(result$algo, c(rep("sha1", 4), "sha256"))
  expect_identical(result$file, c("alpha.txt", "beta.txt", "sub/data.bin", "empty", "alpha.txt"))
  expect_identical(result$line, 1:5)
  expect_identical(
    names(result), c("line", "file", "algo", "expected", "actual", "status")
  )
})

test_that("digests agree with digest::digest() and GNU's empty-file digest", {
  files <- file.path(coreutils, c("alpha.txt", "sub/data.bin", "empty"))
  want <- vapply(files, digest::digest, "", algo = "sha1", file = TRUE, USE.NAMES = FALSE)
  # Named by the paths as given, as tools::md5sum() names its result.
  expect_identical(hash_files(files), setNames(want, files))
  expect_identical(unname(hash_files(files[3])), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
  want256 <- vapply(files, digest::digest, "", algo = "sha256", file = TRUE, USE.NAMES = FALSE)
  expect_identical(hash_files(files, algo = "sha256"), setNames(want256, files))
  expect_identical(hash_files(files, algo = "md5"), tools::md5sum(files))
})

test_that("every status, in manifest order, with every file checked", {
  outside <- local_tree(c(secret = "s"))
  dir <- local_tree(c(a = "A", b = "B", "sub/c" = "C"))
  file.symlink(file.path(outside, "secret"), file.path(dir, "escape"))
  manifest <- paste0(
    sha1_of("A"), "  a\n",
    sha1_of("not B"), "  b\n",
    sha1_of("x"), "  gone\n",
    sha1_of("x"), "  sub\n",
    sha1_of("s"), "  ../", basename(outside), "/secret\n",
    sha1_of("s"), "  ", file.path(outside, "secret"), "\n",
    sha1_of("s"), "  escape\n",
    toupper(sha1_of("C")), " *sub/c\n"
  )
  writeit(manifest, file.path(dir, "sha1sum.txt"))
  result <- verify(dir)
  expect_identical(
    result$status,
    c("ok", "mismatch", "missing", "unreadable", "refused", "refused", "refused", "ok")
  )
  expect_identical(result$actual[2], sha1_of("B"))
  expect_true(all(is.na(result$actual[3:7])))
  expect_identical(result$expected[8], sha1_of("C"))
  allowed <- verify(dir, allow_outside = TRUE)
  expect_identical(allowed$status[5:7], c("ok", "ok", "ok"))
})

test_that("a FIFO in the manifest is unreadable and never blocks", {
  dir <- local_tree(c(a = "A"))
  make_fifo(file.path(dir, "pipe"))
  writeit(paste0(sha1_of(""), "  pipe\n", sha1_of("A"), "  a\n"), file.path(dir, "sha1sum.txt"))
  elapsed <- system.time(result <- verify(dir))[["elapsed"]]
  expect_identical(result$status, c("unreadable", "ok"))
  expect_lt(elapsed, 2)
})

test_that("malformed lines are kept in an attribute and raise one warning", {
  dir <- local_tree(c(a = "A"))
  writeit(paste0(
    "# a comment\n\n", sha1_of("A"), "  a\n", "   \n", "not a line\n",
    sha1_of("A"), " a\n", "SHA1 (a) = ", sha1_of("A"), "\n"
  ), file.path(dir, "sha1sum.txt"))
  warned <- expect_warning(result <- verify(dir), class = "rwbridge_malformed_warning")
  expect_match(conditionMessage(warned), "3 lines .* lines 4, 5, 6")
  expect_identical(result$line, c(3L, 7L))
  expect_identical(result$status, c("ok", "ok"))
  malformed <- attr(result, "malformed")
  expect_identical(malformed$line, 4:6)
  expect_identical(malformed$text, c("   ", "not a line", paste0(sha1_of("A"), " a")))
})

test_that("GNU escaped names are unescaped", {
  skip_on_os("windows")
  dir <- local_tree()
  writeit("x", file.path(dir, "back\\slash"))
  writeit("y", file.path(dir, "new\nline"))
  writeit(paste0("\\", sha1_of("x"), "  back\\\\slash\n\\", sha1_of("y"), "  new\\nline\n"),
          file.path(dir, "m.txt"))
  result <- verify(dir, "m.txt")
  expect_identical(result$file, c("back\\slash", "new\nline"))
  expect_identical(result$status, c("ok", "ok"))
})

test_that("error = TRUE lists every failing file and carries the result", {
  dir <- local_tree(c(a = "A", b = "B"))
  writeit(paste0(sha1_of("x"), "  a\n", sha1_of("B"), "  b\n", sha1_of("x"), "  c\n", "junk\n"),
          file.path(dir, "sha1sum.txt"))
  err <- expect_error(
    suppressWarnings(verify(dir, error = TRUE)),
    class = "rwbridge_verify_error"
  )
  expect_match(conditionMessage(err), "'a' (mismatch), 'c' (missing)", fixed = TRUE)
  expect_match(conditionMessage(err), "1 malformed line: line 4", fixed = TRUE)
  expect_s3_class(err$result, "rwbridge_verification")
  expect_identical(err$result$status, c("mismatch", "ok", "missing"))
  expect_s3_class(err, "rwbridge_error")
  expect_identical(verify(coreutils, error = TRUE)$status, rep("ok", 4))
})

test_that("print() summarises the counts and names what is not ok", {
  dir <- local_tree(c(a = "A", b = "B"))
  writeit(paste0(sha1_of("A"), "  a\n", sha1_of("x"), "  b\n", sha1_of("x"), "  c\n"),
          file.path(dir, "sha1sum.txt"))
  result <- verify(dir)
  out <- capture.output(print(result))
  expect_match(out[1], "3 files checked in", fixed = TRUE)
  expect_match(out[2], "ok: 1  mismatch: 1  missing: 1  unreadable: 0  refused: 0", fixed = TRUE)
  expect_match(out[4], "line 2 +b +mismatch")
  expect_match(out[5], "line 3 +c +missing")
  expect_length(out, 5)
  expect_invisible(capture.output(printed <- print(result)) -> ignored)
  expect_identical(printed, result)
  all_ok <- capture.output(print(verify(coreutils)))
  expect_length(all_ok, 2)
})

test_that("threads = 1 and threads = 2 give identical results", {
  files <- setNames(as.list(sprintf("content %d", 1:60)), sprintf("f%02d", 1:60))
  dir <- local_tree(unlist(files))
  write_signatures(dir)
  writeit("tampered", file.path(dir, "f17"))
  unlink(file.path(dir, "f42"))
  one <- verify(dir, threads = 1)
  two <- verify(dir, threads = 2)
  expect_identical(one, two)
  expect_identical(which(one$status != "ok"), c(17L, 42L))
  withr::local_options(rwbridge.threads = 1)
  expect_identical(verify(dir), one)
})

test_that("verify() agrees with sha1sum -c on a generated tree", {
  skip_if(Sys.which("sha1sum") == "", "sha1sum is not installed")
  set.seed(11)
  files <- vapply(1:40, function(i) paste(sample(letters, i * 37, TRUE), collapse = ""), "")
  names(files) <- sprintf("d%d/file %02d.txt", 1:40 %% 4, 1:40)
  dir <- local_tree(files)
  write_signatures(dir)
  for (i in c(3, 19, 33)) writeit("changed", file.path(dir, names(files)[i]))
  unlink(file.path(dir, names(files)[7]))
  gnu <- withr::with_dir(dir, suppressWarnings(
    system2("sha1sum", c("-c", "sha1sum.txt"), stdout = TRUE, stderr = TRUE)
  ))
  gnu_ok <- sub(": OK$", "", grep(": OK$", gnu, value = TRUE))
  ours <- verify(dir)
  expect_setequal(ours$file[ours$status == "ok"], gnu_ok)
  expect_identical(sum(ours$status != "ok"), 4L)
})

test_that("write_signatures() output is accepted by sha1sum -c and sha256sum -c", {
  skip_if(Sys.which("sha1sum") == "", "sha1sum is not installed")
  skip_on_os("windows")
  dir <- local_tree(c("plain.txt" = "1", "with space" = "2", "caf\u00e9" = "3",
                      "sub/deeper/x*y" = "4", "(paren) = x" = "5"))
  writeit("6", file.path(dir, "back\\slash"))
  writeit("7", file.path(dir, "new\nline"))
  writeit("8", file.path(dir, "cr\rname"))
  for (algo in c("sha1", "sha256")) {
    manifest <- paste0(algo, "sum.txt")
    signed <- write_signatures(dir, manifest, algo = algo)
    # The sha256 pass also signs the sha1 manifest written before it.
    expect_identical(nrow(signed), if (algo == "sha1") 8L else 9L)
    expect_false(manifest %in% signed$file)
    expect_identical(signed$digest,
                     unname(hash_files(file.path(dir, signed$file), algo = algo)))
    status <- withr::with_dir(dir, system2(paste0(algo, "sum"), c("-c", "--quiet", manifest)))
    expect_identical(status, 0L, info = algo)
    result <- verify(dir, manifest)
    expect_true(all(result$status == "ok"))
    expect_setequal(result$file, signed$file)
  }
  expect_true(!is.unsorted(write_signatures(dir, "m")$file, strictly = TRUE))
})

test_that("write_signatures() with files, and its errors", {
  dir <- local_tree(c(a = "A", b = "B"))
  signed <- write_signatures(dir, "m.txt", files = c("b", "a"))
  expect_identical(signed$file, c("b", "a"))
  expect_identical(readit(file.path(dir, "m.txt"), as = "text"),
                   paste0(sha1_of("B"), "  b\n", sha1_of("A"), "  a\n"))
  before <- readit(file.path(dir, "m.txt"))
  err <- expect_error(write_signatures(dir, "m.txt", files = c("a", "nope")),
                      class = "rwbridge_io_error")
  expect_match(conditionMessage(err), "nope")
  expect_identical(readit(file.path(dir, "m.txt")), before)
  expect_error(write_signatures(dir, files = NA_character_), class = "rwbridge_type_error")
  # Algorithms are named exactly: CRC32 is not CRC32C.
  expect_error(write_signatures(dir, algo = "crc32"), class = "rwbridge_value_error")
  expect_error(write_signatures(dir, algo = "sha3"), class = "rwbridge_value_error")
  expect_identical(readit(file.path(dir, "m.txt")), before)
})

test_that("hash_files() gives NA and one warning for unreadable paths", {
  dir <- local_tree(c(a = "A"))
  paths <- c(file.path(dir, "a"), file.path(dir, "nope"), dir, NA)
  warned <- expect_warning(got <- hash_files(paths), class = "rwbridge_unreadable_warning")
  expect_match(conditionMessage(warned), "cannot read 3 files: .*nope.*NA")
  # Each path with its reason.
  expect_match(conditionMessage(warned), "nope' (no such file or directory)", fixed = TRUE)
  expect_match(conditionMessage(warned), "(not a regular file (directory))", fixed = TRUE)
  expect_identical(got, setNames(c(sha1_of("A"), NA, NA, NA), paths))
  expect_identical(hash_files(character()), setNames(character(), character()))
  expect_error(hash_files(1), class = "rwbridge_type_error")
})

test_that("a missing manifest is an io error; bad arguments are classed", {
  dir <- local_tree()
  expect_error(verify(dir), "sha1sum.txt", class = "rwbridge_io_error")
  expect_error(verify(file.path(dir, "nope")), class = "rwbridge_io_error")
  expect_error(verify(dir, threads = 0), "`threads`", class = "rwbridge_value_error")
  expect_error(verify(dir, threads = 1.5), "`threads`", class = "rwbridge_value_error")
  expect_error(verify(dir, threads = "2"), "`threads`", class = "rwbridge_type_error")
  expect_error(verify(dir, error = "yes"), "`error`", class = "rwbridge_type_error")
  expect_error(verify(dir, progress = NA), "`progress`", class = "rwbridge_type_error")
  expect_error(verify(NULL), "`dir`", class = "rwbridge_type_error")
  withr::local_options(rwbridge.threads = -1)
  expect_error(verify(coreutils), "Option `rwbridge.threads`", class = "rwbridge_value_error")
})

test_that("an absolute manifest path is read as given", {
  dir <- local_tree(c(a = "A"))
  elsewhere <- withr::local_tempfile()
  writeit(paste0(sha1_of("A"), "  a\n"), elsewhere)
  expect_identical(verify(dir, elsewhere)$status, "ok")
})

# A tree whose manifest lists one 64 MiB file `times` times: slow enough to
# watch progress or interrupt, without much disk.
local_slow_tree <- function(times, env = parent.frame()) {
  dir <- local_tree(env = env)
  big <- file.path(dir, "big")
  writeit(as.raw(rep_len(0:255, 64 * 2^20)), big)
  writeit(strrep(paste0(hash_files(big), "  big\n"), times), file.path(dir, "sha1sum.txt"))
  dir
}

test_that("progress = TRUE draws a progress line on stderr; FALSE draws none", {
  skip_on_cran()
  dir <- local_slow_tree(12)
  out <- capture.output(result <- verify(dir, threads = 1, progress = TRUE), type = "message")
  expect_true(all(result$status == "ok"))
  text <- paste(out, collapse = "\n")
  expect_match(text, "verify: [0-9]+/12 files, [0-9.]+ [kMG]?B of 805.3 MB, [0-9.]+ [kMG]?B/s")
  expect_match(text, "verify: 12/12 files, 805.3 MB of 805.3 MB")
  quiet <- capture.output(invisible(verify(dir, threads = 2, progress = FALSE)), type = "message")
  expect_identical(quiet, character())
})

test_that("Ctrl-C stops verify() within a second and leaves no worker busy", {
  skip_on_os("windows")
  skip_on_cran()
  skip_if_not_installed("processx")
  dir <- local_slow_tree(400)
  stopped <- interrupt_child(c(
    "library(rwbridge)",
    "tasks <- function() list.files('/proc/self/task', full.names = TRUE)",
    "first <- function(f) readLines(f, n = 1L, warn = FALSE)",
    # The workers are kept between calls, asleep; one call makes them.
    "options(rwbridge.threads = 2)",
    "invisible(detect_outliers(runif(1e6), method = 'mad'))",
    "before <- length(tasks())",
    "cat('ready\\n')",
    sprintf("res <- tryCatch(verify('%s', threads = 2), interrupt = function(e) 'interrupted')", dir),
    "Sys.sleep(0.3)",
    "workers <- tasks()[startsWith(vapply(file.path(tasks(), 'comm'), first, ''), 'rwbridge-work')]",
    "state <- vapply(file.path(workers, 'stat'), function(f) sub('^.*\\\\) (.).*$', '\\\\1', first(f)), '')",
    "cat(if (is.character(res)) res else 'finished', 'extra threads:', length(tasks()) - before,",
    "    'workers:', length(workers), 'busy:', sum(state == 'R'), '\\n')"
  ))
  expect_lt(stopped$elapsed, 1)
  expect_match(stopped$output, "interrupted extra threads: 0 workers: 2 busy: 0", fixed = TRUE)
})

# Every algorithm against the tool that defines it, both ways ---------------

digest_tools <- c(md5 = "md5sum", sha1 = "sha1sum", sha224 = "sha224sum",
                  sha256 = "sha256sum", sha384 = "sha384sum", sha512 = "sha512sum",
                  blake2b = "b2sum", blake3 = "b3sum")

skip_without_tool <- function(tool) {
  if (!nzchar(Sys.which(tool))) skip(paste(tool, "is not installed"))
}

awkward_tree <- function(env = parent.frame()) {
  dir <- local_tree(c("a.txt" = "alpha\n", "sub/b c.bin" = "", "caf\u00e9" = "x"), env = env)
  writeit(as.raw(0:255), file.path(dir, "sub/b c.bin"))
  writeit("6", file.path(dir, "back\\slash"))
  writeit("7", file.path(dir, "new\nline"))
  dir
}

test_that("manifests written by every tool verify, plain and tagged", {
  dir <- awkward_tree()
  names <- c("a.txt", "sub/b c.bin", "caf\u00e9", "back\\slash", "new\nline")
  for (algo in names(digest_tools)) {
    tool <- digest_tools[[algo]]
    skip_without_tool(tool)
    # b3sum has no --tag.
    for (tag in if (algo == "blake3") FALSE else c(FALSE, TRUE)) {
      manifest <- file.path(dir, "theirs.txt")
      status <- withr::with_dir(dir, system2(tool, c(if (tag) "--tag", shQuote(names)),
                                             stdout = manifest))
      expect_identical(status, 0L)
      # Untagged BLAKE lengths are SHA-2's too: found in the one that matches.
      label <- paste(algo, if (tag) "tagged" else "plain")
      result <- verify(dir, "theirs.txt")
      expect_identical(result$status, rep("ok", length(names)), label = label)
      expect_identical(result$algo, rep(algo, length(names)), label = label)
      expect_identical(result$file, names, label = label)
      expect_identical(result$actual, unname(hash_files(file.path(dir, names), algo = algo)),
                       label = label)
      if (!tag && algo %in% c("md5", "sha1", "sha224", "sha384")) {
        expect_identical(verify(dir, "theirs.txt", algo = algo)$status, result$status)
      }
    }
  }
})

test_that("write_signatures() manifests pass every tool's -c, and damage is caught", {
  dir <- awkward_tree()
  for (algo in names(digest_tools)) {
    tool <- digest_tools[[algo]]
    skip_without_tool(tool)
    manifest <- paste0(algo, ".txt")
    signed <- write_signatures(dir, manifest, algo = algo,
                               files = c("a.txt", "sub/b c.bin", "back\\slash", "new\nline"))
    expect_identical(nchar(signed$digest), rep(c(md5 = 32L, sha1 = 40L, sha224 = 56L,
                                                sha256 = 64L, sha384 = 96L, sha512 = 128L,
                                                blake2b = 128L, blake3 = 64L)[[algo]], 4))
    status <- withr::with_dir(dir, system2(tool, c("-c", "--quiet", manifest)))
    expect_identical(status, 0L, label = algo)
    expect_true(all(verify(dir, manifest, algo = algo)$status == "ok"))
  }
  writeit("tampered\n", file.path(dir, "a.txt"))
  for (algo in names(digest_tools)) {
    skip_without_tool(digest_tools[[algo]])
    result <- verify(dir, paste0(algo, ".txt"), algo = algo)
    expect_identical(result$status, c("mismatch", "ok", "ok", "ok"), label = algo)
  }
})

test_that("a named algorithm settles ambiguous lengths and makes others malformed", {
  dir <- local_tree(c(a = "A", b = "B"))
  b3 <- unname(hash_files(file.path(dir, "a"), algo = "blake3"))
  sha1 <- sha1_of("B")
  writeit(paste0(b3, "  a\n", sha1, "  b\n"), file.path(dir, "m.txt"))
  # Unnamed, a 64-digit digest may be SHA-256, BLAKE3, ...: the one that matches.
  result <- verify(dir, "m.txt")
  expect_identical(result$status, c("ok", "ok"))
  expect_identical(result$algo, c("blake3", "sha1"))
  # Named, no other is tried: SHA-256 is a mismatch, the SHA-1 line malformed.
  expect_warning(result <- verify(dir, "m.txt", algo = "sha256"),
                 class = "rwbridge_malformed_warning")
  expect_identical(result$status, "mismatch")
  expect_identical(result$actual, unname(hash_files(file.path(dir, "a"), algo = "sha256")))
  expect_warning(result <- verify(dir, "m.txt", algo = "blake3"),
                 class = "rwbridge_malformed_warning")
  expect_identical(result$status, "ok")
  expect_identical(attr(result, "malformed")$line, 2L)
  expect_error(verify(dir, "m.txt", algo = "crc32"), class = "rwbridge_value_error")
  expect_error(verify(dir, "m.txt", algo = 1), class = "rwbridge_type_error")
})

# The audit: complete = TRUE ------------------------------------------------

test_that("complete = TRUE finds added files and files moved under another name", {
  dir <- local_tree(c("data/a.csv" = "a,b\n", "data/b.csv" = "c,d\n", "README" = "r\n"))
  write_signatures(dir, "md5sum.txt", algo = "md5")
  # Without the audit, an added file passes unseen.
  writeit("sneaky\n", file.path(dir, "data/added.csv"))
  expect_true(all(verify(dir, "md5sum.txt")$status == "ok"))
  result <- verify(dir, "md5sum.txt", complete = TRUE)
  expect_identical(result$file, c("README", "data/a.csv", "data/b.csv", "data/added.csv"))
  expect_identical(result$status, c("ok", "ok", "ok", "extra"))
  expect_identical(result$line, c(1:3, NA))
  expect_identical(result$algo, rep("md5", 4))
  expect_identical(result$expected[4], NA_character_)
  expect_identical(result$actual[4], unname(tools::md5sum(file.path(dir, "data/added.csv"))))
  expect_identical(result$found_as, rep(NA_character_, 4))
  # A renamed file is "moved", found under its new name, and not also extra.
  file.rename(file.path(dir, "data/b.csv"), file.path(dir, "data/b-renamed.csv"))
  result <- verify(dir, "md5sum.txt", complete = TRUE)
  expect_identical(result$status, c("ok", "ok", "moved", "extra"))
  expect_identical(result$found_as[3], "data/b-renamed.csv")
  expect_identical(result$file[4], "data/added.csv")
  out <- capture.output(print(result))
  expect_true(any(grepl("moved (found as 'data/b-renamed.csv')", out, fixed = TRUE)))
  expect_match(out[2], "extra: 1  moved: 1", fixed = TRUE)
  err <- expect_error(verify(dir, "md5sum.txt", complete = TRUE, error = TRUE),
                      class = "rwbridge_verify_error")
  expect_match(conditionMessage(err), "'data/b.csv' (moved), 'data/added.csv' (extra)",
               fixed = TRUE)
  # Without the audit the rename is only a missing file.
  expect_identical(verify(dir, "md5sum.txt")$status, c("ok", "ok", "missing"))
})

test_that("the audit compares names as the directory spells them", {
  dir <- local_tree(c(a = "A", "sub/b" = "B", "sub/c" = "C"))
  writeit(paste0(sha1_of("A"), "  ./a\n", sha1_of("B"), "  sub//b\n",
                 sha1_of("C"), "  sub/../sub/c\n"), file.path(dir, "sha1sum.txt"))
  result <- verify(dir, complete = TRUE)
  expect_identical(result$status, rep("ok", 3))
  # An empty manifest: everything is extra, hashed with SHA-1 or the named algorithm.
  writeit("", file.path(dir, "empty.txt"))
  result <- verify(dir, "empty.txt", complete = TRUE)
  expect_identical(result$file, c("a", "sha1sum.txt", "sub/b", "sub/c"))
  expect_identical(result$status, rep("extra", 4))
  expect_identical(verify(dir, "empty.txt", complete = TRUE, algo = "sha512")$algo,
                   rep("sha512", 4))
})

test_that("print() works for names of any length", {
  dir <- local_tree(c(a = "A"))
  long <- strrep("n", 9000)
  writeit(paste0(sha1_of("A"), "  a\n", sha1_of("x"), "  ", long, "\n"),
          file.path(dir, "sha1sum.txt"))
  result <- verify(dir)
  expect_identical(result$status[1], "ok")
  out <- capture.output(print(result))
  expect_true(any(grepl(long, out, fixed = TRUE)))
})

# Confined under races, the right file for every name ------------------------

test_that("a directory swapped for a link outside while verify() runs is never read through", {
  skip_on_os("windows")
  skip_on_cran()
  skip_if_not_installed("processx")
  top <- local_tree(c("d/sub/f" = "inside", "elsewhere/f" = "OUTSIDE"))
  d <- file.path(top, "d")
  # An absolute link inside the tree: the kernel's openat2() will not
  # follow it beneath `d`, so it takes the walk.
  file.symlink(file.path(d, "sub", "f"), file.path(d, "abs"))
  writeit(strrep(paste0(sha1_of("inside"), "  abs\n"), 20000), file.path(d, "sha1sum.txt"))
  expect_true(all(verify(d)$status == "ok"))
  outside <- sha1_of("OUTSIDE")
  local_swapper(file.path(d, "sub"), file.path(top, "elsewhere"))
  leaked <- 0L
  seen <- character()
  for (i in 1:10) {
    result <- verify(d)
    leaked <- leaked + sum(result$actual == outside, na.rm = TRUE)
    seen <- union(seen, result$status)
  }
  expect_identical(leaked, 0L)
  expect_true(all(seen %in% c("ok", "missing", "refused")))
  # The swaps happened while the names were opened.
  expect_true(all(c("ok", "refused") %in% seen))
})

test_that("every name that leads outside is refused, whether or not anything is there", {
  skip_on_os("windows")
  top <- local_tree(c("d/a" = "A", "outside/secret.txt" = "s"))
  d <- file.path(top, "d")
  file.symlink("..", file.path(d, "up"))
  file.symlink(file.path(top, "outside", "nosuch"), file.path(d, "dangling"))
  file.symlink("../outside/nosuch", file.path(d, "dangling_relative"))
  names <- c("up/outside/secret.txt", "up/outside/nosuch", "up/nowhere/x", "dangling",
             "dangling_relative", "up/d/a", "../outside/secret.txt", "../nosuch")
  writeit(paste0(sha1_of("s"), "  ", names, "\n", collapse = ""), file.path(d, "m.txt"))
  result <- verify(d, "m.txt")
  expect_identical(result$status, rep("refused", length(names)))
  # Inside, a missing file is missing; with allow_outside, names are paths.
  writeit(paste0(sha1_of("s"), "  ", c("nosuch", names[1:2]), "\n", collapse = ""),
          file.path(d, "m.txt"))
  expect_identical(verify(d, "m.txt")$status, c("missing", "refused", "refused"))
  expect_identical(verify(d, "m.txt", allow_outside = TRUE)$status, c("missing", "ok", "missing"))
})

test_that("names that are not UTF-8 reach their own file and come back distinct", {
  skip_unless_byte_names()
  dir <- local_tree(c("caf<e9>.txt" = "decoy", "caf<e8>.txt" = "decoy"))
  real <- paste0(dir, "/caf\xe9.txt")
  other <- paste0(dir, "/caf\xe8.txt")
  writeBin(charToRaw("real"), real)
  writeBin(charToRaw("other"), other)
  expect_identical(unname(hash_files(c(real, other))), c(sha1_of("real"), sha1_of("other")))
  signed <- write_signatures(dir)
  # As list.files() names them: the same strings, each reaching its file.
  expect_setequal(signed$file, setdiff(list.files(dir), "sha1sum.txt"))
  expect_identical(anyDuplicated(signed$file), 0L)
  expect_identical(signed$digest[match(c("caf\xe9.txt", "caf\xe8.txt"), signed$file)],
                   c(sha1_of("real"), sha1_of("other")))
  expect_true(all(verify(dir)$status == "ok"))
  # With the manifest gone, all four are extra: four different names.
  writeit("", file.path(dir, "sha1sum.txt"))
  audit <- verify(dir, complete = TRUE)
  expect_identical(audit$status, rep("extra", 4))
  expect_setequal(audit$file, setdiff(list.files(dir), "sha1sum.txt"))
  expect_identical(anyDuplicated(audit$file), 0L)
  for (i in seq_len(nrow(audit))) {
    expect_identical(readit(paste0(dir, "/", audit$file[[i]]), as = "raw"),
                     readBin(paste0(dir, "/", audit$file[[i]]), "raw", 10))
  }
  # A moved file is found under its exact name.
  writeit(paste0(sha1_of("real"), "  gone\n"), file.path(dir, "sha1sum.txt"))
  moved <- verify(dir, complete = TRUE)
  expect_identical(moved$found_as[moved$status == "moved"], "caf\xe9.txt")
})

test_that("algorithm names are matched exactly, and nothing is written otherwise", {
  dir <- local_tree(c(a = "A"))
  path <- file.path(dir, "a")
  for (algo in c("sha3", "sha51", "m", "SHA1", "sha1 ")) {
    err <- expect_error(hash_files(path, algo = algo), class = "rwbridge_value_error")
    expect_match(conditionMessage(err), "`algo` must be one of \"md5\", \"sha1\"", fixed = TRUE)
    expect_match(conditionMessage(err), paste0("not \"", algo, "\""), fixed = TRUE)
    expect_error(write_signatures(dir, "m.txt", algo = algo), "`algo`",
                 class = "rwbridge_value_error")
    expect_false(file.exists(file.path(dir, "m.txt")))
    expect_error(verify(dir, algo = algo), "`algo`", class = "rwbridge_value_error")
  }
  expect_identical(unname(hash_files(path, algo = "sha512")),
                   digest::digest(charToRaw("A"), "sha512", serialize = FALSE))
})

test_that("a NUL byte in a manifest line makes it malformed, shown visibly", {
  dir <- local_tree(c(a = "A"))
  line <- c(charToRaw(sha1_of("A")), charToRaw("  a"), as.raw(0), charToRaw("b\n"))
  writeit(c(charToRaw(paste0(sha1_of("A"), "  a\n")), line), file.path(dir, "sha1sum.txt"))
  expect_warning(result <- verify(dir), class = "rwbridge_malformed_warning")
  expect_identical(result$status, "ok")
  malformed <- attr(result, "malformed")
  expect_identical(malformed$line, 2L)
  expect_identical(malformed$text, paste0(sha1_of("A"), "  a\\0b"))
})

test_that("write_signatures() refuses a name that leads outside, writing nothing", {
  top <- local_tree(c("afile" = "x", "d/a" = "A"))
  dir <- file.path(top, "d")
  for (name in c("../afile", file.path(top, "afile"), "a/../../afile", "./../afile")) {
    err <- expect_error(write_signatures(dir, "m.txt", files = c("a", name)),
                        class = "rwbridge_value_error")
    expect_match(conditionMessage(err), "`files`", fixed = TRUE)
    expect_match(conditionMessage(err), name, fixed = TRUE)
    expect_false(file.exists(file.path(dir, "m.txt")))
  }
  # Through a link, only opening the name tells: an io error, nothing written.
  skip_on_os("windows")
  file.symlink(top, file.path(dir, "out"))
  err <- expect_error(write_signatures(dir, "m.txt", files = "out/afile"),
                      class = "rwbridge_io_error")
  expect_match(conditionMessage(err), "leads outside")
  expect_false(file.exists(file.path(dir, "m.txt")))
  signed <- write_signatures(dir, "m.txt", files = "./a")
  expect_identical(verify(dir, "m.txt")$status, "ok")
})

test_that("messages quote at most a few hundred bytes of any input", {
  dir <- local_tree(c(a = "A"))
  huge <- strrep("n", 1e6)
  writeit(paste0(sha1_of("A"), "  ", huge, "\n", strrep("z", 5e6), "\n"),
          file.path(dir, "sha1sum.txt"))
  result <- suppressWarnings(verify(dir))
  # ENAMETOOLONG: not a missing file, one that cannot be opened.
  expect_identical(result$status, "unreadable")
  text <- attr(result, "malformed")$text
  expect_lt(nchar(text), 300)
  expect_match(text, "... (5000000 bytes)", fixed = TRUE)
  err <- expect_error(suppressWarnings(verify(dir, error = TRUE)), class = "rwbridge_verify_error")
  expect_lt(nchar(conditionMessage(err)), 600)
  expect_match(conditionMessage(err), paste0("'", strrep("n", 200), "...' (1000000 bytes)"),
               fixed = TRUE)
  err <- expect_error(readit(file.path(dir, strrep("p", 1e5))), class = "rwbridge_io_error")
  expect_lt(nchar(conditionMessage(err)), 400)
  # The R side cuts as the Rust side does, before a character that would
  # not fit.
  long <- paste0("a", strrep("\u00e9", 150))
  expect_identical(rwbridge:::rw_quote(long),
                   paste0("'a", strrep("\u00e9", 99), "...' (301 bytes)"))
  path <- file.path(dir, long)
  err <- expect_error(readit(path), class = "rwbridge_io_error")
  expect_match(conditionMessage(err), rwbridge:::rw_quote(path), fixed = TRUE)
})

# Every manifest real tools write -------------------------------------------
# Each algorithm and form against the tool that writes it, both ways: the
# tool's manifest verified here, write_signatures()'s checked by its -c.

# Runs `tool` with `args` in `dir`, its output into `manifest` there; the
# exit status.
run_tool <- function(dir, tool, args, manifest) {
  withr::with_dir(dir, system2(tool, args, stdout = manifest, stderr = FALSE))
}

# The digests a tool prints for `files` (one line each, the digest first).
tool_digests <- function(dir, tool, args, files) {
  out <- withr::with_dir(dir, system2(tool, c(args, shQuote(files)), stdout = TRUE))
  sub("[ *].*$", "", out)
}

plain_names <- c("a.txt", "sub/b c.bin", "caf\u00e9")

plain_tree <- function(env = parent.frame()) {
  dir <- local_tree(c("a.txt" = "alpha\n", "sub/b c.bin" = "", "caf\u00e9" = "x"), env = env)
  writeit(as.raw(0:255), file.path(dir, "sub/b c.bin"))
  dir
}

# The tools that write each algorithm the coreutils here lack, the options
# that make them write it, and the options of their -c.
other_tools <- list(
  "sha3-224" = list(tool = "rhash", write = "--sha3-224", tag = c("--sha3-224", "--bsd")),
  "sha3-256" = list(tool = "rhash", write = "--sha3-256", tag = c("--sha3-256", "--bsd")),
  "sha3-384" = list(tool = "rhash", write = "--sha3-384", tag = c("--sha3-384", "--bsd")),
  "sha3-512" = list(tool = "rhash", write = "--sha3-512", tag = c("--sha3-512", "--bsd")),
  blake2s = list(tool = "rhash", write = "--blake2s", tag = c("--blake2s", "--bsd")),
  crc32c = list(tool = "rhash", write = "--crc32c", tag = c("--crc32c", "--bsd")),
  xxh32 = list(tool = "xxhsum", write = "-H0", tag = c("-H0", "--tag")),
  xxh64 = list(tool = "xxhsum", write = "-H1", tag = c("-H1", "--tag")),
  xxh128 = list(tool = "xxhsum", write = "-H2", tag = c("-H2", "--tag")),
  # xxhsum 0.8.1 writes XXH3 tagged only.
  xxh3 = list(tool = "xxhsum", write = NULL, tag = "-H3"),
  "blake2b-256" = list(tool = "b2sum", write = c("-l", "256"), tag = c("-l", "256", "--tag")),
  "blake2b-8" = list(tool = "b2sum", write = c("-l", "8"), tag = c("-l", "8", "--tag")),
  "blake2b-504" = list(tool = "b2sum", write = c("-l", "504"), tag = c("-l", "504", "--tag"))
)

test_that("every algorithm's tool output verifies, plain and tagged, in that algorithm", {
  dir <- plain_tree()
  for (algo in names(other_tools)) {
    spec <- other_tools[[algo]]
    skip_without_tool(spec$tool)
    # The tool's own digests, from its tagged lines (`TAG (name) = hex`).
    want <- sub("^.*= ", "", withr::with_dir(dir, system2(
      spec$tool, c(spec$tag, shQuote(plain_names)), stdout = TRUE)))
    forms <- list(tagged = spec$tag)
    if (!is.null(spec$write)) forms$plain <- spec$write
    for (form in names(forms)) {
      label <- paste(algo, form)
      expect_identical(run_tool(dir, spec$tool, c(forms[[form]], shQuote(plain_names)),
                                "theirs.txt"), 0L, label = label)
      result <- verify(dir, "theirs.txt")
      expect_identical(result$status, rep("ok", 3), label = label)
      expect_identical(result$algo, rep(algo, 3), label = label)
      expect_identical(result$file, plain_names, label = label)
    }
    expect_identical(unname(hash_files(file.path(dir, plain_names), algo = algo)), want,
                     label = algo)
    expect_identical(result$expected, want, label = algo)
  }
})

test_that("write_signatures() in every algorithm passes its tool's -c, and damage fails it", {
  checkers <- list("sha3-256" = "rhash", "sha3-512" = "rhash", blake2s = "rhash",
                   crc32c = "rhash", xxh32 = "xxhsum", xxh64 = "xxhsum", xxh3 = "xxhsum",
                   xxh128 = "xxhsum", "blake2b-256" = "b2sum", "blake2b-8" = "b2sum")
  dir <- plain_tree()
  for (algo in names(checkers)) {
    skip_without_tool(checkers[[algo]])
    manifest <- paste0(algo, ".txt")
    write_signatures(dir, manifest, files = plain_names, algo = algo)
    status <- withr::with_dir(dir, system2(checkers[[algo]], c("-c", manifest),
                                           stdout = FALSE, stderr = FALSE))
    expect_identical(status, 0L, label = algo)
    expect_identical(verify(dir, manifest)$status, rep("ok", 3), label = algo)
  }
  writeit("tampered\n", file.path(dir, "a.txt"))
  for (algo in names(checkers)) {
    manifest <- paste0(algo, ".txt")
    status <- withr::with_dir(dir, system2(checkers[[algo]], c("-c", manifest),
                                           stdout = FALSE, stderr = FALSE))
    expect_false(identical(status, 0L), label = algo)
    expect_identical(verify(dir, manifest)$status, c("mismatch", "ok", "ok"), label = algo)
  }
})

test_that("openssl dgst and cksum lines verify in every algorithm they share", {
  dir <- plain_tree()
  skip_without_tool("openssl")
  digests <- c(md5 = "-md5", sha1 = "-sha1", sha224 = "-sha224", sha256 = "-sha256",
               sha384 = "-sha384", sha512 = "-sha512", "sha3-224" = "-sha3-224",
               "sha3-256" = "-sha3-256", "sha3-384" = "-sha3-384", "sha3-512" = "-sha3-512",
               blake2b = "-blake2b512", blake2s = "-blake2s256")
  for (algo in names(digests)) {
    # openssl 3 writes `SHA2-256(a.txt)= ...`; with -r, `... *a.txt`.
    for (r in list(NULL, "-r")) {
      expect_identical(run_tool(dir, "openssl", c("dgst", digests[[algo]], r,
                                                  shQuote(plain_names)), "ssl.txt"), 0L)
      result <- verify(dir, "ssl.txt")
      label <- paste(algo, if (is.null(r)) "tagged" else "-r")
      expect_identical(result$status, rep("ok", 3), label = label)
      expect_identical(result$algo, rep(algo, 3), label = label)
    }
  }
  skip_without_tool("cksum")
  # cksum -a writes tagged lines by default, and BLAKE2b-N with -l.
  for (args in list(c("-a", "sha256"), c("-a", "blake2b", "-l", "256"), c("-a", "md5"))) {
    expect_identical(run_tool(dir, "cksum", c(args, shQuote(plain_names)), "ck.txt"), 0L)
    expect_identical(verify(dir, "ck.txt")$status, rep("ok", 3), label = paste(args, collapse = " "))
  }
})

test_that("an algorithm rwbridge lacks is malformed, with a reason naming it", {
  dir <- plain_tree()
  skip_without_tool("cksum")
  # coreutils' SM3, then a line rwbridge reads.
  expect_identical(run_tool(dir, "cksum", c("-a", "sm3", "--tag", "a.txt"), "sm3.txt"), 0L)
  cat(paste0(sha1_of("x"), "  caf\u00e9\n"), file = file.path(dir, "sm3.txt"), append = TRUE)
  warning <- expect_warning(result <- verify(dir, "sm3.txt"), class = "rwbridge_malformed_warning")
  expect_match(conditionMessage(warning), "line 1: unknown algorithm 'SM3'", fixed = TRUE)
  expect_identical(result$status, "ok")
  malformed <- attr(result, "malformed")
  expect_identical(malformed$line, 1L)
  expect_identical(malformed$reason, "unknown algorithm 'SM3'")
  expect_match(malformed$text, "^SM3 \\(a.txt\\) = [0-9a-f]{64}$")
  # A line no tool writes stays malformed, with no reason to give.
  writeit(paste0("sha256 (a.txt) = ", strrep("0", 64), "\n"), file.path(dir, "lower.txt"))
  result <- suppressWarnings(verify(dir, "lower.txt"))
  expect_identical(attr(result, "malformed")$reason, NA_character_)
  err <- expect_error(suppressWarnings(verify(dir, "sm3.txt", error = TRUE)),
                      class = "rwbridge_verify_error")
  expect_match(conditionMessage(err), "1 malformed line: line 1", fixed = TRUE)
})

test_that("a manifest of b3sum output named checksums.txt: intact files are ok", {
  dir <- awkward_tree()
  skip_without_tool("b3sum")
  names <- c("a.txt", "sub/b c.bin", "caf\u00e9", "back\\slash", "new\nline")
  run_tool(dir, "b3sum", shQuote(names), "checksums.txt")
  result <- verify(dir, "checksums.txt")
  expect_identical(result$status, rep("ok", 5))
  expect_identical(result$algo, rep("blake3", 5))
  # Damage is a mismatch in the most common algorithm of the length,
  # SHA-256, whose digest sha256sum gives.
  writeit("tampered\n", file.path(dir, "a.txt"))
  result <- verify(dir, "checksums.txt")
  expect_identical(result$status, c("mismatch", rep("ok", 4)))
  expect_identical(result$algo, c("sha256", rep("blake3", 4)))
  expect_identical(result$actual[1], tool_digests(dir, "sha256sum", NULL, "a.txt"))
  # Under the name b3sum's users give it, the mismatch is BLAKE3's.
  file.copy(file.path(dir, "checksums.txt"), file.path(dir, "B3SUMS"))
  result <- verify(dir, "B3SUMS")
  expect_identical(result$algo, rep("blake3", 5))
  expect_identical(result$actual[1], tool_digests(dir, "b3sum", NULL, "a.txt"))
  # A named algorithm tries no other.
  expect_identical(verify(dir, "checksums.txt", algo = "sha256")$status, rep("mismatch", 5))
})

test_that("untagged digests of every shared length find their algorithm", {
  dir <- plain_tree()
  skip_without_tool("xxhsum")
  skip_without_tool("rhash")
  # XXH3 untagged (xxhsum 0.8.1 tags it; the tag taken off) is XXH64's length;
  # CRC32C is XXH32's; SHA3-224 SHA-224's; BLAKE2s SHA-256's.
  cases <- list(xxh3 = c("xxhsum", "-H3"), crc32c = c("rhash", "--crc32c"),
                "sha3-224" = c("rhash", "--sha3-224"), blake2s = c("rhash", "--blake2s"),
                "sha3-512" = c("rhash", "--sha3-512"), xxh128 = c("xxhsum", "-H2"))
  for (algo in names(cases)) {
    digests <- tool_digests(dir, cases[[algo]][1], cases[[algo]][-1], plain_names)
    digests <- sub("^XXH3 \\(.*\\) = ", "", digests)
    if (algo == "xxh3") {
      digests <- sub("^.*= ", "", withr::with_dir(dir, system2(
        "xxhsum", c("-H3", shQuote(plain_names)), stdout = TRUE)))
    }
    writeLines(paste0(digests, "  ", plain_names), file.path(dir, "untagged.txt"),
               useBytes = TRUE)
    result <- verify(dir, "untagged.txt")
    expect_identical(result$status, rep("ok", 3), label = algo)
    expect_identical(result$algo, rep(algo, 3), label = algo)
  }
})

test_that("file names hint at the algorithm tried first and reported on a mismatch", {
  dir <- plain_tree()
  skip_without_tool("b2sum")
  names <- c("SHA3SUMS", "x.sha3-256", "checksums.sha3_256")
  digest <- unname(hash_files(file.path(dir, "a.txt"), algo = "sha3-256"))
  for (name in names) {
    writeit(paste0(digest, "  a.txt\n"), file.path(dir, name))
    expect_identical(verify(dir, name)$algo, "sha3-256", label = name)
  }
  writeit("changed\n", file.path(dir, "a.txt"))
  for (name in names) {
    result <- verify(dir, name)
    expect_identical(result$status, "mismatch", label = name)
    expect_identical(result$algo, "sha3-256", label = name)
    expect_identical(result$actual, unname(hash_files(file.path(dir, "a.txt"), "sha3-256")))
  }
  # b2sum -l 256 output named B2SUMS: BLAKE2b-256 first.
  run_tool(dir, "b2sum", c("-l", "256", shQuote(plain_names)), "B2SUMS")
  writeit("again\n", file.path(dir, "a.txt"))
  result <- verify(dir, "B2SUMS")
  expect_identical(result$algo, rep("blake2b-256", 3))
  expect_identical(result$status, c("mismatch", "ok", "ok"))
})

# A base64 encoder in plain R: the oracle for coreutils' --base64.
base64_of_hex <- function(hex) {
  bytes <- strtoi(substring(hex, seq(1, nchar(hex), 2), seq(2, nchar(hex), 2)), 16L)
  alphabet <- c(LETTERS, letters, 0:9, "+", "/")
  pad <- (3 - length(bytes) %% 3) %% 3
  bytes <- c(bytes, rep(0L, pad))
  groups <- matrix(bytes, nrow = 3)
  n <- groups[1, ] * 65536 + groups[2, ] * 256 + groups[3, ]
  chars <- rbind(n %/% 262144, n %/% 4096 %% 64, n %/% 64 %% 64, n %% 64)
  out <- alphabet[as.vector(chars) + 1]
  if (pad > 0) out[length(out) - seq_len(pad) + 1] <- "="
  paste(out, collapse = "")
}

test_that("base64 digests verify, tagged and untagged, as coreutils 9.2+ writes them", {
  # coreutils 9.1 here has no --base64: the lines are made as the coreutils
  # 9.8 manual documents them (RFC 4648 section 4, with its `=` padding,
  # `cksum -a sha256 --base64` tagged and `--untagged`), from sha256sum's
  # and md5sum's own digests.
  expect_identical(base64_of_hex("900150983cd24fb0d6963f7d28e17f72"),
                   "kAFQmDzST7DWlj99KOF/cg==")
  dir <- plain_tree()
  skip_without_tool("sha256sum")
  for (tool in c(sha256 = "sha256sum", md5 = "md5sum", sha384 = "sha384sum")) {
    algo <- names(which(c(sha256 = "sha256sum", md5 = "md5sum", sha384 = "sha384sum") == tool))
    hex <- tool_digests(dir, tool, NULL, plain_names)
    b64 <- vapply(hex, base64_of_hex, "")
    tag <- toupper(algo)
    writeLines(c(paste0(tag, " (", plain_names, ") = ", b64), paste0(b64, "  ", plain_names)),
               file.path(dir, "b64.txt"), useBytes = TRUE)
    result <- verify(dir, "b64.txt")
    expect_identical(result$status, rep("ok", 6), label = algo)
    expect_identical(result$algo, rep(algo, 6), label = algo)
    expect_identical(result$expected, c(hex, hex), label = algo)
  }
  # Padding is part of the digest, as coreutils' --check wants it.
  sha256 <- base64_of_hex(tool_digests(dir, "sha256sum", NULL, plain_names[1]))
  expect_match(sha256, "=$")
  writeLines(paste0(sub("=+$", "", sha256), "  ", plain_names[1]), file.path(dir, "bad.txt"))
  expect_warning(verify(dir, "bad.txt"), class = "rwbridge_malformed_warning")
})

test_that("SHA-3 lines as cksum 9.8 writes them verify, in hex and base64", {
  # coreutils 9.1 here has no `cksum -a sha3`: the lines are made as the
  # coreutils 9.8 manual documents them (`cksum -a sha3 -l N` writes tagged
  # `SHA3-N (NAME) = HASH` by default, `--untagged` `HASH  NAME`,
  # `--base64` the digest in base64), from openssl's own digests.
  dir <- plain_tree()
  skip_without_tool("openssl")
  for (bits in c(224, 256, 384, 512)) {
    hex <- sub(" .*$", "", withr::with_dir(dir, system2(
      "openssl", c("dgst", paste0("-sha3-", bits), "-r", shQuote(plain_names)), stdout = TRUE)))
    b64 <- vapply(hex, base64_of_hex, "", USE.NAMES = FALSE)
    tagged <- paste0("SHA3-", bits, " (", plain_names, ") = ", c(hex[1:2], b64[3]))
    untagged <- paste0(c(b64[1], hex[2:3]), "  ", plain_names)
    writeLines(c(tagged, untagged), file.path(dir, "cksum98.txt"), useBytes = TRUE)
    result <- verify(dir, "cksum98.txt")
    algo <- paste0("sha3-", bits)
    expect_identical(result$status, rep("ok", 6), label = algo)
    expect_identical(result$algo, rep(algo, 6), label = algo)
    expect_identical(result$expected, c(hex, hex), label = algo)
  }
})

test_that("NUL-terminated manifests (-z) verify, their names raw", {
  dir <- awkward_tree()
  skip_without_tool("sha256sum")
  names <- c("a.txt", "back\\slash", "new\nline", "sub/b c.bin")
  for (args in list("-z", c("-z", "--tag"))) {
    run_tool(dir, "sha256sum", c(args, shQuote(names)), "zero.txt")
    bytes <- readBin(file.path(dir, "zero.txt"), "raw", 1e5)
    expect_identical(bytes[length(bytes)], as.raw(0))
    result <- verify(dir, "zero.txt")
    expect_identical(result$status, rep("ok", 4), label = paste(args, collapse = " "))
    expect_identical(result$file, names)
  }
  run_tool(dir, "b2sum", c("-z", "-l", "128", shQuote(names)), "zero.txt")
  result <- verify(dir, "zero.txt")
  expect_identical(result$status, rep("ok", 4))
  expect_identical(result$algo, rep("blake2b-128", 4))
})

test_that("hash_files() of one big file in BLAKE3 is b3sum's digest", {
  skip_without_tool("b3sum")
  dir <- withr::local_tempdir()
  path <- file.path(dir, "big.bin")
  # Past the size where every worker hashes a part (4 MiB), not a whole
  # number of parts.
  set.seed(19)
  writeit(as.raw(sample(0:255, 9 * 2^20 + 12345, replace = TRUE)), path)
  want <- tool_digests(dir, "b3sum", NULL, "big.bin")
  for (threads in 1:2) {
    expect_identical(unname(hash_files(path, "blake3", threads = threads)), want)
  }
  paths <- c(path, file.path(dir, "nope"), path)
  expect_identical(unname(suppressWarnings(hash_files(paths, "blake3"))), c(want, NA, want))
})

test_that("exclude leaves files out of the audit, manifests and listings", {
  dir <- local_tree(c("a.txt" = "A", "sub/b.txt" = "B", ".DS_Store" = "junk",
                      "sub/.DS_Store" = "junk", "x.tmp" = "T", "sub/y.tmp" = "Y",
                      "cache/c1" = "C", "keep.tmp" = "K"))
  exclude <- c(".DS_Store", "*.tmp", "!keep.tmp", "cache/")
  signed <- write_signatures(dir, exclude = exclude)
  expect_identical(signed$file, c("a.txt", "keep.tmp", "sub/b.txt"))
  skip_without_tool("sha1sum")
  expect_identical(withr::with_dir(dir, system2("sha1sum", c("-c", "--quiet", "sha1sum.txt"))), 0L)
  # The audit: nothing excluded is extra, the rest is.
  writeit("new", file.path(dir, "sub/new.txt"))
  writeit("more junk", file.path(dir, "cache/c2"))
  result <- verify(dir, complete = TRUE, exclude = exclude)
  expect_identical(result$file, c("a.txt", "keep.tmp", "sub/b.txt", "sub/new.txt"))
  expect_identical(result$status, c("ok", "ok", "ok", "extra"))
  # Anchored at dir with a `/`; listed files are checked whatever their names.
  result <- verify(dir, complete = TRUE, exclude = c("/*.tmp", "*.txt"))
  expect_identical(result$status[1:3], rep("ok", 3))
  expect_setequal(result$file[result$status == "extra"],
                  c(".DS_Store", "cache/c1", "cache/c2", "sub/.DS_Store", "sub/y.tmp"))
  # files = names are excluded too.
  signed <- write_signatures(dir, "m.txt", files = c("a.txt", "x.tmp"), exclude = "*.tmp")
  expect_identical(signed$file, "a.txt")
  # hash_files(): a directory stands for its files, named below it.
  digests <- hash_files(c(dir, file.path(dir, "x.tmp")), exclude = exclude)
  expect_identical(names(digests),
                   c(file.path(dir, c("a.txt", "keep.tmp", "m.txt", "sha1sum.txt", "sub/b.txt",
                                      "sub/new.txt")), file.path(dir, "x.tmp")))
  expect_identical(unname(digests[1]), sha1_of("A"))
  # Without exclude a directory is unreadable, as always.
  expect_warning(expect_identical(unname(hash_files(dir)), NA_character_),
                 class = "rwbridge_unreadable_warning")
  expect_identical(hash_files(file.path(dir, "sub"), exclude = character())[[2]], sha1_of("B"))
})

test_that("bad globs and bad exclude arguments are classed errors, nothing written", {
  dir <- local_tree(c(a = "A"))
  for (bad in c("a{b", "[z-a]", "x\\")) {
    err <- expect_error(write_signatures(dir, exclude = c("*.tmp", bad)),
                        class = "rwbridge_value_error")
    expect_match(conditionMessage(err), paste0("`exclude` holds '", bad, "'"), fixed = TRUE)
    expect_false(file.exists(file.path(dir, "sha1sum.txt")))
    expect_error(verify(dir, exclude = bad), class = "rwbridge_value_error")
    expect_error(hash_files(file.path(dir, "a"), exclude = bad), class = "rwbridge_value_error")
  }
  expect_error(write_signatures(dir, exclude = NA_character_), class = "rwbridge_type_error")
  expect_error(verify(dir, exclude = 1), class = "rwbridge_type_error")
  expect_error(hash_files(dir, exclude = list("a")), class = "rwbridge_type_error")
  expect_false(file.exists(file.path(dir, "sha1sum.txt")))
})

test_that("update = TRUE keeps, adds and drops lines, hashing only new files", {
  dir <- local_tree(c(a = "A", b = "B", gone = "G"))
  write_signatures(dir, algo = "sha256")
  manifest <- file.path(dir, "sha1sum.txt")
  cat("# kept as it is\n", file = manifest, append = TRUE)
  old <- readLines(manifest)
  # A listed file changed since: its line is kept, unhashed (verify()'s job).
  writeit("changed", file.path(dir, "a"))
  unlink(file.path(dir, "gone"))
  writeit("new", file.path(dir, "c"))
  result <- write_signatures(dir, algo = "sha256", update = TRUE)
  expect_identical(result$file, c("a", "b", "c"))
  expect_identical(result$change, c("kept", "kept", "added"))
  expect_identical(attr(result, "dropped"), "gone")
  expect_identical(attr(result, "counts"), c(kept = 2L, added = 1L, dropped = 1L))
  sha256 <- function(text) digest::digest(charToRaw(text), "sha256", serialize = FALSE)
  expect_identical(readLines(manifest),
                   c(old[1:2], "# kept as it is", paste0(sha256("new"), "  c")))
  expect_identical(verify(dir, algo = "sha256")$status, c("mismatch", "ok", "ok"))
  # Up to date: nothing changes.
  before <- readit(manifest)
  result <- write_signatures(dir, algo = "sha256", update = TRUE)
  expect_identical(attr(result, "counts"), c(kept = 3L, added = 0L, dropped = 0L))
  expect_identical(readit(manifest), before)
  # No manifest yet: an update writes one.
  result <- write_signatures(dir, "new.txt", algo = "xxh128", update = TRUE)
  expect_identical(result$change, rep("added", 4))
  expect_identical(verify(dir, "new.txt")$status, rep("ok", 4))
})

test_that("update = TRUE refuses what is not a manifest of its algorithm, writing nothing", {
  dir <- local_tree(c(a = "A", "notes.txt" = "Some notes.\n"))
  err <- expect_error(write_signatures(dir, "notes.txt", update = TRUE),
                      class = "rwbridge_value_error")
  expect_match(conditionMessage(err), "^`manifest` '.*notes.txt' is not a manifest of sha1 digests")
  expect_identical(readit(file.path(dir, "notes.txt"), as = "text"), "Some notes.\n")
  write_signatures(dir, "md5.txt", algo = "md5", files = "a")
  before <- readit(file.path(dir, "md5.txt"))
  err <- expect_error(write_signatures(dir, "md5.txt", update = TRUE),
                      class = "rwbridge_value_error")
  expect_match(conditionMessage(err), "`algo` is \"sha1\", but line 1 of '", fixed = TRUE)
  expect_match(conditionMessage(err), "is md5 or xxh128 or blake2b-128 (by its length)",
               fixed = TRUE)
  expect_identical(readit(file.path(dir, "md5.txt")), before)
  writeit(paste0("MD5 (a) = ", tools::md5sum(file.path(dir, "a")), "\n"),
          file.path(dir, "tagged.txt"))
  err <- expect_error(write_signatures(dir, "tagged.txt", update = TRUE),
                      class = "rwbridge_value_error")
  expect_match(conditionMessage(err), "is md5: pass algo = \"md5\" to update it", fixed = TRUE)
  expect_error(write_signatures(dir, update = NA), class = "rwbridge_type_error")
})
