# rwbridge at work on the bundled example data.
library(rwbridge)
options(rwbridge.threads = 2)

## 1. readit() / writeit(): a binary-safe round trip, NUL bytes and all.
path <- tempfile(fileext = ".bin")
bytes <- as.raw(c(0x52, 0x00, 0x77, 0xff, 0x0a, 0x00))
writeit(bytes, path)
back <- readit(path)
print(back)
stopifnot(identical(back, bytes))
writeit("appended text\n", path, append = TRUE)
cat("file is now", length(readit(path)), "bytes\n")
tryCatch(readit(path, as = "text"), rwbridge_encoding_error = function(e) {
  cat("text mode refuses it:", conditionMessage(e), "\n")
})
tryCatch(readit(file.path(tempdir(), "no-such-file")), rwbridge_io_error = function(e) {
  cat("a missing file is an", class(e)[1], "->", conditionMessage(e), "\n")
})
unlink(path)

## 2. verify(): ten web-server logs and their sha1sum.txt, one digest tampered with.
logs <- system.file("extdata", "logs", package = "rwbridge")
result <- verify(logs)
print(result)
print(result[result$status != "ok", c("line", "file", "expected", "actual")])
tryCatch(verify(logs, error = TRUE), rwbridge_verify_error = function(e) {
  cat("with error = TRUE:", conditionMessage(e), "\n")
})

# A fresh folder under tempdir() holding a copy of the logs.
copy_of_logs <- function(name) {
  dir <- file.path(tempdir(), name)
  unlink(dir, recursive = TRUE)
  dir.create(dir)
  file.copy(list.files(logs, pattern = "[.]log$", full.names = TRUE), dir)
  dir
}

## 2b. An MD5 delivery (as sequencing centres send them): a copy of the logs
## with its md5sum.txt, then a file slipped in and one renamed. verify()
## alone sees only the rename, as a missing file; complete = TRUE audits the
## whole directory and finds both.
delivery <- copy_of_logs("delivery")
write_signatures(delivery, "md5sum.txt", algo = "md5")
writeit("GET /admin HTTP/1.1 200\n", file.path(delivery, "httpd-99.log"))
file.rename(file.path(delivery, "httpd-03.log"), file.path(delivery, "httpd-03.log.old"))
print(verify(delivery, "md5sum.txt"))
audit <- verify(delivery, "md5sum.txt", complete = TRUE)
print(audit)
stopifnot(identical(audit$status[audit$file == "httpd-99.log"], "extra"),
          identical(audit$found_as[audit$file == "httpd-03.log"], "httpd-03.log.old"))
unlink(delivery, recursive = TRUE)

## 2c. BagIt (RFC 8493), as libraries and archives move data: a bag made in
## place, validated, damaged, and validated again.
bag <- copy_of_logs("bag")
write_bag(bag, info = list("Source-Organization" = "rwbridge demo"))
print(list.files(bag))
checked <- verify_bag(bag)
cat("valid bag:", attr(checked, "valid"), "\n")
writeit("tampered\n", file.path(bag, "data", "httpd-05.log"), append = TRUE)
damaged <- verify_bag(bag)
cat("after damage, valid:", attr(damaged, "valid"), "\n")
print(attr(damaged, "problems"))
stopifnot(attr(checked, "valid"), !attr(damaged, "valid"))
unlink(bag, recursive = TRUE)

## 3. detect_outliers(): the numpy example from the articles, 1000 uniform values and
## three planted outliers at 0-based 7, 113 and 835 (1-based 8, 114, 836).
set.seed(2026)
x <- runif(1000)
x[c(8, 114, 836)] <- 97
found <- detect_outliers(x)
print(found)
stopifnot(identical(as.vector(found), c(8L, 114L, 836L)))
y <- c(rnorm(1e6), 40, -35, NA, Inf)
print(detect_outliers(y, threshold = 6, method = "mad"))

png_path <- file.path(Sys.getenv("RWBRIDGE_DEMO_DIR", tempdir()), "rwbridge-outliers.png")
grDevices::png(png_path, width = 900, height = 500)
plot_outliers(x, main = "detect_outliers(): three planted outliers")
invisible(grDevices::dev.off())
cat("plot saved to", png_path, "\n")
