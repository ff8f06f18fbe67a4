# The only place where a failure becomes an R condition. Rust entry points
# return a value of class `rwbridge_failure` instead of raising an error
# (R's longjmp would skip Rust destructors); `rw_unwrap()` raises it here.
#
# Where each rule lives. Argument rules (type, length, NA, range, choice,
# the thread count) are checked in R, once, before Rust is called, as brio
# does: R sees what the user passed and names it in the message. On the
# success path an exported function tests its arguments with primitives
# only; the `check_*()` helpers below, which build the message, run when a
# test fails (or where the call does enough I/O that their cost is noise).
# The Rust entry points trust these checks and answer any argument that
# escaped them with an `rwbridge_internal_error`, never with output. Rules
# that need the file system or the data (a missing file, invalid UTF-8)
# live in Rust and come back as `rwbridge_failure` values.

rw_abort <- function(kind, message, call, ...) {
  cond <- errorCondition(
    message,
    ...,
    class = c(paste0("rwbridge_", kind, "_error"), "rwbridge_error"),
    call = call
  )
  stop(cond)
}

# `call` is evaluated only when there is an error to raise.
rw_unwrap <- function(result, call = sys.call(-1)) {
  if (!inherits(result, "rwbridge_failure")) {
    return(result)
  }
  if (identical(result$kind, "interrupt")) {
    rw_interrupt()
  }
  rw_abort(result$kind, result$message, call = call, path = result$path)
}

# Rust consumed the user's Ctrl-C while the workers stopped; end the call as
# an interrupt ends any R call: handlers for `interrupt` run, then R returns
# to the top level.
rw_interrupt <- function() {
  signalCondition(structure(list(), class = c("interrupt", "condition")))
  invokeRestart("abort")
}

# Argument checks ---------------------------------------------------------
# Each raises `rwbridge_type_error` for a wrong type or length and
# `rwbridge_value_error` for a bad value, naming the argument.

check_string <- function(x, arg, call = sys.call(-1)) {
  check_scalar(x, is.character, "a single string", arg, call)
}

check_flag <- function(x, arg, call = sys.call(-1)) {
  check_scalar(x, is.logical, "TRUE or FALSE", arg, call)
}

check_scalar <- function(x, is_type, what, arg, call) {
  if (!is_type(x) || length(x) != 1L || is.na(x)) {
    rw_abort("type", sprintf("`%s` must be %s, not %s.", arg, what, rw_describe(x)), call = call)
  }
  x
}

# Like match.arg(): the default vector means its first element, and a unique
# partial match is accepted.
check_choice <- function(x, choices, arg, call = sys.call(-1)) {
  if (identical(x, choices)) {
    return(choices[[1L]])
  }
  check_string(x, arg, call)
  hit <- pmatch(x, choices)
  if (is.na(hit)) {
    rw_abort("value", sprintf(
      "`%s` must be one of %s, not %s.",
      arg, paste0("\"", choices, "\"", collapse = ", "), rw_quote(x, "\"")
    ), call = call)
  }
  choices[[hit]]
}

# A double or integer vector that is not a factor: what the outlier
# functions read in place.
check_numeric <- function(x, arg, call = sys.call(-1)) {
  if (!(is.double(x) || is.integer(x)) || (is.object(x) && inherits(x, "factor"))) {
    rw_abort("type", sprintf("`%s` must be a double or integer vector, not %s.", arg,
                             rw_describe(x)), call = call)
  }
  x
}

check_paths <- function(x, arg, allow_na = FALSE, call = sys.call(-1)) {
  if (!is.character(x) || (!allow_na && anyNA(x))) {
    rw_abort("type", sprintf("`%s` must be a character vector%s, not %s.", arg,
                             if (allow_na) "" else " without NA", rw_describe(x)),
             call = call)
  }
  x
}

rw_describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.function(x)) return("a function")
  if (is.environment(x)) return("an environment")
  if (is.factor(x)) return("a factor")
  if (is.data.frame(x)) return("a data frame")
  type <- if (is.object(x)) class(x)[[1L]] else typeof(x)
  if (length(x) == 1L && is.atomic(x) && is.na(x)) {
    return(sprintf("NA (%s)", type))
  }
  sprintf("a %s of length %s", if (type == "list") "list" else paste(type, "vector"),
          format(length(x)))
}
