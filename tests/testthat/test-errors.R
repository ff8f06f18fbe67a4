test_that("a Rust panic becomes an rwbridge_internal_error, on any thread", {
  for (on_worker in c(FALSE, TRUE)) {
    err <- expect_error(
      rwbridge:::rw_unwrap(rwbridge:::panic_for_test_(on_worker)),
      class = "rwbridge_internal_error"
    )
    expect_s3_class(err, "rwbridge_error")
    expect_match(conditionMessage(err), "deliberate panic")
    # The message holds a '%', which extendr 0.9 would pass to Rf_error() as
    # a format string; here it arrives intact and R carries on.
    expect_match(conditionMessage(err), "100% certain", fixed = TRUE)
  }
  expect_identical(readit(test_path("fixtures", "coreutils", "alpha.txt"), "text"), "alpha\n")
})

test_that("conditions have the documented classes and the user's call", {
  err <- expect_error(readit(1))
  expect_identical(class(err), c("rwbridge_type_error", "rwbridge_error", "error", "condition"))
  expect_identical(err$call, quote(readit(1)))
  err <- expect_error(detect_outliers(1, method = "x"))
  expect_identical(class(err), c("rwbridge_value_error", "rwbridge_error", "error", "condition"))
  expect_identical(err$call[[1]], quote(detect_outliers))
})

# Every wrong type R has, against every exported function: a classed
# rwbridge_error each time, never a crash or a base-R error.
wrong_values <- list(
  NULL = NULL, logical = TRUE, integer = 1L, double = 1.5, complex = 1i,
  character2 = c("a", "b"), list = list(1), "function" = identity,
  environment = globalenv(), raw = as.raw(1), factor = factor("a"),
  data_frame = data.frame(a = 1), na_logical = NA, na_integer = NA_integer_,
  na_double = NA_real_, na_character = NA_character_, na_complex = NA_complex_,
  logical0 = logical(), integer0 = integer(), double0 = double(),
  character0 = character(), complex0 = complex(), raw0 = raw(), list0 = list()
)

test_that("every exported function refuses every wrong type with a classed error", {
  dir <- local_tree(c(a = "A"))
  file <- file.path(dir, "a")
  calls <- list(
    readit_path = function(v) readit(v),
    readit_as = function(v) readit(file, as = v),
    writeit_data = function(v) writeit(v, file.path(dir, "out")),
    writeit_path = function(v) writeit("x", v),
    writeit_append = function(v) writeit("x", file.path(dir, "out"), append = v),
    verify_dir = function(v) verify(v),
    verify_manifest = function(v) verify(dir, manifest = v),
    verify_threads = function(v) verify(dir, threads = v),
    verify_progress = function(v) verify(dir, progress = v),
    verify_error = function(v) verify(dir, error = v),
    verify_allow = function(v) verify(dir, allow_outside = v),
    sign_dir = function(v) write_signatures(v),
    sign_manifest = function(v) write_signatures(dir, manifest = v),
    sign_files = function(v) write_signatures(dir, files = v),
    sign_algo = function(v) write_signatures(dir, algo = v),
    sign_threads = function(v) write_signatures(dir, threads = v),
    hash_paths = function(v) hash_files(v),
    hash_algo = function(v) hash_files(file, algo = v),
    hash_threads = function(v) hash_files(file, threads = v),
    outliers_x = function(v) detect_outliers(v),
    outliers_threshold = function(v) detect_outliers(1:3, threshold = v),
    outliers_method = function(v) detect_outliers(1:3, method = v),
    outliers_by = function(v) detect_outliers(1:3, by = v),
    outliers_window = function(v) detect_outliers(1:3, method = "hampel", window = v),
    plot_x = function(v) plot_outliers(v)
  )
  # Values that are valid for an argument, so no error is expected.
  valid <- list(
    writeit_data = c("raw", "raw0"),
    verify_threads = c("NULL", "integer"),
    verify_progress = "logical", verify_error = "logical", verify_allow = "logical",
    writeit_append = "logical",
    sign_files = c("NULL", "character0"),
    sign_threads = c("NULL", "integer"),
    hash_paths = c("na_character", "character0", "character2"),
    hash_threads = c("NULL", "integer"),
    outliers_x = c("integer", "double", "na_integer", "na_double", "integer0", "double0"),
    outliers_threshold = c("NULL", "integer", "double"),
    outliers_by = "NULL",
    outliers_window = "integer",
    plot_x = c("integer", "double", "na_integer", "na_double", "integer0", "double0")
  )
  grDevices::pdf(NULL)
  withr::defer(grDevices::dev.off())
  for (call in names(calls)) {
    for (value in names(wrong_values)) {
      if (value %in% valid[[call]]) next
      result <- tryCatch(
        suppressWarnings(calls[[call]](wrong_values[[value]])),
        rwbridge_error = function(e) "classed",
        error = function(e) paste("unclassed:", conditionMessage(e))
      )
      expect_identical(result, "classed", label = paste(call, "<-", value))
    }
  }
})
