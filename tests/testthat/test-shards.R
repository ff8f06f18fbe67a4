# shards: the same call split into parts run as futures under the user's
# plan() must give exactly the local result, whatever the plan and the
# number of parts; a part whose worker dies loses nothing that finished.

skip_if_not_installed("future")

# Runs `expect_same(shards)` under plan(sequential), plan(multisession) and
# a loopback PSOCK cluster, for several shard counts; the plan is restored
# after.
under_every_plan <- function(expect_same) {
  old <- future::plan(future::sequential)
  withr::defer(future::plan(old))
  for (shards in c(1, 3)) expect_same(shards)
  future::plan(future::multisession, workers = 2)
  for (shards in c(2, 5)) expect_same(shards)
  future::plan(future::cluster, workers = c("127.0.0.1", "127.0.0.1"))
  expect_same(2)
}

# Two local workers until the calling test ends.
local_workers <- function(env = parent.frame()) {
  old <- future::plan(future::multisession, workers = 2)
  withr::defer(future::plan(old), envir = env)
}

# Runs `check(shards)` without shards and in 3 shards on two workers, the
# worker of part 2 dying: the classed error names part 2, and its result,
# of class `class`, keeps some rows but not all. Returns the local result
# and the finished rows.
part_2_dies <- function(check, class) {
  local_workers(env = parent.frame())
  local <- suppressWarnings(check(NULL))
  withr::local_options(rwbridge.test_quit_part = 2L)
  err <- expect_error(suppressWarnings(check(3)), "part 2 of 3 failed",
                      class = "rwbridge_internal_error")
  finished <- err$result
  expect_s3_class(finished, class)
  expect_gt(nrow(finished), 0)
  expect_lt(nrow(finished), nrow(local))
  list(local = local, finished = finished)
}

# A tree with every status: ok, damaged, missing, unreadable, refused,
# malformed lines, and (for the audit) an added and a renamed file.
shard_tree <- function(env = parent.frame()) {
  files <- setNames(as.list(sprintf("content %d\n", 1:24)), sprintf("d%d/f%02d.txt", 1:24 %% 3, 1:24))
  files[["big.bin"]] <- strrep("x", 200000)
  dir <- local_tree(unlist(files), env = env)
  write_signatures(dir)
  writeit("damaged\n", file.path(dir, "d1/f01.txt"))
  file.remove(file.path(dir, "d2/f02.txt"))
  file.rename(file.path(dir, "d0/f03.txt"), file.path(dir, "d0/renamed.txt"))
  writeit("added\n", file.path(dir, "d1/added.txt"))
  manifest <- file.path(dir, "sha1sum.txt")
  writeit(paste0(readit(manifest, as = "text"), "not a line\n",
                 sha1_of("s"), "  ../outside\n", sha1_of("x"), "  d1\n"), manifest)
  dir
}

expect_same_as_local <- function(dir, shards) {
  local <- suppressWarnings(verify(dir))
  label <- paste(shards, "shards")
  expect_warning(sharded <- verify(dir, shards = shards), class = "rwbridge_malformed_warning")
  expect_identical(sharded, local, label = label)
  expect_identical(suppressWarnings(verify(dir, complete = TRUE, shards = shards)),
                   suppressWarnings(verify(dir, complete = TRUE)), label = label)
  local_error <- expect_error(suppressWarnings(verify(dir, error = TRUE)),
                              class = "rwbridge_verify_error")
  sharded_error <- expect_error(suppressWarnings(verify(dir, error = TRUE, shards = shards)),
                                class = "rwbridge_verify_error")
  expect_identical(conditionMessage(sharded_error), conditionMessage(local_error))
  paths <- c(file.path(dir, c("big.bin", "d1/f01.txt", "nope", "d1")), NA)
  expect_identical(suppressWarnings(hash_files(paths, shards = shards)),
                   suppressWarnings(hash_files(paths)), label = label)
  warned <- expect_warning(hash_files(paths, shards = shards), class = "rwbridge_unreadable_warning")
  expect_identical(conditionMessage(warned),
                   conditionMessage(expect_warning(hash_files(paths))))
  # Manifests outside the tree, so that neither lists the other.
  manifests <- withr::local_tempdir()
  sharded_manifest <- file.path(manifests, "sharded.txt")
  local_manifest <- file.path(manifests, "local.txt")
  signed <- write_signatures(dir, sharded_manifest, algo = "md5", shards = shards)
  expect_identical(signed, write_signatures(dir, local_manifest, algo = "md5"), label = label)
  expect_identical(readit(sharded_manifest), readit(local_manifest))
  err <- expect_error(write_signatures(dir, sharded_manifest, files = c("big.bin", "nope"),
                                       shards = shards), class = "rwbridge_io_error")
  local_err <- expect_error(write_signatures(dir, local_manifest, files = c("big.bin", "nope")),
                            class = "rwbridge_io_error")
  expect_identical(conditionMessage(err), conditionMessage(local_err))
  expect_identical(readit(sharded_manifest), readit(local_manifest))
}

test_that("sequential, multisession and a loopback cluster give the local result", {
  skip_on_cran()
  dir <- shard_tree()
  under_every_plan(function(shards) expect_same_as_local(dir, shards))
})

test_that("candidate algorithms, exclude and update give the local result in shards", {
  skip_on_cran()
  files <- setNames(as.list(sprintf("content %d\n", 1:12)), sprintf("d%d/f%02d.txt", 1:12 %% 3, 1:12))
  dir <- local_tree(unlist(files))
  # b3sum's lines under a name that hints at nothing: each found in BLAKE3.
  names <- names(files)
  digests <- hash_files(file.path(dir, names), algo = "blake3")
  writeit(paste0(digests, "  ", names, "\n", collapse = ""), file.path(dir, "checksums.txt"))
  writeit("damaged\n", file.path(dir, "d1/f01.txt"))
  file.rename(file.path(dir, "d2/f02.txt"), file.path(dir, "d2/renamed.txt"))
  writeit("junk", file.path(dir, "d0/x.tmp"))
  writeit("added\n", file.path(dir, "d1/added.txt"))
  local <- verify(dir, "checksums.txt", complete = TRUE, exclude = "*.tmp")
  expect_identical(local$status[local$file == "d2/f02.txt"], "moved")
  expect_identical(local$algo[local$file == "d2/f02.txt"], "blake3")
  expect_false("d0/x.tmp" %in% local$file)
  manifests <- withr::local_tempdir()
  file.copy(file.path(dir, "checksums.txt"), file.path(manifests, c("local.txt", "sharded.txt")))
  local_update <- write_signatures(dir, file.path(manifests, "local.txt"), algo = "blake3",
                                   exclude = "*.tmp", update = TRUE)
  # The other manifest in dir is a file like any other.
  expect_identical(attr(local_update, "counts"), c(kept = 11L, added = 3L, dropped = 1L))
  old <- future::plan(future::sequential)
  withr::defer(future::plan(old))
  for (plan in c("sequential", "multisession")) {
    if (plan == "multisession") future::plan(future::multisession, workers = 2)
    for (shards in c(1, 3)) {
      label <- paste(plan, shards)
      expect_identical(verify(dir, "checksums.txt", complete = TRUE, exclude = "*.tmp",
                              shards = shards), local, label = label)
      file.copy(file.path(dir, "checksums.txt"), file.path(manifests, "sharded.txt"),
                overwrite = TRUE)
      sharded <- write_signatures(dir, file.path(manifests, "sharded.txt"), algo = "blake3",
                                  exclude = "*.tmp", update = TRUE, shards = shards)
      expect_identical(sharded, local_update, label = label)
      expect_identical(readit(file.path(manifests, "sharded.txt")),
                       readit(file.path(manifests, "local.txt")), label = label)
      expect_identical(hash_files(dir, "xxh3", exclude = "*.tmp", shards = shards),
                       hash_files(dir, "xxh3", exclude = "*.tmp"), label = label)
    }
  }
})

test_that("a worker that dies is an internal error that keeps the finished rows", {
  skip_on_cran()
  skip_on_os("windows")
  dir <- shard_tree()
  lost <- part_2_dies(function(shards) verify(dir, shards = shards), "rwbridge_verification")
  local <- lost$local
  finished <- lost$finished
  # Every finished row is the local row for that line, in manifest order.
  expect_identical(as.data.frame(finished),
                   as.data.frame(local[match(finished$line, local$line), ]),
                   ignore_attr = TRUE)
  expect_false(is.unsorted(finished$line))
  withr::local_options(rwbridge.test_quit_part = 1L)
  err <- expect_error(suppressWarnings(hash_files(file.path(dir, "big.bin"), shards = 1)),
                      "part 1 of 1 failed", class = "rwbridge_internal_error")
  expect_length(err$result, 0)
})

# A bag with a row of every status and doubts: two payload manifests (each
# file read once for both), a tag manifest, a damaged, a missing, an
# unlisted and an unfetched file, a FIFO, a line leading outside, a
# manifest of an algorithm rwbridge lacks, a non-UTF-8 name.
shard_bag <- function(env = parent.frame()) {
  files <- setNames(sprintf("payload %d\n", 1:12), sprintf("d%d/p%02d.txt", 1:12 %% 3, 1:12))
  files[["big.bin"]] <- strrep("y", 300000)
  dir <- hand_bag(files, env = env)
  payload <- paste0("data/", names(files))
  put(dir, "manifest-md5.txt", paste0(
    vapply(seq_along(files), function(i) manifest_line(files[[i]], payload[[i]], "md5"), ""),
    collapse = ""))
  put(dir, "data/d1/p01.txt", "damaged\n")
  file.remove(file.path(dir, "data/d2/p02.txt"))
  put(dir, "data/unlisted.txt", "not in any manifest\n")
  # R cannot make a name that is not UTF-8 here; the shell can.
  system2("sh", c("-c", shQuote("printf 'latin-1 name\\n' > \"$0/data/$(printf '\\351').txt\""),
                  shQuote(dir)))
  make_fifo(file.path(dir, "data/fifo"))
  fetch <- manifest_line("to fetch", "data/later.txt")
  put(dir, "fetch.txt", "https://example.org/later.txt 8 data/later.txt\n")
  # (put() truncates before it reads its text: read first.)
  sha256 <- paste0(readit(file.path(dir, "manifest-sha256.txt"), as = "text"), fetch,
                   manifest_line("x", "data/../outside"), manifest_line("f", "data/fifo"),
                   manifest_line(files[[3]], "./data/d0/p03.txt"))
  put(dir, "manifest-sha256.txt", sha256)
  md5 <- paste0(readit(file.path(dir, "manifest-md5.txt"), as = "text"),
                manifest_line("to fetch", "data/later.txt", "md5"))
  put(dir, "manifest-md5.txt", md5)
  put(dir, "manifest-shake_128.txt", "00  data/big.bin\n")
  put(dir, "bag-info.txt", "Source-Organization: A lab\n")
  tags <- c("bagit.txt", "bag-info.txt", "manifest-md5.txt", "manifest-sha256.txt", "fetch.txt")
  put(dir, "tagmanifest-sha512.txt", paste0(vapply(tags, function(t) {
    manifest_line(readit(file.path(dir, t)), t, "sha512")
  }, ""), collapse = ""))
  dir
}

expect_bag_same_as_local <- function(dir, shards) {
  label <- paste(shards, "shards")
  expect_warning(local <- verify_bag(dir), class = "rwbridge_bag_warning")
  expect_warning(sharded <- verify_bag(dir, shards = shards), class = "rwbridge_bag_warning")
  expect_identical(sharded, local, label = label)
  expect_identical(conditionMessage(expect_warning(verify_bag(dir, shards = shards))),
                   conditionMessage(expect_warning(verify_bag(dir))), label = label)
  local_error <- expect_error(suppressWarnings(verify_bag(dir, error = TRUE)),
                              class = "rwbridge_verify_error")
  sharded_error <- expect_error(suppressWarnings(verify_bag(dir, error = TRUE, shards = shards)),
                                class = "rwbridge_verify_error")
  expect_identical(conditionMessage(sharded_error), conditionMessage(local_error))
  expect_identical(sharded_error$result, local_error$result, label = label)
}

test_that("verify_bag() in shards gives the local result, rows, problems and warnings", {
  skip_on_cran()
  skip_on_os("windows")
  dir <- shard_bag()
  local <- suppressWarnings(verify_bag(dir))
  # The bag has what the test is for: every status, and files read in parts.
  expect_setequal(local$status, c("ok", "mismatch", "missing", "unreadable", "refused",
                                  "extra", "unfetched", "present"))
  expect_gt(length(rwbridge:::bag_plan_(dir, NULL)$path), 10)
  under_every_plan(function(shards) expect_bag_same_as_local(dir, shards))
  # fast = TRUE hashes nothing: the same check, run here.
  expect_identical(suppressWarnings(verify_bag(dir, fast = TRUE, shards = 2)),
                   suppressWarnings(verify_bag(dir, fast = TRUE)))
  # A valid bag, in more parts than files, is valid and quiet.
  good <- hand_bag(c(a = "A", b = strrep("B", 70000), c = "C"))
  expect_no_warning(valid <- verify_bag(good, shards = 5))
  expect_true(attr(valid, "valid"))
  expect_identical(valid, verify_bag(good))
})

test_that("a bag's worker that dies is an internal error that keeps the finished rows", {
  skip_on_cran()
  skip_on_os("windows")
  dir <- shard_bag()
  lost <- part_2_dies(function(shards) verify_bag(dir, shards = shards),
                      "rwbridge_bag_verification")
  local <- lost$local
  finished <- lost$finished
  # Every finished row is the local row for that manifest line, in order.
  key <- function(x) paste(x$manifest, x$line, x$file)
  expect_false(anyDuplicated(key(local)) > 0)
  at <- match(key(finished), key(local))
  expect_false(anyNA(at))
  expect_false(is.unsorted(at))
  expect_identical(as.data.frame(finished), as.data.frame(local[at, ]), ignore_attr = TRUE)
  # Tag files are hashed by this process, so their rows are all there.
  tag_rows <- local$manifest == "tagmanifest-sha512.txt"
  expect_identical(finished[finished$manifest == "tagmanifest-sha512.txt", "status"],
                   local[tag_rows, "status"])
})

test_that("a bag's parts report files they could not read, and lose only failed parts", {
  skip_on_os("windows")
  dir <- hand_bag(c(a = "A", b = "B", c = "C", d = "D"))
  local <- verify_bag(dir)
  plan <- rwbridge:::bag_plan_(dir, NULL)
  part <- rwbridge:::bag_hash_part_(dir, plan$path, plan$algos, 1L)
  expect_identical(part$status, rep(1L, 4))
  expect_identical(sort(part$digest), sort(local$actual))
  # As a worker would report them: a file it did not find (no shared file
  # system there), a file whose part failed (NA), and two read.
  names <- vapply(plan$path, rawToChar, "")
  missing <- match(c("data/b", "data/c"), names)
  status <- part$status
  status[missing] <- c(match("missing", rwbridge:::rw_codes$status), NA)
  # Digests come for the files read only.
  digest <- part$digest[-missing]
  found <- rwbridge:::rw_unwrap(rwbridge:::verify_bag_merge_(dir, 1L, plan$path, plan$algos,
                                                              status, digest, NULL))
  merged <- rwbridge:::rw_bag_verification(found, dir)
  expect_identical(merged$file, c("data/a", "data/b", "data/d"))
  expect_identical(merged$status, c("ok", "missing", "ok"))
  expect_identical(merged$actual, replace(local$actual[c(1, 2, 4)], 2, NA))
  expect_identical(attr(merged, "problems")$code, "missing")
  # A file the parts did not hash (the bag changed since the plan) is hashed here.
  found <- rwbridge:::rw_unwrap(rwbridge:::verify_bag_merge_(dir, 1L, plan$path[-1],
                                                              plan$algos[-1], part$status[-1],
                                                              part$digest[-1], NULL))
  expect_identical(rwbridge:::rw_bag_verification(found, dir), local)
  # Parts whose columns do not add up are an internal error, not a result.
  expect_error(rwbridge:::rw_unwrap(rwbridge:::verify_bag_merge_(dir, 1L, plan$path, plan$algos,
                                                                  status, digest[-1], NULL)),
               class = "rwbridge_internal_error")
})

test_that("progress from the workers reaches progressr, one step per part", {
  skip_on_cran()
  skip_if_not_installed("progressr")
  withr::local_options(progressr.enable = TRUE)
  dir <- local_tree(setNames(strrep("a", 1000 * 1:6), paste0("f", 1:6)))
  write_signatures(dir)
  bag <- hand_bag(c(a = "A", b = "B", c = "C", d = "D"))
  steps_of <- function(expr) {
    steps <- 0
    progressr::with_progress(withCallingHandlers(expr, progression = function(p) {
      if (identical(p$type, "update")) steps <<- steps + p$amount
    }), handlers = progressr::handler_void())
    steps
  }
  local_workers()
  expect_identical(steps_of(verify(dir, shards = 3)), 3)
  expect_identical(steps_of(hash_files(file.path(dir, "f1"), shards = 3)), 1)
  expect_identical(steps_of(verify_bag(bag, shards = 2)), 2)
  expect_identical(steps_of(verify(dir)), 0)
})

test_that("relative paths reach workers whose working directory is another", {
  skip_on_cran()
  tree <- shard_tree()
  bag <- hand_bag(c(a = "A", b = "B"))
  local_workers()
  # The workers started in this directory; the calls come from another.
  withr::local_dir(dirname(tree))
  dir <- basename(tree)
  expect_identical(suppressWarnings(verify(dir, shards = 2)), suppressWarnings(verify(dir)))
  paths <- file.path(dir, c("big.bin", "d1/f01.txt", "nope"))
  warned <- expect_warning(sharded <- hash_files(paths, shards = 2))
  expect_identical(sharded, suppressWarnings(hash_files(paths)))
  expect_identical(conditionMessage(warned), conditionMessage(expect_warning(hash_files(paths))))
  err <- expect_error(write_signatures(dir, tempfile(), files = "nope", shards = 2),
                      class = "rwbridge_io_error")
  expect_identical(conditionMessage(err), conditionMessage(
    expect_error(write_signatures(dir, tempfile(), files = "nope"), class = "rwbridge_io_error")))
  withr::local_dir(dirname(bag))
  expect_identical(verify_bag(basename(bag), shards = 2), verify_bag(basename(bag)))
})

test_that("names that are not UTF-8 are hashed, signed and checked in shards as without", {
  skip_on_cran()
  skip_unless_byte_names()
  top <- local_tree(c("dir<e9>/decoy" = "decoy"))
  dir <- paste0(top, "/dir\xe9")
  dir.create(dir)
  writeBin(charToRaw("real"), paste0(dir, "/caf\xe9.txt"))
  writeBin(charToRaw("other"), paste0(dir, "/caf\xe8.txt"))
  writeBin(charToRaw("decoy"), paste0(dir, "/caf<e9>.txt"))
  local_workers()
  manifests <- withr::local_tempdir()
  local <- write_signatures(dir, file.path(manifests, "local.txt"))
  sharded <- write_signatures(dir, file.path(manifests, "sharded.txt"), shards = 2)
  expect_identical(sharded, local)
  expect_setequal(local$file, list.files(dir))
  expect_identical(readit(file.path(manifests, "sharded.txt")),
                   readit(file.path(manifests, "local.txt")))
  given <- write_signatures(dir, file.path(manifests, "given.txt"), files = c("caf\xe9.txt"),
                            shards = 2)
  expect_identical(given$digest, sha1_of("real"))
  paths <- paste0(dir, "/", list.files(dir))
  expect_identical(hash_files(paths, shards = 2), hash_files(paths))
  write_signatures(dir)
  expect_identical(verify(dir, shards = 2), verify(dir))
  expect_true(all(verify(dir, shards = 2)$status == "ok"))
  # Refused before any part runs, as without shards.
  expect_error(write_signatures(dir, file.path(manifests, "x.txt"), files = "../x", shards = 2),
               "`files`", class = "rwbridge_value_error")
  expect_false(file.exists(file.path(manifests, "x.txt")))
  # A bag's payload names must be UTF-8; the bag's own path need not be.
  unlink(paste0(dir, c("/sha1sum.txt", "/caf\xe9.txt", "/caf\xe8.txt")))
  write_bag(dir)
  expect_identical(verify_bag(dir, shards = 2), verify_bag(dir))
  expect_true(attr(verify_bag(dir, shards = 2), "valid"))
})

test_that("shards is checked, and says what to install without future", {
  dir <- local_tree(c(a = "A"))
  write_signatures(dir)
  expect_error(verify(dir, shards = 0), "`shards`", class = "rwbridge_value_error")
  expect_error(verify(dir, shards = 1.5), "`shards`", class = "rwbridge_value_error")
  expect_error(hash_files(file.path(dir, "a"), shards = "2"), class = "rwbridge_type_error")
  expect_error(verify_bag(dir, shards = NA_real_), "`shards`", class = "rwbridge_value_error")
  # As if future were not installed (this testthat has no local_mocked_bindings()).
  ns <- asNamespace("rwbridge")
  real <- get("rw_has_package", envir = ns)
  unlockBinding("rw_has_package", ns)
  assign("rw_has_package", function(package) FALSE, envir = ns)
  withr::defer({
    assign("rw_has_package", real, envir = ns)
    lockBinding("rw_has_package", ns)
  })
  expect_error(verify(dir, shards = 2), "install.packages(\"future\")", fixed = TRUE,
               class = "rwbridge_value_error")
  expect_error(verify_bag(dir, shards = 2), "install.packages(\"future\")", fixed = TRUE,
               class = "rwbridge_value_error")
})

test_that("parts split the bytes evenly and keep every item once", {
  sizes <- c(100, 1, 1, 50, 50, 0, NA, 3)
  parts <- rwbridge:::rw_split_bytes(sizes, 3)
  expect_setequal(unlist(parts), seq_along(sizes))
  expect_length(parts, 3)
  expect_true(all(vapply(parts, function(p) !is.unsorted(p), NA)))
  expect_length(rwbridge:::rw_split_bytes(c(5, 5), 4), 2)
})
