# BagIt: verify_bag() against bags written by hand, one per rule of RFC 8493
# (and of the versions before it), write_bag() against an oracle, and both
# against bagit-python.

# The problems' codes of a bag, warnings of doubt muffled.
problem_codes <- function(dir, ...) {
  result <- suppressWarnings(verify_bag(dir, ...))
  attr(result, "problems")$code
}

test_that("a bag written by hand from the RFC is valid, and the result has its shape", {
  dir <- hand_bag(c(a.txt = "alpha", "sub/b.bin" = "beta"))
  put(dir, "bag-info.txt", "Source-Organization: Lab\nContact-Name: A\nContact-Name: B\nPayload-Oxum: 9.2\n")
  tags <- c("bag-info.txt", "bagit.txt", "manifest-sha256.txt")
  put(dir, "tagmanifest-md5.txt", paste(vapply(tags, function(t) {
    manifest_line(readBin(file.path(dir, t), "raw", 1e4), t, "md5")
  }, ""), collapse = ""))
  result <- expect_silent(verify_bag(dir))
  expect_s3_class(result, c("rwbridge_bag_verification", "rwbridge_verification", "data.frame"),
                  exact = TRUE)
  expect_identical(names(result),
                   c("line", "file", "algo", "expected", "actual", "status", "manifest"))
  expect_true(attr(result, "valid"))
  expect_identical(nrow(attr(result, "problems")), 0L)
  expect_identical(names(attr(result, "problems")), c("code", "message"))
  expect_identical(attr(result, "info"), list(
    "Source-Organization" = "Lab", "Contact-Name" = c("A", "B"), "Payload-Oxum" = "9.2"
  ))
  expect_identical(attr(result, "version"), "1.0")
  expect_identical(attr(result, "encoding"), "UTF-8")
  expect_identical(result$status, rep("ok", 5))
  expect_identical(result$manifest, rep(c("manifest-sha256.txt", "tagmanifest-md5.txt"), c(2, 3)))
  expect_identical(result$algo, rep(c("sha256", "md5"), c(2, 3)))
  expect_identical(result$file, c("data/a.txt", "data/sub/b.bin", tags))
  expect_identical(result$line, c(1:2, 1:3))
  expect_identical(result$actual[1], digest_of("alpha"))
  expect_output(print(result), "valid \\(BagIt 1.0\\)\n  5 rows from 2 manifests: ok 5")
})

test_that("every version from 0.93 to 1.0 is read by its own rules", {
  for (version in c("0.93", "0.94", "0.95", "0.96", "0.97", "1.0")) {
    dir <- hand_bag(version = version)
    result <- expect_silent(verify_bag(dir))
    expect_true(attr(result, "valid"), label = version)
  }
  # Blanks around the colon: accepted before 1.0 (the conformance suite's
  # valid bags have them: not even doubtful), a problem in 1.0.
  loose <- "BagIt-Version : 0.97\nTag-File-Character-Encoding:UTF-8\n"
  dir <- hand_bag(version = "0.97")
  put(dir, "bagit.txt", loose)
  put(dir, "bag-info.txt", "Contact-Name :  Ada\n")
  result <- expect_silent(verify_bag(dir))
  expect_true(attr(result, "valid"))
  expect_identical(attr(result, "info")$`Contact-Name`, "Ada")
  put(dir, "bagit.txt", sub("0.97", "1.0", loose))
  expect_identical(problem_codes(dir), c("declaration", "declaration", "bag_info"))
  # Before 0.96 the metadata file is package-info.txt.
  dir <- hand_bag(version = "0.95")
  put(dir, "package-info.txt", "Payload-Oxum: 1.1\n")
  expect_identical(attr(verify_bag(dir), "info"), list("Payload-Oxum" = "1.1"))
})

# One bag per rule: each case damages a valid bag in one way, and names the
# one problem code it must give.
rule_cases <- list(
  no_declaration = list(code = "declaration", damage = function(d) unlink(file.path(d, "bagit.txt"))),
  bom = list(code = "declaration", damage = function(d) {
    put(d, "bagit.txt", c(as.raw(c(0xef, 0xbb, 0xbf)),
                          charToRaw("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")))
  }),
  swapped_lines = list(code = "declaration", damage = function(d) {
    put(d, "bagit.txt", "Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n")
  }),
  third_line = list(code = "declaration", damage = function(d) {
    put(d, "bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\nX: y\n")
  }),
  no_blank_after_colon = list(code = "declaration", damage = function(d) {
    put(d, "bagit.txt", "BagIt-Version:1.0\nTag-File-Character-Encoding: UTF-8\n")
  }),
  unknown_version = list(code = "version", damage = function(d) {
    put(d, "bagit.txt", "BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n")
  }),
  unread_encoding = list(code = "encoding", damage = function(d) {
    put(d, "bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-32\n")
  }),
  invalid_utf8 = list(code = "encoding", damage = function(d) {
    put(d, "bag-info.txt", as.raw(c(charToRaw("Contact-Name: Jos"), 0xe9, 0x0a)))
  }),
  no_payload_manifest = list(code = "structure", damage = function(d) {
    file.rename(file.path(d, "manifest-sha256.txt"), file.path(d, "tagmanifest-sha256.txt"))
    put(d, "tagmanifest-sha256.txt", manifest_line("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", "bagit.txt"))
  }),
  no_data = list(code = c("structure", "missing"), damage = function(d) {
    unlink(file.path(d, "data"), recursive = TRUE)
  }),
  bad_line = list(code = "manifest", damage = function(d) {
    put(d, "manifest-sha256.txt", paste0(manifest_line("X", "data/x"), "not a line\n"))
  }),
  short_checksum = list(code = "manifest", damage = function(d) {
    put(d, "manifest-sha256.txt", paste0(manifest_line("X", "data/x"), "abcd  data/x\n"))
  }),
  bare_percent = list(code = c("manifest", "unlisted"), files = c(x = "X", "50%" = "P"),
                      damage = function(d) {
    put(d, "manifest-sha256.txt", paste0(manifest_line("X", "data/x"), manifest_line("P", "data/50%")))
  }),
  unknown_algorithm = list(code = "algorithm", damage = function(d) {
    put(d, "manifest-shake_128.txt", paste0(strrep("a", 64), "  data/x\n"))
  }),
  parent_path = list(code = "outside", damage = function(d) {
    put(d, "manifest-sha256.txt", paste0(manifest_line("X", "data/x"), manifest_line("X", "data/../../x")))
  }),
  absolute_path = list(code = "outside", damage = function(d) {
    put(d, "manifest-sha256.txt", paste0(manifest_line("X", "data/x"), manifest_line("X", "/etc/hostname")))
  }),
  tag_file_in_payload_manifest = list(code = "outside", damage = function(d) {
    put(d, "manifest-sha256.txt", paste0(manifest_line("X", "data/x"), manifest_line("", "bagit.txt")))
  }),
  payload_in_tag_manifest = list(code = "outside", damage = function(d) {
    put(d, "tagmanifest-sha256.txt", manifest_line("X", "data/x"))
  }),
  duplicate_line = list(code = "duplicate", damage = function(d) {
    put(d, "manifest-sha256.txt", strrep(manifest_line("X", "data/x"), 2))
  }),
  bag_info_line = list(code = "bag_info", damage = function(d) {
    put(d, "bag-info.txt", "Contact-Name Ada\n")
  }),
  fetch_url = list(code = "fetch", damage = function(d) {
    put(d, "fetch.txt", "example.org/x 1 data/x\n")
  }),
  fetch_unlisted = list(code = "fetch", damage = function(d) {
    put(d, "fetch.txt", "https://example.org/y 1 data/y\n")
  }),
  oxum = list(code = "oxum", damage = function(d) put(d, "bag-info.txt", "Payload-Oxum: 2.1\n")),
  oxum_form = list(code = "oxum", damage = function(d) put(d, "bag-info.txt", "Payload-Oxum: 1\n")),
  missing = list(code = "missing", damage = function(d) unlink(file.path(d, "data", "x"))),
  unlisted = list(code = "unlisted", damage = function(d) put(d, "data/new", "N")),
  not_in_every_manifest = list(code = "unlisted", files = c(x = "X", y = "Y"), damage = function(d) {
    put(d, "manifest-md5.txt", manifest_line("X", "data/x", "md5"))
  }),
  mismatch = list(code = "mismatch", damage = function(d) put(d, "data/x", "Z")),
  tag_mismatch = list(code = "mismatch", damage = function(d) {
    put(d, "tagmanifest-sha256.txt", manifest_line("something else", "bagit.txt"))
  })
)

test_that("each rule of RFC 8493 has a bag that breaks it, and only it", {
  for (name in names(rule_cases)) {
    case <- rule_cases[[name]]
    dir <- hand_bag(if (is.null(case$files)) c(x = "X") else case$files)
    expect_identical(problem_codes(dir), character(), label = paste(name, "before"))
    case$damage(dir)
    result <- suppressWarnings(verify_bag(dir))
    expect_identical(attr(result, "problems")$code, case$code, label = name)
    expect_false(attr(result, "valid"), label = name)
  }
})

test_that("a FIFO or a link leading outside is never read", {
  skip_on_os("windows")
  outside <- local_tree(c(secret = "S"))
  dir <- hand_bag(c(x = "X"))
  file.symlink(file.path(outside, "secret"), file.path(dir, "data", "link"))
  make_fifo(file.path(dir, "data", "pipe"))
  put(dir, "manifest-sha256.txt", paste0(
    manifest_line("X", "data/x"), manifest_line("S", "data/link"), manifest_line("", "data/pipe")
  ))
  elapsed <- system.time(result <- verify_bag(dir))[["elapsed"]]
  expect_lt(elapsed, 2)
  expect_identical(result$status, c("ok", "refused", "unreadable"))
  expect_identical(result$actual[2:3], c(NA_character_, NA_character_))
  expect_identical(attr(result, "problems")$code, c("outside", "outside", "unreadable"))
})

test_that("names are percent-decoded in 1.0 and taken as written before", {
  skip_on_os("windows")
  dir <- hand_bag(c("a\nb" = "1", "50%" = "2"))
  put(dir, "manifest-sha256.txt",
      paste0(manifest_line("1", "data/a%0Ab"), manifest_line("2", "data/50%25")))
  result <- verify_bag(dir)
  expect_true(attr(result, "valid"))
  expect_identical(result$file, c("data/a\nb", "data/50%"))
  old <- hand_bag(c("50%25" = "2"), version = "0.97")
  expect_true(attr(verify_bag(old), "valid"))
})

test_that("files listed in fetch.txt may be absent", {
  dir <- hand_bag(c(x = "X", far = "FF"))
  unlink(file.path(dir, "data", "far"))
  put(dir, "fetch.txt", "https://example.org/far 2 data/far\n")
  put(dir, "bag-info.txt", "Payload-Oxum: 3.2\n")
  result <- verify_bag(dir)
  expect_true(attr(result, "valid"))
  expect_identical(result$status, c("ok", "unfetched"))
})

test_that("doubtful but valid things give one warning of class rwbridge_bag_warning", {
  dir <- hand_bag(c(x = "X", y = "Y", README = "R", readme = "r"))
  put(dir, "manifest-sha256.txt", paste0(
    manifest_line("X", "./data/x"), digest_of("Y"), " *data/y\n",
    manifest_line("R", "data/README"), manifest_line("r", "data/readme")
  ))
  warnings <- list()
  result <- withCallingHandlers(
    verify_bag(dir),
    warning = function(w) {
      warnings[[length(warnings) + 1]] <<- w
      invokeRestart("muffleWarning")
    }
  )
  expect_length(warnings, 1)
  expect_s3_class(warnings[[1]], "rwbridge_bag_warning")
  expect_match(conditionMessage(warnings[[1]]), "3 doubtful points")
  expect_true(attr(result, "valid"))
  expect_identical(attr(result, "doubts")$code, c("names", "star", "dot_slash"))
  expect_identical(result$file[1:2], c("./data/x", "data/y"))
  # Duplicate lines with the same digest: doubtful before 1.0 only.
  old <- hand_bag(version = "0.97")
  put(old, "manifest-sha256.txt", strrep(manifest_line("X", "data/x"), 2))
  expect_warning(result <- verify_bag(old), "listed again", class = "rwbridge_bag_warning")
  expect_true(attr(result, "valid"))
})

test_that("fast = TRUE checks structure, completeness and the Oxum, hashing nothing", {
  dir <- hand_bag(c(x = "XX", y = "Y"))
  put(dir, "bag-info.txt", "Payload-Oxum: 3.2\n")
  put(dir, "data/x", "ZZ")
  fast <- verify_bag(dir, fast = TRUE)
  expect_true(attr(fast, "valid"))
  expect_identical(fast$status, c("present", "present"))
  expect_true(all(is.na(fast$actual)))
  expect_identical(problem_codes(dir), "mismatch")
  put(dir, "data/x", "ZZZ")
  expect_identical(problem_codes(dir, fast = TRUE), "oxum")
  unlink(file.path(dir, "data", "y"))
  put(dir, "bag-info.txt", "Payload-Oxum: 3.1\n")
  expect_identical(problem_codes(dir, fast = TRUE), "missing")
})

test_that("error = TRUE signals rwbridge_verify_error naming every problem", {
  dir <- hand_bag(c(x = "X", y = "Y"))
  put(dir, "data/x", "changed")
  unlink(file.path(dir, "data", "y"))
  err <- expect_error(verify_bag(dir, error = TRUE), class = "rwbridge_verify_error")
  expect_s3_class(err, "rwbridge_error")
  expect_match(conditionMessage(err), "is not valid: 2 problems: .*'data/x'.*'data/y' is missing")
  expect_s3_class(err$result, "rwbridge_bag_verification")
  expect_identical(err$result$status, c("mismatch", "missing"))
  expect_output(print(err$result), "NOT VALID.*2 problems:\n  \\[mismatch\\]")
  # A valid bag passes quietly.
  expect_silent(verify_bag(hand_bag(), error = TRUE))
})

test_that("checking a bag never changes it", {
  skip_on_os("windows")
  dir <- hand_bag(c(x = "X", "sub/y" = "Y"))
  put(dir, "bag-info.txt", "Payload-Oxum: 2.2\n")
  put(dir, "data/extra", "E")
  put(dir, "fetch.txt", "nonsense\n")
  make_fifo(file.path(dir, "data", "pipe"))
  before <- tree_state(dir)
  for (fast in c(FALSE, TRUE)) {
    suppressWarnings(verify_bag(dir, fast = fast))
    try(suppressWarnings(verify_bag(dir, fast = fast, error = TRUE)), silent = TRUE)
  }
  made <- local_tree(c(a = "A", "b/c" = "C"))
  write_bag(made)
  before_made <- tree_state(made)
  verify_bag(made)
  expect_identical(tree_state(dir), before)
  expect_identical(tree_state(made), before_made)
  committed <- test_path("fixtures", "bags", "rfc-1.0")
  before_fixture <- tree_state(committed)
  expect_true(attr(verify_bag(committed), "valid"))
  expect_identical(tree_state(committed), before_fixture)
})

test_that("bad arguments and a missing bag are classed errors", {
  expect_error(verify_bag(1), "`bag`", class = "rwbridge_type_error")
  expect_error(verify_bag(c("a", "b")), class = "rwbridge_type_error")
  expect_error(verify_bag("x", fast = NA), "`fast`", class = "rwbridge_type_error")
  expect_error(verify_bag("x", error = "yes"), "`error`", class = "rwbridge_type_error")
  expect_error(verify_bag("x", threads = 0), "`threads`", class = "rwbridge_value_error")
  expect_error(verify_bag("x", progress = 1), "`progress`", class = "rwbridge_type_error")
  missing_dir <- file.path(withr::local_tempdir(), "no-such-bag")
  err <- expect_error(verify_bag(missing_dir), class = "rwbridge_io_error")
  expect_match(conditionMessage(err), "no-such-bag': No such file or directory")
  file <- withr::local_tempfile()
  writeit("x", file)
  expect_error(verify_bag(file), "neither a directory nor a serialized bag",
               class = "rwbridge_io_error")
  # A directory that is not a bag is not an error: it is not valid.
  expect_identical(problem_codes(withr::local_tempdir()),
                   c("declaration", "structure", "structure"))
})

test_that("every wrong type of every argument is a classed error, never a crash", {
  wrong <- list(
    NULL = NULL, logical = TRUE, integer = 1L, double = 1.5, complex = 1i,
    character2 = c("a", "b"), list = list(1), "function" = identity,
    environment = globalenv(), raw = as.raw(1), factor = factor("a"),
    data_frame = data.frame(a = 1), na_logical = NA, na_character = NA_character_,
    character0 = character(), list0 = list()
  )
  dir <- hand_bag()
  calls <- list(
    bag = function(v) verify_bag(v), fast = function(v) verify_bag(dir, fast = v),
    threads = function(v) verify_bag(dir, threads = v),
    progress = function(v) verify_bag(dir, progress = v),
    error = function(v) verify_bag(dir, error = v),
    dir = function(v) write_bag(v), algo = function(v) write_bag(dir, algo = v),
    info = function(v) write_bag(dir, info = v),
    write_threads = function(v) write_bag(dir, threads = v),
    write_progress = function(v) write_bag(dir, progress = v)
  )
  # Values that are valid for an argument (write_bag() is never reached with
  # them here: another argument is wrong).
  valid <- list(fast = "logical", threads = c("NULL", "integer"), progress = c("NULL", "logical"),
                error = "logical", info = c("NULL", "list0", "character0"),
                write_threads = c("NULL", "integer"), write_progress = c("NULL", "logical"))
  before <- tree_state(dir)
  for (call in names(calls)) {
    for (value in names(wrong)) {
      if (value %in% valid[[call]]) next
      result <- tryCatch(
        suppressWarnings(calls[[call]](wrong[[value]])),
        rwbridge_error = function(e) "classed",
        error = function(e) paste("unclassed:", conditionMessage(e))
      )
      expect_identical(result, "classed", label = paste(call, "<-", value))
    }
  }
  expect_identical(tree_state(dir), before)
})

# write_bag() ---------------------------------------------------------------

test_that("write_bag() makes a BagIt 1.0 bag that bagit's rules accept", {
  dir <- local_tree(c(a.txt = "alpha", "sub/b.bin" = "beta", data = "a file named data"))
  dir.create(file.path(dir, "empty"))
  returned <- withVisible(write_bag(dir, info = list("Source-Organization" = "Lab",
                                                    "Contact-Name" = c("A", "B"))))
  expect_false(returned$visible)
  expect_identical(returned$value, dir)
  expect_identical(
    sort(list.files(dir)),
    c("bag-info.txt", "bagit.txt", "data", "manifest-sha256.txt", "manifest-sha512.txt",
      "tagmanifest-sha256.txt", "tagmanifest-sha512.txt")
  )
  expect_true(dir.exists(file.path(dir, "data", "empty")))
  expect_identical(readLines(file.path(dir, "bagit.txt")),
                   c("BagIt-Version: 1.0", "Tag-File-Character-Encoding: UTF-8"))
  # The manifests checked with digest::digest(), not with rwbridge.
  for (algo in c("sha256", "sha512")) {
    lines <- readLines(file.path(dir, sprintf("manifest-%s.txt", algo)))
    paths <- c("data/a.txt", "data/data", "data/sub/b.bin")
    want <- vapply(file.path(dir, paths), digest::digest, "", algo = algo, file = TRUE)
    expect_identical(lines, paste0(unname(want), "  ", paths))
  }
  info <- readLines(file.path(dir, "bag-info.txt"))
  expect_identical(info, c(
    paste("Bag-Software-Agent: rwbridge", getNamespaceVersion("rwbridge")),
    paste("Bagging-Date:", format(Sys.Date())),
    "Contact-Name: A", "Contact-Name: B", "Payload-Oxum: 26.3", "Source-Organization: Lab"
  ))
  tags <- readLines(file.path(dir, "tagmanifest-sha256.txt"))
  expect_identical(sub("^[0-9a-f]{64}  ", "", tags),
                   c("bag-info.txt", "bagit.txt", "manifest-sha256.txt", "manifest-sha512.txt"))
  result <- expect_silent(verify_bag(dir))
  expect_true(attr(result, "valid"))
  expect_identical(attr(result, "info")$`Contact-Name`, c("A", "B"))
})

test_that("write_bag() takes any algorithm, and info values with line breaks round-trip", {
  dir <- local_tree(c(a = "A"))
  write_bag(dir, algo = c("md5", "blake3", "md5"),
            info = list("External-Description" = "two\nlines", "Bagging-Date" = "2020-01-02",
                        "Payload-Oxum" = "1.999", "Bag-Count" = 1L))
  expect_true(all(file.exists(file.path(dir, c("manifest-md5.txt", "manifest-blake3.txt")))))
  expect_false(file.exists(file.path(dir, "manifest-sha256.txt")))
  info <- attr(verify_bag(dir), "info")
  expect_identical(info$`External-Description`, "two\nlines")
  expect_identical(info$`Bagging-Date`, "2020-01-02")
  expect_identical(info$`Payload-Oxum`, "1.1")
  expect_identical(info$`Bag-Count`, "1")
})

test_that("write_bag() restores the directory when any step fails", {
  dir <- local_tree(c(a = "A", "b/c" = "C", bagit.txt = "not a bag yet", .hidden = "H"))
  dir.create(file.path(dir, "empty"))
  before <- tree_state(dir)
  # Hashed, the journal, 5 moves, the rename to data/, 2 payload
  # manifests, bagit.txt, bag-info.txt, 2 tag manifests, the final check:
  # 15 steps.
  for (step in 1:15) {
    err <- expect_error(rwbridge:::rw_write_bag(dir, c("sha256", "sha512"), list(), 2L, FALSE,
                                                fail_at = step),
                        class = "rwbridge_io_error")
    expect_match(conditionMessage(err), sprintf("failure injected at step %d", step))
    expect_identical(tree_state(dir), before, label = sprintf("after a failure at step %d", step))
  }
  write_bag(dir)
  expect_true(attr(verify_bag(dir), "valid"))
})

test_that("write_bag() leaves the directory untouched when a file cannot be read", {
  skip_on_os("windows")
  dir <- local_tree(c(a = "A"))
  make_fifo(file.path(dir, "pipe"))
  before <- tree_state(dir)
  expect_error(write_bag(dir), "not a regular file", class = "rwbridge_io_error")
  expect_identical(tree_state(dir), before)
  dir <- local_tree(c(a = "A", b = "B"))
  file.symlink("a", file.path(dir, "link"))
  before <- tree_state(dir)
  expect_error(write_bag(dir), "symbolic link", class = "rwbridge_io_error")
  expect_identical(tree_state(dir), before)
  if (!is_root()) {
    dir <- local_tree(c(a = "A", secret = "S"))
    Sys.chmod(file.path(dir, "secret"), "000")
    before <- tree_state(dir)
    expect_error(write_bag(dir), "Permission denied", class = "rwbridge_io_error")
    Sys.chmod(file.path(dir, "secret"), "644")
    expect_identical(tree_state(dir), before)
  }
})

test_that("write_bag() refuses bad arguments with classed errors", {
  dir <- local_tree(c(a = "A"))
  expect_error(write_bag(1), "`dir`", class = "rwbridge_type_error")
  expect_error(write_bag(dir, algo = "crc32"), "\"crc32\"", class = "rwbridge_value_error")
  expect_error(write_bag(dir, algo = character()), "`algo`", class = "rwbridge_type_error")
  expect_error(write_bag(dir, algo = NA_character_), "`algo`", class = "rwbridge_type_error")
  expect_error(write_bag(dir, info = "x"), "`info`", class = "rwbridge_type_error")
  expect_error(write_bag(dir, info = list(1)), "`info`", class = "rwbridge_type_error")
  expect_error(write_bag(dir, info = list("A:B" = "x")), "\"A:B\"", class = "rwbridge_value_error")
  expect_error(write_bag(dir, info = list(" A" = "x")), class = "rwbridge_value_error")
  expect_error(write_bag(dir, info = list(A = NA)), "`info\\$A`", class = "rwbridge_value_error")
  expect_error(write_bag(dir, info = list(A = list("x"))), class = "rwbridge_value_error")
  expect_error(write_bag(dir, threads = "2"), "`threads`", class = "rwbridge_type_error")
  expect_error(write_bag(file.path(dir, "nope")), "No such file", class = "rwbridge_io_error")
  dir.create(file.path(dir, "sub"))
  withr::with_dir(file.path(dir, "sub"), expect_error(write_bag(dir), "working directory",
                                                      class = "rwbridge_value_error"))
  expect_identical(list.files(dir), c("a", "sub"))
})

# Confined under races, the right file for every name, input quoted short ---

test_that("a directory swapped for a link outside while verify_bag() runs is never read through", {
  skip_on_os("windows")
  skip_on_cran()
  skip_if_not_installed("processx")
  bag <- hand_bag(c("sub/f" = "inside"))
  top <- local_tree(c("elsewhere/f" = "OUTSIDE"))
  links <- sprintf("abs%03d", 1:200)
  for (link in links) file.symlink(file.path(bag, "data", "sub", "f"), file.path(bag, "data", link))
  put(bag, "manifest-sha256.txt",
      paste0(manifest_line("inside", "data/sub/f"),
             paste(manifest_line("inside", paste0("data/", links)), collapse = "")))
  expect_true(attr(verify_bag(bag), "valid"))
  outside <- digest_of("OUTSIDE")
  local_swapper(file.path(bag, "data", "sub"), file.path(top, "elsewhere"))
  leaked <- 0L
  seen <- character()
  for (i in 1:50) {
    result <- suppressWarnings(verify_bag(bag))
    leaked <- leaked + sum(result$actual == outside, na.rm = TRUE)
    seen <- union(seen, result$status[result$line %in% 2:201])
  }
  expect_identical(leaked, 0L)
  expect_true(all(seen %in% c("ok", "missing", "refused")))
  expect_true(all(c("ok", "refused") %in% seen))
})

test_that("write_bag() bags the directory its name's bytes name", {
  skip_unless_byte_names()
  top <- local_tree(c("dir<e9>/decoy" = "decoy"))
  dir <- paste0(top, "/dir\xe9")
  dir.create(dir)
  writeBin(charToRaw("real"), paste0(dir, "/real"))
  expect_identical(write_bag(dir, algo = "sha256"), dir)
  expect_true(attr(verify_bag(dir), "valid"))
  expect_setequal(list.files(dir), c("bagit.txt", "bag-info.txt", "data", "manifest-sha256.txt",
                                     "tagmanifest-sha256.txt"))
  expect_identical(list.files(file.path(top, "dir<e9>")), "decoy")
})

test_that("write_bag() info must be UTF-8: a field that is not is a value error", {
  dir <- local_tree(c(a = "A"))
  bad <- "caf\xe9"
  err <- expect_error(write_bag(dir, info = list(Note = bad)), class = "rwbridge_value_error")
  expect_match(conditionMessage(err), "`info$Note` \"caf\\xe9\" is not valid UTF-8", fixed = TRUE)
  info <- list("x")
  names(info) <- bad
  err <- expect_error(write_bag(dir, info = info), class = "rwbridge_value_error")
  expect_match(conditionMessage(err), "`info` label \"caf\\xe9\" is not valid UTF-8", fixed = TRUE)
  bytes <- "\xff"
  Encoding(bytes) <- "bytes"
  expect_error(write_bag(dir, info = list(Note = bytes)), "`info\\$Note`",
               class = "rwbridge_value_error")
  expect_identical(list.files(dir), "a")
  # latin1 is converted, valid UTF-8 kept.
  write_bag(dir, info = list(Note = iconv("caf\u00e9", "UTF-8", "latin1"), Other = "\u00e9t\u00e9"))
  info <- readit(file.path(dir, "bag-info.txt"), as = "text")
  expect_match(info, "Note: caf\u00e9\n", fixed = TRUE)
  expect_match(info, "Other: \u00e9t\u00e9\n", fixed = TRUE)
  expect_true(attr(verify_bag(dir), "valid"))
})

test_that("write_bag() matches algorithm names exactly", {
  dir <- local_tree(c(a = "A"))
  for (algo in c("sha3", "sha51", "m")) {
    err <- expect_error(write_bag(dir, algo = algo), class = "rwbridge_value_error")
    expect_match(conditionMessage(err), "must be one of \"md5\", \"sha1\"", fixed = TRUE)
  }
  expect_identical(list.files(dir), "a")
})

test_that("a NUL byte or a huge line in a bag's tag files is a problem, quoted short", {
  bag <- hand_bag(c(a = "A"))
  line <- c(charToRaw(manifest_line("A", "data/a")), charToRaw(digest_of("B")),
            charToRaw("  data/b"), as.raw(0), charToRaw("c\n"))
  put(bag, "manifest-sha256.txt", line)
  result <- verify_bag(bag)
  problems <- attr(result, "problems")
  expect_identical(problems$code, "manifest")
  expect_match(problems$message, "line 2 has a NUL byte", fixed = TRUE)
  expect_match(problems$message, "data/b\\0c", fixed = TRUE)
  put(bag, "bag-info.txt", c(charToRaw("Contact: A"), as.raw(0), charToRaw("B\n")))
  put(bag, "manifest-sha256.txt", manifest_line("A", "data/a"))
  expect_identical(attr(verify_bag(bag), "problems")$code, "bag_info")
  skip_on_cran()
  huge <- strrep("z", 100e6)
  put(bag, "bag-info.txt", "")
  put(bag, "manifest-sha256.txt", paste0(manifest_line("A", "data/a"), huge, "\n"))
  rm(huge)
  problems <- attr(verify_bag(bag), "problems")
  expect_identical(problems$code, "manifest")
  expect_lt(nchar(problems$message), 400)
  expect_match(problems$message, "...' (100000000 bytes)", fixed = TRUE)
  err <- expect_error(verify_bag(bag, error = TRUE), class = "rwbridge_verify_error")
  expect_lt(nchar(conditionMessage(err)), 600)
})

# Interoperability with bagit-python ------------------------------------------

test_that("bags made by write_bag() validate with bagit-python, and damage is caught", {
  skip_on_cran()
  skip_without_bagit_python()
  dir <- local_tree(c(a.txt = "alpha", "sub/b b.bin" = "beta", "caf\u00e9.txt" = "gamma"))
  write_bag(dir, info = list("Contact-Name" = "Ada"))
  expect_identical(bagit_python_validate(dir), "VALID")
  expect_identical(bagit_python_validate(dir, fast = TRUE), "VALID")
  put(dir, "data/a.txt", "ALPHA")
  expect_match(bagit_python_validate(dir), "^INVALID.*a.txt")
  expect_identical(problem_codes(dir), c("mismatch", "mismatch"))
})

test_that("bags made by bagit-python validate with verify_bag(), and damage is caught", {
  skip_on_cran()
  skip_without_bagit_python()
  for (how in c("module", "command")) {
    dir <- local_tree(c(a.txt = "alpha", "sub/b b.bin" = "beta", "new\nline" = "delta"))
    out <- if (how == "module") {
      run_python("import sys, bagit; bagit.make_bag(sys.argv[1], {'Contact-Name': 'Py'}, processes=2)",
                 dir)
    } else {
      run_python("import runpy, sys; sys.argv = ['bagit', '--md5', '--sha512', sys.argv[1]]; runpy.run_module('bagit', run_name='__main__')",
                 dir)
    }
    expect_identical(out$status, 0L, label = paste(c(how, out$output), collapse = "\n"))
    result <- expect_silent(verify_bag(dir))
    expect_true(attr(result, "valid"), label = how)
    expect_identical(attr(result, "version"), "0.97")
    expect_true("data/new\nline" %in% result$file)
    expect_true(all(result$status == "ok"))
    put(dir, "data/sub/b b.bin", "BETA")
    expect_identical(unique(problem_codes(dir)), "mismatch")
    expect_match(bagit_python_validate(dir), "^INVALID")
  }
})

# Progress and Ctrl-C ---------------------------------------------------------

# A bag of `links` hard links to one 64 MiB file, with SHA-256 and SHA-512
# manifests: each link is a file of its own, read once for both digests.
local_slow_bag <- function(links, env = parent.frame()) {
  dir <- local_tree(env = env)
  dir.create(file.path(dir, "data"))
  big <- file.path(dir, "data", "f000")
  writeit(as.raw(rep_len(0:255, 64 * 2^20)), big)
  names <- sprintf("data/f%03d", seq_len(links) - 1)
  for (name in names[-1]) file.link(big, file.path(dir, name))
  put(dir, "bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
  for (algo in c("sha256", "sha512")) {
    digest <- digest::digest(big, algo = algo, file = TRUE)
    put(dir, sprintf("manifest-%s.txt", algo), paste0(digest, "  ", names, "\n", collapse = ""))
  }
  dir
}

test_that("progress = TRUE draws a progress line on stderr; FALSE draws none", {
  skip_on_cran()
  skip_on_os("windows")
  dir <- local_slow_bag(6)
  out <- capture.output(result <- verify_bag(dir, threads = 1, progress = TRUE), type = "message")
  expect_true(attr(result, "valid"))
  text <- paste(out, collapse = "\n")
  expect_match(text, "verify_bag: [0-9]+/6 files, [0-9.]+ [kMG]?B of 402.7 MB")
  expect_match(text, "verify_bag: 6/6 files, 402.7 MB of 402.7 MB")
  quiet <- capture.output(invisible(verify_bag(dir, threads = 2, progress = FALSE)),
                          type = "message")
  expect_identical(quiet, character())
})

test_that("Ctrl-C stops verify_bag() within a second", {
  skip_on_os("windows")
  skip_on_cran()
  skip_if_not_installed("processx")
  dir <- local_slow_bag(100)
  stopped <- interrupt_child(c(
    "library(rwbridge)",
    "cat('ready\\n')",
    sprintf("res <- tryCatch(verify_bag('%s', threads = 2), interrupt = function(e) 'interrupted')",
            dir),
    "cat(if (is.character(res)) res else 'finished', '\\n')"
  ))
  expect_lt(stopped$elapsed, 1)
  expect_match(stopped$output, "interrupted")
})

# The Library of Congress conformance suite ---------------------------------

test_that("one bag of each category of the conformance suite falls in its category", {
  bags <- suite_bags(test_path("fixtures", "bagsuite"))
  expect_setequal(bags$want, c("valid", "invalid", "warning"))
  got <- suite_check(bags)
  expect_true(all(got$ok), label = paste(capture.output(print(got[!got$ok, ])), collapse = "\n"))
  # The valid one has UTF-16 tag files: its info is read.
  utf16 <- verify_bag(got$bag[got$want == "valid"])
  expect_identical(attr(utf16, "encoding"), "UTF-16")
  expect_identical(attr(utf16, "info")$`Payload-Oxum`, "58.2")
  expect_identical(utf16$status, rep("ok", 5))
})

test_that("the whole conformance suite, every version, falls in its categories", {
  root <- suite_root()
  skip_if(is.null(root), "the BagIt conformance suite is not beside the package (RWB_BAGIT_SUITE)")
  bags <- suite_bags(root)
  expect_identical(nrow(bags), 60L)
  got <- suite_check(bags)
  expect_identical(sum(got$ok), nrow(got),
                   label = paste(capture.output(print(got[!got$ok, c("bag", "valid", "warnings", "problems")])),
                                 collapse = "\n"))
})

test_that("tag files in UTF-16 are read in either byte order, with or without a mark", {
  utf16 <- function(text, big = TRUE, bom = TRUE) {
    bytes <- iconv(text, "UTF-8", if (big) "UTF-16BE" else "UTF-16LE", toRaw = TRUE)[[1]]
    mark <- if (!bom) raw() else if (big) as.raw(c(0xfe, 0xff)) else as.raw(c(0xff, 0xfe))
    c(mark, bytes)
  }
  for (case in list(c(TRUE, TRUE), c(FALSE, TRUE), c(TRUE, FALSE), c(FALSE, FALSE))) {
    dir <- hand_bag(c(x = "X"), version = "0.97", algo = "md5")
    put(dir, "bagit.txt", "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-16\n")
    put(dir, "manifest-md5.txt", utf16(manifest_line("X", "data/x", "md5"), case[1], case[2]))
    put(dir, "bag-info.txt", utf16("Contact-Name: Jos\u00e9\nPayload-Oxum: 1.1\n", case[1], case[2]))
    result <- expect_silent(verify_bag(dir))
    expect_true(attr(result, "valid"), label = paste(case, collapse = " "))
    expect_identical(attr(result, "info")$`Contact-Name`, "Jos\u00e9")
  }
})

# Algorithm names -------------------------------------------------------------

test_that("manifests are named as bagit-python names them, and rows by R's names", {
  dir <- local_tree(c(a = "A"))
  algos <- c("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3-224", "sha3-256",
             "sha3-384", "sha3-512", "blake2b", "blake2s", "blake3")
  # bagit-python's spelling: sha3_256 for sha3-256.
  files <- sub("-", "_", algos, fixed = TRUE)
  write_bag(dir, algo = algos)
  expect_setequal(list.files(dir, pattern = "^manifest-"), paste0("manifest-", files, ".txt"))
  expect_setequal(list.files(dir, pattern = "^tagmanifest-"), paste0("tagmanifest-", files, ".txt"))
  result <- expect_silent(verify_bag(dir))
  expect_true(attr(result, "valid"))
  expect_setequal(unique(result$algo), algos)
  # Each digest as digest::digest() computes it (blake3 as b3sum does).
  for (algo in c("md5", "sha1", "sha256", "sha512", "blake3")) {
    expect_identical(result$actual[result$manifest == sprintf("manifest-%s.txt", algo)],
                     digest_of("A", algo), label = algo)
  }
  # An algorithm rwbridge lacks: rows "present", a problem naming the ones it has.
  put(dir, "manifest-shake_128.txt", paste0(strrep("a", 64), "  data/a\n"))
  result <- suppressWarnings(verify_bag(dir))
  expect_identical(unique(result$status[result$manifest == "manifest-shake_128.txt"]), "present")
  expect_identical(unique(result$algo[result$manifest == "manifest-shake_128.txt"]), "shake_128")
  expect_match(attr(result, "problems")$message, "does not compute 'shake_128' \\(it computes md5, sha1")
  # An algorithm bags do not use is a value error, and nothing moves.
  dir <- local_tree(c(a = "A"))
  expect_error(write_bag(dir, algo = "xxh3"), "which bags do not use", class = "rwbridge_value_error")
  expect_identical(list.files(dir), "a")
  # RFC 8493's normalised spelling is read too, under R's name.
  dir <- local_tree(c(a = "A"))
  write_bag(dir, algo = "sha3-256")
  file.rename(file.path(dir, "manifest-sha3_256.txt"), file.path(dir, "manifest-sha3256.txt"))
  file.remove(file.path(dir, "tagmanifest-sha3_256.txt"))
  result <- verify_bag(dir)
  expect_true(attr(result, "valid"))
  expect_identical(result$algo, "sha3-256")
  skip_if(!nzchar(Sys.which("python3")), "python3 is not installed")
  want <- system2("python3", c("-c", shQuote("import hashlib; print(hashlib.sha3_256(b'A').hexdigest())")),
                  stdout = TRUE)
  expect_identical(result$actual, want)
})

# Serialized bags -------------------------------------------------------------

test_that("a .zip, .tar, .tar.gz or .tgz bag gives what the unpacked bag gives", {
  skip_on_os("windows")
  skip_if(!nzchar(Sys.which("zip")), "zip is not installed")
  holder <- local_tree()
  bag <- file.path(holder, "delivery")
  dir.create(bag)
  put(bag, "a.txt", "alpha")
  put(bag, "sub/b b.bin", "beta")
  put(bag, "50% off", "gamma")
  write_bag(bag, info = list("Contact-Name" = "Ada"))
  put(bag, "data/sub/b b.bin", "BETA")
  put(bag, "data/extra", "not listed")
  unpacked <- verify_bag(bag)
  expect_identical(sort(unique(attr(unpacked, "problems")$code)), c("mismatch", "oxum", "unlisted"))
  out <- local_tree()
  for (ext in c("tar", "tar.gz", "tgz", "zip")) {
    file <- serialize_bag(bag, file.path(out, paste0("delivery.", ext)))
    before <- tree_state(out)
    packed <- verify_bag(file)
    expect_identical(attr(packed, "bag"), file)
    attr(packed, "bag") <- attr(unpacked, "bag")
    expect_identical(packed, unpacked, label = ext)
    fast <- verify_bag(file, fast = TRUE)
    attr(fast, "bag") <- bag
    expect_identical(fast, verify_bag(bag, fast = TRUE), label = ext)
    expect_identical(tree_state(out), before, label = "nothing written")
  }
  expect_error(verify_bag(file.path(out, "delivery.zip"), shards = 2), "`shards`",
               class = "rwbridge_value_error")
})

test_that("what is not a serialized bag is a classed error, and nothing is written", {
  skip_on_os("windows")
  out <- local_tree(c("junk.zip" = "not a zip", "junk.tgz" = "not gzip", "junk.tar" = "not tar",
                      "bag.rar" = "x"))
  two <- local_tree(c("one/bagit.txt" = "x", "two/bagit.txt" = "y", "file" = "z"))
  system2("tar", c("-cf", shQuote(file.path(out, "two.tar")), "-C", shQuote(two), "one", "two"))
  system2("tar", c("-cf", shQuote(file.path(out, "top-file.tar")), "-C", shQuote(two), "file"))
  system2("tar", c("-cf", shQuote(file.path(out, "empty.tar")), "-T", "/dev/null"))
  before <- tree_state(out)
  expect_error(verify_bag(file.path(out, "junk.zip")), "not a zip archive", class = "rwbridge_io_error")
  expect_error(verify_bag(file.path(out, "junk.tgz")), "not a gzip-compressed tar archive",
               class = "rwbridge_io_error")
  expect_error(verify_bag(file.path(out, "junk.tar")), class = "rwbridge_io_error")
  expect_error(verify_bag(file.path(out, "bag.rar")), "neither a directory nor a serialized bag",
               class = "rwbridge_io_error")
  expect_error(verify_bag(file.path(out, "two.tar")), "2 top-level members \\('one', 'two'\\)",
               class = "rwbridge_io_error")
  expect_error(verify_bag(file.path(out, "top-file.tar")), "'file' is not a directory",
               class = "rwbridge_io_error")
  expect_error(verify_bag(file.path(out, "empty.tar")), "it is empty", class = "rwbridge_io_error")
  expect_identical(tree_state(out), before)
})

test_that("archive members that lead outside are problems, never read", {
  skip_on_os("windows")
  skip_without_python <- function() {
    if (!nzchar(Sys.which("python3"))) skip("python3 is not installed")
  }
  skip_without_python()
  bag <- file.path(local_tree(), "b")
  dir.create(bag)
  put(bag, "a", "A")
  write_bag(bag)
  file <- file.path(dirname(bag), "evil.tar")
  # Python's tarfile writes what GNU tar would refuse to: `..` and a link out.
  code <- paste(
    "import sys, tarfile, io",
    "t = tarfile.open(sys.argv[2], 'w')",
    "t.add(sys.argv[1], arcname='b')",
    "i = tarfile.TarInfo('b/../../evil'); i.size = 1; t.addfile(i, io.BytesIO(b'x'))",
    "l = tarfile.TarInfo('b/data/link'); l.type = tarfile.SYMTYPE; l.linkname = '../../../etc/passwd'; t.addfile(l)",
    "t.close()", sep = "\n")
  expect_identical(run_python(code, bag, file)$status, 0L)
  result <- verify_bag(file)
  problems <- attr(result, "problems")
  expect_identical(problems$code[1], "outside")
  expect_match(problems$message[1], "'b/../../evil' leads outside the bag: not read")
  expect_true(any(grepl("data/link is a symbolic link that leads outside", problems$message)))
  expect_false(attr(result, "valid"))
})

# Interoperability with bagit-python, algorithm by algorithm --------------------

test_that("every algorithm both compute: our bags validate with bagit-python, and its with us", {
  skip_on_cran()
  skip_without_bagit_python()
  for (algo in c("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3-224", "sha3-256",
                 "sha3-384", "sha3-512", "blake2b", "blake2s")) {
    python_name <- sub("-", "_", algo, fixed = TRUE)
    dir <- local_tree(c(a.txt = "alpha", "sub/b b.bin" = "beta"))
    write_bag(dir, algo = algo)
    expect_identical(bagit_python_validate(dir), "VALID", label = algo)
    put(dir, "data/a.txt", "ALPHA")
    expect_match(bagit_python_validate(dir), "^INVALID", label = algo)
    dir <- local_tree(c(a.txt = "alpha", "sub/b b.bin" = "beta"))
    out <- run_python("import sys, bagit; bagit.make_bag(sys.argv[1], checksums=[sys.argv[2]])",
                      dir, python_name)
    expect_identical(out$status, 0L, label = paste(out$output, collapse = "\n"))
    expect_true(file.exists(file.path(dir, sprintf("manifest-%s.txt", python_name))))
    result <- expect_silent(verify_bag(dir))
    expect_true(attr(result, "valid"), label = algo)
    expect_identical(unique(result$algo), algo)
  }
})

test_that("a `%` in a file name: RFC 8493 writes %25, which bagit-python does not decode", {
  skip_on_cran()
  skip_without_bagit_python()
  dir <- local_tree(c("50% off.txt" = "sale"))
  write_bag(dir, algo = "sha256")
  expect_match(readLines(file.path(dir, "manifest-sha256.txt")), "  data/50%25 off.txt$")
  expect_true(attr(verify_bag(dir), "valid"))
  # bagit-python looks for a file literally named "50%25 off.txt".
  expect_match(bagit_python_validate(dir), "^INVALID.*50%25 off.txt")
  # Its own 0.97 bags write the name as it is, and verify_bag() reads them so.
  dir <- local_tree(c("50% off.txt" = "sale"))
  run_python("import sys, bagit; bagit.make_bag(sys.argv[1])", dir)
  expect_match(readLines(file.path(dir, "manifest-sha256.txt")), "  data/50% off.txt$")
  expect_true(attr(verify_bag(dir), "valid"))
})
