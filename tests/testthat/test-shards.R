# shards: the same call split into parts run as futures under the user's
# plan() must give exactly the local result, whatever the plan and the
# number of parts; a part whose worker dies loses nothing that finished.

skip_if_not_installed("future")

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
  old <- future::plan()
  withr::defer(future::plan(old))
  future::plan(future::sequential)
  for (shards in c(1, 3)) expect_same_as_local(dir, shards)
  future::plan(future::multisession, workers = 2)
  for (shards in c(2, 5)) expect_same_as_local(dir, shards)
  future::plan(future::cluster, workers = c("127.0.0.1", "127.0.0.1"))
  expect_same_as_local(dir, 2)
})

test_that("a worker that dies is an internal error that keeps the finished rows", {
  skip_on_cran()
  skip_on_os("windows")
  dir <- shard_tree()
  old <- future::plan()
  withr::defer(future::plan(old))
  future::plan(future::multisession, workers = 2)
  local <- suppressWarnings(verify(dir))
  withr::local_options(rwbridge.test_quit_part = 2L)
  err <- expect_error(suppressWarnings(verify(dir, shards = 3)), class = "rwbridge_internal_error")
  expect_match(conditionMessage(err), "part 2 of 3 failed")
  finished <- err$result
  expect_s3_class(finished, "rwbridge_verification")
  expect_gt(nrow(finished), 0)
  expect_lt(nrow(finished), nrow(local))
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

test_that("shards is checked, and says what to install without future", {
  dir <- local_tree(c(a = "A"))
  write_signatures(dir)
  expect_error(verify(dir, shards = 0), "`shards`", class = "rwbridge_value_error")
  expect_error(verify(dir, shards = 1.5), "`shards`", class = "rwbridge_value_error")
  expect_error(hash_files(file.path(dir, "a"), shards = "2"), class = "rwbridge_type_error")
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
})

test_that("parts split the bytes evenly and keep every item once", {
  sizes <- c(100, 1, 1, 50, 50, 0, NA, 3)
  parts <- rwbridge:::rw_split_bytes(sizes, 3)
  expect_setequal(unlist(parts), seq_along(sizes))
  expect_length(parts, 3)
  expect_true(all(vapply(parts, function(p) !is.unsorted(p), NA)))
  expect_length(rwbridge:::rw_split_bytes(c(5, 5), 4), 2)
})
