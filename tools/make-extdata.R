# Makes inst/extdata/logs: ten small web-server logs and a sha1sum.txt in
# which the digest of httpd-08.log is wrong on purpose, as in the seed
# article. Run from the package root with rwbridge installed; the output is
# committed, so this only needs running to change the example.
library(rwbridge)
set.seed(2026)
dir <- "inst/extdata/logs"
unlink(dir, recursive = TRUE)
dir.create(dir, recursive = TRUE)
paths <- c("/", "/index.html", "/about", "/api/v1/items", "/static/app.js", "/login")
codes <- c(200L, 200L, 200L, 304L, 404L, 500L)
for (i in 0:9) {
  n <- 40
  stamp <- as.POSIXct("2026-11-01", tz = "UTC") + i * 86400 + sort(sample(86400, n))
  lines <- sprintf(
    '10.0.%d.%d - - [%s] "GET %s HTTP/1.1" %d %d',
    sample(0:9, n, TRUE), sample(1:254, n, TRUE),
    format(stamp, "%d/%b/%Y:%H:%M:%S +0000"), sample(paths, n, TRUE),
    sample(codes, n, TRUE), sample(200:9000, n, TRUE)
  )
  writeit(paste0(lines, "\n", collapse = ""), file.path(dir, sprintf("httpd-%02d.log", i)))
}
signed <- write_signatures(dir, threads = 2)
manifest <- file.path(dir, "sha1sum.txt")
text <- readit(manifest, as = "text")
tampered <- signed$digest[signed$file == "httpd-08.log"]
wrong <- paste0(substr(tampered, 1, 39), if (substr(tampered, 40, 40) == "0") "1" else "0")
writeit(sub(tampered, wrong, text, fixed = TRUE), manifest)
message("Wrote ", dir, " (httpd-08.log's digest is wrong on purpose).")
