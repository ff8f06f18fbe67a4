# exclude = on write_bag(), verify_bag() and update_bag(): what the
# patterns leave out is not bagged (and stays where it is), and unlisted
# payload files they match are no part of a bag's check. References: plain
# R listings and bagit-python.

patterns <- c("*.tmp", "cache/", ".DS_Store")

# A tree with files every pattern matches, at the top and deeper, beside
# files that are bagged.
exclude_tree <- function(env = parent.frame()) {
  local_tree(c(
    "a.txt" = "alpha\n", "sub/c.txt" = "gamma\n", "sub/b.tmp" = "scratch\n",
    "sub/deep/e.txt" = "epsilon\n", "cache/d.bin" = "cached\n", "sub/cache/f" = "cached too\n",
    ".DS_Store" = "finder\n", "sub/.DS_Store" = "finder too\n", "x.tmp" = "top scratch\n",
    "keep/tmp.txt" = "not a tmp file\n"
  ), env = env)
}

# The files of `dir` that `patterns` leave out, in plain R: `.gitignore`'s
# rules for these three (a name ending .tmp, anything in a folder named
# cache, a file named .DS_Store, in any folder).
left_out <- function(files) {
  grepl("\\.tmp$", files) | grepl("(^|/)cache/", files) | basename(files) == ".DS_Store"
}

all_files <- function(dir) {
  sort(list.files(dir, recursive = TRUE, all.files = TRUE, no.. = TRUE))
}

# The payload paths a bag's manifest lists, decoded (no awkward names here).
manifest_paths <- function(bag, algo = "sha256") {
  lines <- readLines(file.path(bag, sprintf("manifest-%s.txt", algo)))
  sort(sub("^[0-9a-f]+ +data/", "", lines))
}

test_that("write_bag(exclude =) in place bags the rest and leaves the excluded files where they were", {
  dir <- exclude_tree()
  before <- tree_state(dir)
  files <- all_files(dir)
  kept <- files[!left_out(files)]
  expect_identical(sort(kept), c("a.txt", "keep/tmp.txt", "sub/c.txt", "sub/deep/e.txt"))
  write_bag(dir, exclude = patterns, threads = 2)
  expect_identical(manifest_paths(dir), kept)
  expect_identical(manifest_paths(dir, "sha512"), kept)
  # Each bagged file under data/, unchanged; each excluded one where it was.
  after <- tree_state(dir)
  expect_identical(after[paste0("data/", kept)], before[kept], ignore_attr = TRUE)
  out <- files[left_out(files)]
  expect_identical(after[out], before[out])
  expect_false(any(file.exists(file.path(dir, "data", out))))
  # The Oxum counts the bagged files only.
  info <- readLines(file.path(dir, "bag-info.txt"))
  oxum <- sprintf("Payload-Oxum: %.0f.%d", sum(file.size(file.path(dir, "data", kept))), length(kept))
  expect_true(oxum %in% info)
  # The tag manifests list the tag files write_bag() wrote, nothing excluded.
  tags <- sort(sub("^[0-9a-f]+ +", "", readLines(file.path(dir, "tagmanifest-sha256.txt"))))
  expect_identical(tags, c("bag-info.txt", "bagit.txt", "manifest-sha256.txt",
                           "manifest-sha512.txt"))
  expect_true(attr(expect_silent(verify_bag(dir)), "valid"))
  skip_without_bagit_python()
  expect_identical(bagit_python_validate(dir), "VALID")
})

test_that("write_bag(exclude =, dest =) copies only the rest and leaves dir as it was", {
  dir <- exclude_tree()
  out <- local_tree()
  before <- tree_state(dir)
  files <- all_files(dir)
  kept <- files[!left_out(files)]
  bag <- write_bag(dir, dest = file.path(out, "bag"), exclude = patterns, threads = 2)
  expect_identical(tree_state(dir), before)
  expect_identical(manifest_paths(bag), kept)
  expect_identical(all_files(file.path(bag, "data")), kept)
  expect_identical(tree_state(file.path(bag, "data"))[kept], before[kept])
  expect_true(attr(expect_silent(verify_bag(bag)), "valid"))
  skip_without_bagit_python()
  expect_identical(bagit_python_validate(bag), "VALID")
})

test_that("an interrupted write_bag(exclude =) is rolled back without touching the excluded files", {
  dir <- exclude_tree()
  before <- tree_state(dir)
  # Every step of the in-place writer, mixed folders (sub/) included.
  for (step in 1:13) {
    expect_error(rwbridge:::rw_write_bag(dir, "md5", list(), 1L, FALSE, fail_at = step,
                                         exclude = patterns),
                 sprintf("step %d", step), class = "rwbridge_io_error")
    expect_identical(tree_state(dir), before, label = sprintf("step %d", step))
  }
  # A restore that fails too leaves the journal; the next call completes it.
  expect_error(rwbridge:::rw_write_bag(dir, "md5", list(), 1L, FALSE, fail_at = 8,
                                       fail_undo = TRUE, exclude = patterns),
               "restoring the directory failed too", class = "rwbridge_io_error")
  expect_true(file.exists(file.path(dir, ".rwbridge-bag-journal")))
  expect_error(rwbridge:::rw_write_bag(dir, "md5", list(), 1L, FALSE, fail_at = 1,
                                       exclude = patterns), "step 1")
  expect_identical(tree_state(dir), before)
  # Killed (SIGKILL) while moving: the next call rolls back, then bags.
  skip_on_os("windows")
  skip_if_not_installed("processx")
  pause <- tempfile()
  child <- start_child(sprintf(
    "rwbridge:::rw_write_bag(%s, 'md5', list(), 1L, FALSE, pause_at = 6L, pause_file = %s, exclude = %s)",
    deparse(dir), deparse(pause), paste(deparse(patterns), collapse = "")
  ))
  wait_for(pause, child)
  child$kill()
  child$wait(10000)
  unlink(pause)
  expect_true(file.exists(file.path(dir, ".rwbridge-bag-journal")))
  expect_error(rwbridge:::rw_write_bag(dir, "md5", list(), 1L, FALSE, fail_at = 1,
                                       exclude = patterns), "step 1")
  expect_identical(tree_state(dir), before)
  # Step 14 is past the last: the bag is made (every step above was one).
  rwbridge:::rw_write_bag(dir, "md5", list(), 1L, FALSE, fail_at = 14, exclude = patterns)
  expect_true(attr(verify_bag(dir), "valid"))
  files <- all_files(dir)
  expect_identical(tree_state(dir)[files[left_out(files)]], before[files[left_out(files)]])
})

test_that("what exclude leaves in the way of data/ or a tag file, and bad globs, change nothing", {
  dir <- local_tree(c("data/x.tmp" = "scratch", "data/y" = "Y", "bagit.txt" = "mine", "a" = "A"))
  out <- local_tree()
  before <- tree_state(dir)
  expect_error(write_bag(dir, exclude = "*.tmp"), "'data/x.tmp'.*'data'",
               class = "rwbridge_value_error")
  expect_error(write_bag(dir, exclude = "/bagit.txt"), "'bagit.txt'",
               class = "rwbridge_value_error")
  for (bad in list("a{b", c("*.tmp", "[z-a]"), "x\\")) {
    expect_error(write_bag(dir, exclude = bad), "`exclude` holds", class = "rwbridge_value_error")
    expect_error(write_bag(dir, dest = file.path(out, "bag"), exclude = bad), "`exclude`",
                 class = "rwbridge_value_error")
  }
  for (bad in list(1, NA, c("a", NA), list("a"))) {
    expect_error(write_bag(dir, exclude = bad), "`exclude`", class = "rwbridge_type_error")
  }
  expect_identical(tree_state(dir), before)
  expect_identical(all_files(out), character())
  # With dest, nothing is in the way: what is left out is not copied.
  bag <- write_bag(dir, dest = file.path(out, "bag"), exclude = c("*.tmp", "/bagit.txt"))
  expect_identical(manifest_paths(bag), c("a", "data/y"))
  expect_identical(tree_state(dir), before)
  # verify_bag() and update_bag(): the same errors, the bag unchanged.
  bag_before <- tree_state(bag)
  expect_error(verify_bag(bag, exclude = "a{b"), "`exclude` holds", class = "rwbridge_value_error")
  expect_error(verify_bag(bag, exclude = "a{b", fast = TRUE), class = "rwbridge_value_error")
  expect_error(verify_bag(bag, exclude = 2), "`exclude`", class = "rwbridge_type_error")
  expect_error(update_bag(bag, exclude = "[z-a]"), "`exclude` holds",
               class = "rwbridge_value_error")
  expect_error(update_bag(bag, exclude = NA), "`exclude`", class = "rwbridge_type_error")
  expect_identical(tree_state(bag), bag_before)
})

# A bag written by hand (not by write_bag()), with a Payload-Oxum, then
# files an operating system or a program adds to data/ afterwards.
bag_with_additions <- function(env = parent.frame()) {
  files <- c("a.txt" = "alpha\n", "sub/b.csv" = "1,2\n", "keep.tmp" = "listed, and a tmp\n")
  dir <- hand_bag(files, env = env)
  put(dir, "bag-info.txt", sprintf("Payload-Oxum: %d.%d\n", sum(nchar(files, "bytes")),
                                   length(files)))
  put(dir, "data/.DS_Store", "finder\n")
  put(dir, "data/sub/.DS_Store", "finder\n")
  put(dir, "data/sub/run.tmp", "scratch\n")
  put(dir, "data/cache/x", "cached\n")
  dir
}

test_that("verify_bag(exclude =) ignores unlisted files the patterns match, and only those", {
  dir <- bag_with_additions()
  # Without exclude: not valid, every addition reported, and doubted.
  expect_warning(plain <- verify_bag(dir), class = "rwbridge_bag_warning")
  expect_false(attr(plain, "valid"))
  expect_setequal(plain$file[plain$status == "extra"],
                  c("data/.DS_Store", "data/sub/.DS_Store", "data/sub/run.tmp", "data/cache/x"))
  expect_true("oxum" %in% attr(plain, "problems")$code)
  # With exclude: valid, silent, no row for them; the Oxum counts the rest.
  result <- expect_silent(verify_bag(dir, exclude = patterns))
  expect_true(attr(result, "valid"))
  # (Rows in manifest order: as hand_bag() wrote the lines.)
  expect_identical(result$file, c("data/a.txt", "data/sub/b.csv", "data/keep.tmp"))
  expect_identical(result$status, rep("ok", 3))
  expect_identical(nrow(attr(result, "doubts")), 0L)
  # The same for fast = TRUE, which only compares names and sizes.
  expect_false(suppressWarnings(attr(verify_bag(dir, fast = TRUE), "valid")))
  expect_true(attr(expect_silent(verify_bag(dir, fast = TRUE, exclude = patterns)), "valid"))
  # Patterns that leave only some out: the rest is still reported.
  partial <- suppressWarnings(verify_bag(dir, exclude = c("*.tmp", "cache/")))
  expect_false(attr(partial, "valid"))
  expect_setequal(partial$file[partial$status == "extra"], c("data/.DS_Store", "data/sub/.DS_Store"))
  # Anchored at data/: "/run.tmp" is data/run.tmp only, not data/sub/run.tmp.
  anchored <- suppressWarnings(verify_bag(dir, exclude = c("/run.tmp", "/sub/.DS_Store")))
  expect_setequal(anchored$file[anchored$status == "extra"],
                  c("data/.DS_Store", "data/sub/run.tmp", "data/cache/x"))
})

test_that("a listed file a pattern matches is checked as always", {
  dir <- bag_with_additions()
  put(dir, "data/keep.tmp", "listed, and DAMAGED\n")
  result <- verify_bag(dir, exclude = patterns)
  expect_false(attr(result, "valid"))
  expect_identical(result$status[result$file == "data/keep.tmp"], "mismatch")
  expect_true(all(c("mismatch", "oxum") %in% attr(result, "problems")$code))
  unlink(file.path(dir, "data/keep.tmp"))
  result <- verify_bag(dir, exclude = patterns)
  expect_identical(result$status[result$file == "data/keep.tmp"], "missing")
  expect_false(attr(result, "valid"))
})

test_that("verify_bag(exclude =) gives the same result for a serialized bag", {
  skip_on_os("windows")
  dir <- bag_with_additions()
  expected <- verify_bag(dir, exclude = patterns)
  out <- local_tree()
  for (kind in c("zip", "tar", "tar.gz")) {
    if (kind == "zip" && !nzchar(Sys.which("zip"))) next
    archive <- serialize_bag(dir, file.path(out, paste0("bag.", kind)))
    got <- expect_silent(verify_bag(archive, exclude = patterns))
    attr(got, "bag") <- dir
    expect_identical(got, expected, label = kind)
    expect_false(suppressWarnings(attr(verify_bag(archive), "valid")), label = kind)
    got_fast <- expect_silent(verify_bag(archive, fast = TRUE, exclude = patterns))
    expect_true(attr(got_fast, "valid"), label = kind)
  }
})

test_that("verify_bag(exclude =, shards =) gives exactly the local result", {
  skip_on_cran()
  skip_on_os("windows")
  skip_if_not_installed("future")
  dir <- bag_with_additions()
  put(dir, "data/keep.tmp", "listed, and DAMAGED\n")
  local <- verify_bag(dir, exclude = patterns)
  old <- future::plan(future::sequential)
  withr::defer(future::plan(old))
  for (shards in c(1, 3)) {
    expect_identical(verify_bag(dir, exclude = patterns, shards = shards), local)
  }
  future::plan(future::multisession, workers = 2)
  expect_identical(verify_bag(dir, exclude = patterns, shards = 2), local)
  # The files left out are not even planned for the workers.
  planned <- vapply(rwbridge:::bag_plan_(dir, patterns)$path, rawToChar, "")
  expect_setequal(planned, c("data/a.txt", "data/keep.tmp", "data/sub/b.csv"))
  expect_error(verify_bag(dir, exclude = "a{b", shards = 2), class = "rwbridge_value_error")
})

test_that("write_bag() and verify_bag() with the same exclude agree", {
  dir <- exclude_tree()
  write_bag(dir, exclude = patterns, threads = 2)
  # What a Mac and a program add later, in data/.
  put(dir, "data/.DS_Store", "finder\n")
  put(dir, "data/sub/new.tmp", "scratch\n")
  expect_false(suppressWarnings(attr(verify_bag(dir), "valid")))
  expect_true(attr(expect_silent(verify_bag(dir, exclude = patterns)), "valid"))
})

test_that("update_bag(exclude =) leaves the matching payload files out of the manifests", {
  dir <- bag_with_additions()
  put(dir, "data/new.txt", "a new file\n")
  before <- tree_state(dir)
  update_bag(dir, exclude = patterns)
  # Nothing in data/ moved or changed: only tag files were rewritten.
  after <- tree_state(dir)
  payload <- grep("^data/", names(before), value = TRUE)
  expect_identical(after[payload], before[payload])
  listed <- manifest_paths(dir)
  files <- all_files(file.path(dir, "data"))
  expect_identical(listed, sort(files[!left_out(files)]))
  expect_false("keep.tmp" %in% listed)
  expect_true(attr(expect_silent(verify_bag(dir, exclude = patterns)), "valid"))
  expect_false(suppressWarnings(attr(verify_bag(dir), "valid")))
  info <- readLines(file.path(dir, "bag-info.txt"))
  kept <- files[!left_out(files)]
  oxum <- sprintf("Payload-Oxum: %.0f.%d", sum(file.size(file.path(dir, "data", kept))),
                  length(kept))
  expect_true(oxum %in% info)
  # Once the left-out files are gone, bagit-python agrees.
  skip_without_bagit_python()
  unlink(file.path(dir, "data", files[left_out(files)]))
  expect_identical(bagit_python_validate(dir), "VALID")
})
