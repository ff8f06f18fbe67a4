# Draws vignettes/bench-ratios.png from bench/results.csv (written by
# `make bench`), so the vignette shows measured figures without rerunning
# the benchmarks. Run from the package root: Rscript bench/figures.R
results <- utils::read.csv("bench/results.csv", stringsAsFactors = FALSE)
# The size sweep's rows (claims "sweep ...") have their own figure,
# vignettes/sweep.png, drawn by bench/sweep-figure.R.
results <- results[!startsWith(results$claim, "sweep "), ]
# One bar per comparison, as "times faster than the peer" (time ratios are
# inverted so that longer bars are always better for rwbridge).
speedup <- ifelse(results$unit == "x time", 1 / results$ratio,
                  ifelse(results$unit == "of floor", results$ratio, results$ratio))
labels <- sprintf("%s\nvs %s", results$claim, results$peer_name)
colour <- ifelse(is.na(results$met), "grey60", ifelse(results$met, "seagreen", "firebrick"))
order <- rev(seq_along(speedup))

n <- nrow(results)
grDevices::png("vignettes/bench-ratios.png", width = 1000, height = 120 + 34 * n, res = 110)
op <- graphics::par(mar = c(4.5, 15, 4, 1), cex.lab = 0.75, cex.axis = 0.75)
limits <- range(c(0.4, speedup * 1.3), na.rm = TRUE)
graphics::plot(speedup[order], seq_len(n), log = "x", xlim = limits, ylim = c(0.5, n + 0.5),
               yaxt = "n", pch = 19, col = colour[order], cex = 1.3, ylab = "",
               xlab = "speed-up: peer's time / rwbridge's time (log scale; > 1 is faster)")
graphics::segments(1, seq_len(n), speedup[order], seq_len(n), col = colour[order], lwd = 3)
graphics::abline(v = 1, lty = 2)
graphics::axis(2, at = seq_len(n), labels = labels[order], las = 1, cex.axis = 0.62, tick = FALSE)
graphics::text(speedup[order], seq_len(n), sprintf("%.2f", speedup[order]), pos = 3,
               cex = 0.6, offset = 0.4)
graphics::title(sprintf("rwbridge vs peers measured in the same run, %s\n%s", results$date[1],
                        "2-core AMD EPYC with SHA-NI, Debian 12, R 4.2.2, rustc 1.95, cache warm"),
                cex.main = 0.8)
graphics::legend("bottomright", c("target met", "target missed", "no target"),
                 col = c("seagreen", "firebrick", "grey60"), pch = 19, cex = 0.7, bg = "white")
graphics::par(op)
invisible(grDevices::dev.off())
# Quantised: the figure ships twice (the file and the vignette's HTML), and
# CRAN's tarball limit is 5 MB.
if (nzchar(Sys.which("pngquant"))) {
  system2("pngquant", c("--quality=60-90", "--force", "--ext", ".png", "vignettes/bench-ratios.png"))
}
message("Wrote vignettes/bench-ratios.png")
