# Draws vignettes/sweep.png from the size sweep's timings ($RWB_SWEEP_CSV,
# default bench/sweep.csv, written by bench/sweep.R): time against size,
# log-log, one panel per function, rwbridge and its peers as lines.
# Run from the package root: Rscript bench/sweep-figure.R
local({
  csv <- Sys.getenv("RWB_SWEEP_CSV", "bench/sweep.csv")
  out <- Sys.getenv("RWB_SWEEP_FIGURE", "vignettes/sweep.png")
  d <- utils::read.csv(csv, stringsAsFactors = FALSE)
  d <- d[d$size > 0 & !is.na(d$seconds), ]
  # hash_files() is drawn against the bytes hashed, so that its two series
  # (N files of 3 KiB, one file of N bytes) share an axis.
  d$x <- ifelse(d$fun == "hash_files" & d$unit == "files", d$size * 3072, d$size)

  colours <- c(rwbridge = "#D55E00", "base R" = "#0072B2", readBin = "#0072B2",
               writeBin = "#0072B2", numpy = "#009E73", digest = "#009E73",
               brio = "#009E73", "tools::md5sum" = "#CC79A7", "sha1sum -c" = "#56B4E9")
  names_shown <- c(rwbridge = "rwbridge", "base R" = "base R expression",
                   numpy = "numpy (timed in python)", digest = "digest::digest() loop",
                   "tools::md5sum" = "tools::md5sum() (MD5)", "sha1sum -c" = "sha1sum -c --quiet",
                   readBin = "readBin(f, \"raw\", file.size(f))", brio = "brio",
                   writeBin = "writeBin() (no fsync)")
  panels <- list(
    list(fun = "detect_outliers zscore", title = "detect_outliers(x)  (z-score)",
         xlab = "n (doubles)"),
    list(fun = "detect_outliers mad", title = "detect_outliers(x, method = \"mad\")",
         xlab = "n (doubles)"),
    list(fun = "hash_files", title = "hash_files(paths)  (SHA-1)",
         xlab = "bytes hashed"),
    list(fun = "verify", title = "verify(dir)  (SHA-1, 2 threads)",
         xlab = "files of 3 KiB in the tree"),
    list(fun = "readit", title = "readit(path)", xlab = "file size (bytes)"),
    list(fun = "writeit", title = "writeit(bytes, path)  (atomic, fsync)",
         xlab = "file size (bytes)")
  )
  time_labels <- function(s) {
    ifelse(s < 1e-6, sprintf("%g ns", s * 1e9), ifelse(s < 1e-3, sprintf("%g us", s * 1e6),
           ifelse(s < 1, sprintf("%g ms", s * 1e3), sprintf("%g s", s))))
  }
  size_labels <- function(x, bytes) {
    if (!bytes) return(ifelse(x < 1e3, sprintf("%g", x), sprintf("1e%d", round(log10(x)))))
    k <- pmax(0, pmin(3, floor(log(x, 1024))))
    sprintf("%g %s", signif(x / 1024^k, 3), c("B", "KiB", "MiB", "GiB")[k + 1])
  }

  grDevices::png(out, width = 1400, height = 960, res = 110)
  op <- graphics::par(mfrow = c(2, 3), mar = c(4.6, 4.6, 2.6, 0.8), oma = c(0, 0, 3.2, 0),
                      cex.axis = 0.8, cex.lab = 0.85, mgp = c(2.6, 0.7, 0))
  for (p in panels) {
    s <- d[d$fun == p$fun, ]
    bytes <- p$fun %in% c("readit", "writeit", "hash_files")
    xr <- range(s$x)
    yr <- range(s$seconds) * c(0.7, 1.6)
    graphics::plot(NA, xlim = xr, ylim = yr, log = "xy", xaxt = "n", yaxt = "n",
                   xlab = p$xlab, ylab = "median time per call (log)", main = p$title,
                   cex.main = 0.95)
    yt <- 10^(floor(log10(yr[1])):ceiling(log10(yr[2])))
    graphics::abline(h = yt, col = "grey90")
    graphics::axis(2, at = yt, labels = time_labels(yt), las = 1)
    xt <- if (bytes) 2^(seq(0, 40, by = 4)) else 10^(0:9)
    xt <- xt[xt >= xr[1] / 1.5 & xt <= xr[2] * 1.5]
    graphics::abline(v = xt, col = "grey90")
    graphics::axis(1, at = xt, labels = size_labels(xt, bytes))
    graphics::box()
    impls <- c("rwbridge", setdiff(unique(s$peer), "rwbridge"))
    for (impl in impls) {
      one <- s[s$peer == impl, ]
      series <- split(one, one$unit)
      for (u in names(series)) {
        r <- series[[u]][order(series[[u]]$x), ]
        if (u == "files (bundled logs)") {
          graphics::points(r$x, r$seconds, pch = 22, col = colours[impl], bg = colours[impl],
                           cex = 1.4)
          next
        }
        lty <- if (p$fun == "hash_files" && u == "bytes") 2 else 1
        lwd <- if (impl == "rwbridge") 2.6 else 1.6
        graphics::lines(r$x, r$seconds, col = colours[impl], lty = lty, lwd = lwd)
        graphics::points(r$x, r$seconds, col = colours[impl], pch = 19,
                         cex = if (impl == "rwbridge") 1.1 else 0.9)
      }
    }
    graphics::legend("topleft", names_shown[impls], col = colours[impls], lwd = 2, pch = 19,
                     cex = 0.72, bg = "white", box.col = "grey70")
    if (p$fun == "hash_files") {
      graphics::legend("bottomright", c("N files of 3 KiB", "one file of N bytes"),
                       lty = c(1, 2), lwd = 2, col = "grey30", cex = 0.72, bg = "white",
                       box.col = "grey70")
    }
    if (p$fun == "verify") {
      graphics::legend("bottomright", "the 10 bundled logs (about 3 KiB each)", pch = 22,
                       pt.bg = "grey30", col = "grey30", pt.cex = 1.3, cex = 0.72, bg = "white",
                       box.col = "grey70")
    }
  }
  graphics::mtext(sprintf("rwbridge against its peers, measured in the same run (%s): %s",
                          d$date[1], d$machine[1]),
                  outer = TRUE, line = 1.7, cex = 0.9, font = 2)
  graphics::mtext(paste("Medians after a warm-up, page cache warm; lower is faster.",
                        "writeit() fsyncs and renames atomically, writeBin() and brio do not."),
                  outer = TRUE, line = 0.5, cex = 0.75)
  graphics::par(op)
  invisible(grDevices::dev.off())
  # Quantised: the figure ships twice (the file and the vignette's HTML), and
  # CRAN's tarball limit is 5 MB.
  if (nzchar(Sys.which("pngquant"))) {
    system2("pngquant", c("--quality=60-90", "--force", "--ext", ".png", out))
  }
  message("Wrote ", out)
})
