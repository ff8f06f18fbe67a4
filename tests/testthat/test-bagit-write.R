# write_bag() at a new place, update_bag(), and write_bag() killed, run
# twice at once, or racing a file that changes: nothing lost, every bag
# returned valid. Child R processes are stopped with SIGKILL at known steps
# (the test hook `pause_at` makes a step wait until its file is removed).

# A tree whose files all differ, so that each can be found by its content.
original_tree <- function(env = parent.frame()) {
  dir <- local_tree(c(a = "file a", "b/c" = "file c", "b/d/e" = "file e", data = "named data",
                      .hidden = "hidden file"), env = env)
  dir.create(file.path(dir, "empty"))
  dir
}

# write_bag(dest =) -------------------------------------------------------------

test_that("write_bag(dest =) makes the bag there from a copy and leaves `dir` alone", {
  dir <- original_tree()
  before <- tree_state(dir)
  out <- local_tree()
  dest <- file.path(out, "the-bag")
  returned <- withVisible(write_bag(dir, dest = dest, info = list("Contact-Name" = "Ada")))
  expect_false(returned$visible)
  expect_identical(returned$value, dest)
  expect_identical(tree_state(dir), before)
  expect_identical(list.files(out, all.files = TRUE, no.. = TRUE), "the-bag")
  expect_true(dir.exists(file.path(dest, "data", "empty")))
  # The payload is the tree, byte for byte (base R's md5sum as the oracle).
  copied <- tree_state(file.path(dest, "data"))
  expect_identical(copied, before)
  result <- expect_silent(verify_bag(dest))
  expect_true(attr(result, "valid"))
  expect_identical(attr(result, "info")$`Contact-Name`, "Ada")
  skip_on_cran()
  skip_without_bagit_python()
  expect_identical(bagit_python_validate(dest), "VALID")
})

test_that("write_bag(dest =) refuses a dest that exists, or inside dir, writing nothing", {
  dir <- original_tree()
  out <- local_tree(c("taken/file" = "x"))
  dir.create(file.path(out, "empty-dir"))
  before <- list(tree_state(dir), tree_state(out))
  for (dest in file.path(out, c("taken", "empty-dir", "taken/file"))) {
    expect_error(write_bag(dir, dest = dest), "it exists", class = "rwbridge_io_error")
  }
  expect_error(write_bag(dir, dest = file.path(out, "no", "such")), "parent directory does not exist",
               class = "rwbridge_io_error")
  expect_error(write_bag(dir, dest = file.path(dir, "b", "bag")), "inside `dir`",
               class = "rwbridge_value_error")
  expect_error(write_bag(dir, dest = 1), "`dest`", class = "rwbridge_type_error")
  expect_error(write_bag(dir, dest = c("a", "b")), "`dest`", class = "rwbridge_type_error")
  expect_error(write_bag(file.path(dir, "nope"), dest = file.path(out, "x")), class = "rwbridge_io_error")
  expect_identical(list(tree_state(dir), tree_state(out)), before)
  # Each step failing leaves nothing at dest, nor beside it.
  for (step in 1:9) {
    expect_error(rwbridge:::rw_write_bag(dir, c("md5", "sha1"), list(), 1L, FALSE, fail_at = step,
                                         dest = file.path(out, "bag")),
                 sprintf("step %d", step), class = "rwbridge_io_error")
    expect_identical(list(tree_state(dir), tree_state(out)), before, label = sprintf("step %d", step))
  }
})

# update_bag() ------------------------------------------------------------------

test_that("update_bag() rewrites the manifests and the Oxum, keeping every other line", {
  dir <- original_tree()
  write_bag(dir, info = list("Bagging-Date" = "2001-02-03", "Contact-Name" = "Ada",
                             "External-Description" = "two\nlines"))
  info_before <- readLines(file.path(dir, "bag-info.txt"))
  put(dir, "extra-tag.txt", "a tag file of my own\n")
  unlink(file.path(dir, "data", "a"))
  put(dir, "data/b/c", "file c, edited")
  put(dir, "data/new", "a new file")
  expect_false(suppressWarnings(attr(verify_bag(dir), "valid")))
  returned <- withVisible(update_bag(dir))
  expect_false(returned$visible)
  expect_identical(returned$value, dir)
  result <- expect_silent(verify_bag(dir))
  expect_true(attr(result, "valid"))
  info <- readLines(file.path(dir, "bag-info.txt"))
  sizes <- file.size(list.files(file.path(dir, "data"), recursive = TRUE, all.files = TRUE,
                                full.names = TRUE))
  oxum <- sprintf("Payload-Oxum: %d.%d", sum(sizes), length(sizes))
  expect_identical(info, sub("^Payload-Oxum: .*", oxum, info_before))
  tags <- readLines(file.path(dir, "tagmanifest-sha256.txt"))
  expect_true(any(grepl("  extra-tag.txt$", tags)))
  # The manifests, checked with digest::digest().
  lines <- readLines(file.path(dir, "manifest-sha512.txt"))
  expect_true(paste0(digest_of("a new file", "sha512"), "  data/new") %in% lines)
  expect_false(any(grepl("  data/a$", lines)))
})

test_that("update_bag() does what bagit-python's save(manifests=True) does", {
  skip_on_cran()
  skip_without_bagit_python()
  ours <- original_tree()
  run_python("import sys, bagit; bagit.make_bag(sys.argv[1], {'Contact-Name': 'Py'})", ours)
  theirs <- file.path(local_tree(), "copy")
  dir.create(theirs)
  file.copy(list.files(ours, full.names = TRUE, all.files = TRUE, no.. = TRUE), theirs,
            recursive = TRUE)
  for (bag in c(ours, theirs)) {
    put(bag, "data/new", "a new file")
    unlink(file.path(bag, "data", "a"))
  }
  update_bag(ours)
  out <- run_python("import sys, bagit; b = bagit.Bag(sys.argv[1]); b.save(manifests=True)", theirs)
  expect_identical(out$status, 0L)
  for (file in c("manifest-sha256.txt", "manifest-sha512.txt")) {
    expect_setequal(readLines(file.path(ours, file)), readLines(file.path(theirs, file)))
  }
  # Every bag-info field is the same, Bagging-Date kept by both.
  expect_setequal(readLines(file.path(ours, "bag-info.txt")),
                  readLines(file.path(theirs, "bag-info.txt")))
  expect_identical(bagit_python_validate(ours), "VALID")
  result <- expect_silent(verify_bag(ours))
  expect_true(attr(result, "valid"))
  expect_identical(attr(result, "version"), "0.97")
})

test_that("update_bag() refuses what it cannot update, and any failing step changes nothing", {
  dir <- local_tree(c(a = "A"))
  expect_error(update_bag(dir), "no bagit.txt", class = "rwbridge_io_error")
  expect_error(update_bag(file.path(dir, "nope")), class = "rwbridge_io_error")
  expect_error(update_bag(1), "`bag`", class = "rwbridge_type_error")
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE), "a")
  write_bag(dir, algo = c("md5", "sha1"))
  put(dir, "manifest-shake_128.txt", "")
  expect_error(update_bag(dir), "does not compute 'shake_128'", class = "rwbridge_io_error")
  unlink(file.path(dir, "manifest-shake_128.txt"))
  put(dir, "data/b", "B")
  before <- tree_state(dir)
  # Hashed, then 2 manifests, bag-info.txt and 2 tag manifests written.
  for (step in 1:6) {
    expect_error(rwbridge:::rw_update_bag(dir, 1L, FALSE, fail_at = step), sprintf("step %d", step),
                 class = "rwbridge_io_error")
    expect_identical(tree_state(dir), before, label = sprintf("step %d", step))
  }
})

# Killed, concurrent, changing ------------------------------------------------

test_that("write_bag() killed with SIGKILL at any step loses no file, and a rerun completes", {
  skip_on_os("windows")
  skip_on_cran()
  skip_if_not_installed("processx")
  # 5 top-level entries: hashed (1), journal (2), 5 moves (3-7), rename (8),
  # 6 tag files (9-14), the final check (15).
  for (step in c(1, 2, 3, 5, 8, 9, 12, 15)) {
    dir <- original_tree()
    want <- tree_state(dir)
    sums <- payload_sums(dir)
    pause <- tempfile()
    child <- start_child(paused_write(dir, step, pause))
    wait_for(pause, child)
    child$kill()
    child$wait(5000)
    unlink(pause)
    expect_identical(payload_sums(dir), sums, label = sprintf("files after a kill at step %d", step))
    if (step >= 2) {
      problems <- attr(suppressWarnings(verify_bag(dir)), "problems")
      expect_true("interrupted" %in% problems$code, label = sprintf("step %d", step))
    }
    write_bag(dir)
    result <- expect_silent(verify_bag(dir))
    expect_true(attr(result, "valid"), label = sprintf("rerun after step %d", step))
    expect_identical(tree_state(file.path(dir, "data")), want, label = sprintf("payload, step %d", step))
    expect_false(file.exists(file.path(dir, ".rwbridge-bag-journal")))
  }
})

test_that("write_bag(dest =) killed leaves nothing at dest; the next call makes the bag", {
  skip_on_os("windows")
  skip_on_cran()
  skip_if_not_installed("processx")
  dir <- original_tree()
  before <- tree_state(dir)
  out <- local_tree()
  dest <- file.path(out, "bag")
  pause <- tempfile()
  child <- start_child(paused_write(dir, 3, pause, dest = dest))
  wait_for(pause, child)
  child$kill()
  child$wait(5000)
  unlink(pause)
  expect_false(file.exists(dest))
  expect_identical(tree_state(dir), before)
  write_bag(dir, dest = dest)
  expect_true(attr(verify_bag(dest), "valid"))
  expect_identical(list.files(out, all.files = TRUE, no.. = TRUE), "bag")
})

test_that("update_bag() killed after its commit is completed by the next call", {
  skip_on_os("windows")
  skip_on_cran()
  skip_if_not_installed("processx")
  dir <- original_tree()
  write_bag(dir, algo = "md5")
  put(dir, "data/new", "new")
  pause <- tempfile()
  # Hashed (1), 3 files written (2-4), renames (5-7): killed mid-rename.
  child <- start_child(sprintf("rwbridge:::rw_update_bag(%s, 1L, FALSE, pause_at = 6L, pause_file = %s)",
                               deparse(dir), deparse(pause)))
  wait_for(pause, child)
  child$kill()
  child$wait(5000)
  unlink(pause)
  expect_true(file.exists(file.path(dir, ".rwbridge-bag-journal")))
  update_bag(dir)
  expect_true(attr(expect_silent(verify_bag(dir)), "valid"))
  expect_false(file.exists(file.path(dir, ".rwbridge-bag-journal")))
})

test_that("a second write_bag() on a directory being bagged fails at once; the first completes", {
  skip_on_os("windows")
  skip_on_cran()
  skip_if_not_installed("processx")
  dir <- original_tree()
  want <- tree_state(dir)
  pause <- tempfile()
  first <- start_child(paused_write(dir, 4, pause))
  wait_for(pause, first)
  out <- local_tree()
  for (call in c(sprintf("write_bag(%s)", deparse(dir)),
                 sprintf("write_bag(%s, dest = %s)", deparse(dir), deparse(file.path(out, "bag"))),
                 sprintf("update_bag(%s)", deparse(dir)))) {
    started <- Sys.time()
    second <- start_child(call)
    said <- child_result(second)
    expect_lt(as.numeric(Sys.time() - started, units = "secs"), 20)
    expect_match(said, "^rwbridge_io_error .*it is locked", label = call)
  }
  expect_identical(list.files(out), character())
  unlink(pause)
  expect_identical(child_result(first), "finished")
  result <- expect_silent(verify_bag(dir))
  expect_true(attr(result, "valid"))
  expect_identical(tree_state(file.path(dir, "data")), want)
})

test_that("two write_bag() calls to one dest: one fails at once, the other makes the bag", {
  skip_on_os("windows")
  skip_on_cran()
  skip_if_not_installed("processx")
  dir <- original_tree()
  dest <- file.path(local_tree(), "bag")
  pause <- tempfile()
  first <- start_child(paused_write(dir, 2, pause, dest = dest))
  wait_for(pause, first)
  second <- start_child(sprintf("write_bag(%s, dest = %s)", deparse(dir), deparse(dest)))
  expect_match(child_result(second), "^rwbridge_io_error .*it is locked")
  unlink(pause)
  expect_identical(child_result(first), "finished")
  expect_true(attr(verify_bag(dest), "valid"))
})

test_that("a file that changes or is truncated while it is bagged fails the call, restored", {
  skip_on_os("windows")
  skip_on_cran()
  skip_if_not_installed("processx")
  for (how in c("changed", "truncated", "copied")) {
    dir <- original_tree()
    pause <- tempfile()
    dest <- if (how == "copied") file.path(local_tree(), "bag")
    # Paused once every file is hashed (in place), or copied (dest).
    child <- start_child(paused_write(dir, 1, pause, dest = dest))
    wait_for(pause, child)
    if (how == "truncated") {
      close(file(file.path(dir, "b", "c"), "wb"))
    } else {
      put(dir, "b/c", "file c, changed while bagged")
    }
    after <- tree_state(dir)
    unlink(pause)
    said <- child_result(child)
    expect_match(said, "^rwbridge_io_error .*'b/c' changed while it was bagged", label = how)
    expect_identical(tree_state(dir), after, label = how)
    if (!is.null(dest)) expect_false(file.exists(dest))
    # Run again, the bag is made of what the file is now, and validates.
    write_bag(dir)
    expect_true(attr(verify_bag(dir), "valid"))
  }
})

test_that("when restoring fails too, the message names where the moved files are", {
  dir <- original_tree()
  want <- tree_state(dir)
  sums <- payload_sums(dir)
  err <- expect_error(rwbridge:::rw_write_bag(dir, "md5", list(), 1L, FALSE, fail_at = 10,
                                              fail_undo = TRUE),
                      class = "rwbridge_io_error")
  message <- conditionMessage(err)
  expect_match(message, "failure injected at step 10")
  expect_match(message, "restoring the directory failed too: failure injected while restoring")
  moved <- sub("^.*what was moved is in (.*), and the journal.*$", "\\1", message)
  expect_true(dir.exists(moved))
  expect_identical(dirname(moved), dir)
  expect_match(message, "the next write_bag\\(\\) or update_bag\\(\\) on this directory completes the restore\\.?$")
  expect_identical(payload_sums(dir), sums)
  expect_true("interrupted" %in% attr(suppressWarnings(verify_bag(dir)), "problems")$code)
  write_bag(dir)
  expect_true(attr(expect_silent(verify_bag(dir)), "valid"))
  expect_identical(tree_state(file.path(dir, "data")), want)
})
