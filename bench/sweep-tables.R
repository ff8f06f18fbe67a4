# Markdown tables of bench/sweep.csv (rwbridge and each peer, x faster), for
# bench/README.md: Rscript bench/sweep-tables.R
d <- read.csv("bench/sweep.csv")
ft <- function(s) ifelse(s < 1e-3, sprintf("%.2f us", s * 1e6), ifelse(s < 1, sprintf("%.1f ms", s * 1e3), sprintf("%.2f s", s)))
sz <- function(size, unit) {
  if (unit == "n") return(ifelse(size < 1000, format(size), sprintf("1e%d", round(log10(size)))))
  if (unit == "files") return(paste(format(size, big.mark = ","), "files"))
  if (unit == "bytes") return(ifelse(size < 1024, paste(size, "B"), ifelse(size < 2^20, paste(size / 1024, "KiB"), paste(size / 2^20, "MiB"))))
  paste(size, unit)
}
for (f in unique(d$fun)) {
  x <- d[d$fun == f, ]
  peers <- setdiff(unique(x$peer), "rwbridge")
  keys <- unique(x[, c("size", "unit")])
  cat("\n**", f, "**\n\n", sep = "")
  cat("| size | rwbridge |", paste(sprintf("%s | x faster", peers), collapse = " | "), "|\n")
  cat("| --- | ---: |", paste(rep("---: | ---:", length(peers)), collapse = " | "), "|\n")
  for (k in seq_len(nrow(keys))) {
    row <- x[x$size == keys$size[k] & x$unit == keys$unit[k], ]
    ours <- row$seconds[row$peer == "rwbridge"]
    cells <- vapply(peers, function(p) {
      s <- row$seconds[row$peer == p]
      if (length(s) == 0) return("| ")
      sprintf("%s | %.2f", ft(s), s / ours)
    }, "")
    cat("|", sz(keys$size[k], keys$unit[k]), "|", ft(ours), "|", paste(cells, collapse = " | "), "|\n")
  }
}
