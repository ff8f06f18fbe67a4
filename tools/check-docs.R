# Fails when NAMESPACE or man/ differ from what roxygen2 makes of R/: runs
# roxygen2 on a copy of the package, using the installed rwbridge.
tmp <- tempfile("rwbridge-docs-")
dir.create(tmp)
on.exit(unlink(tmp, recursive = TRUE), add = TRUE)
invisible(file.copy(c("DESCRIPTION", "NAMESPACE", "R", "man"), tmp, recursive = TRUE))
suppressMessages(roxygen2::roxygenise(tmp, load_code = roxygen2::load_installed))

same_files <- function(a, b) {
  identical(sort(list.files(a)), sort(list.files(b))) &&
    all(vapply(list.files(a), function(f) {
      identical(readLines(file.path(a, f)), readLines(file.path(b, f)))
    }, logical(1)))
}
stale <- c(
  if (!identical(readLines("NAMESPACE"), readLines(file.path(tmp, "NAMESPACE")))) "NAMESPACE",
  if (!same_files("man", file.path(tmp, "man"))) "man/"
)
if (length(stale) > 0) {
  message(paste(stale, collapse = " and "), " stale: run 'make document' and commit the result.")
  quit(status = 1)
}
message("NAMESPACE and man/ are up to date.")
