# Run by configure: checks the Rust toolchain, then writes src/Makevars (or
# Makevars.win) from its template.
source("tools/msrv.R")
check_rust()

not_cran <- identical(Sys.getenv("NOT_CRAN"), "true")
vendored <- file.exists("src/rust/vendor.tar.xz")
if (vendored && !not_cran) message("Building offline from src/rust/vendor.tar.xz.")

cargo_flags <- paste(c("-j 2", if (vendored && !not_cran) "--offline"), collapse = " ")
# A CRAN-style build removes the cargo target folder after linking; a
# developer build (NOT_CRAN=true) keeps it so the next build is incremental.
clean_target <- if (not_cran) "" else "$(TARGET_DIR)"

is_windows <- .Platform$OS.type == "windows"
template <- if (is_windows) "src/Makevars.win.in" else "src/Makevars.in"
output <- if (is_windows) "src/Makevars.win" else "src/Makevars"

text <- readLines(template)
text <- gsub("@CARGO_FLAGS@", cargo_flags, text, fixed = TRUE)
text <- gsub("@CLEAN_TARGET@", clean_target, text, fixed = TRUE)
text <- gsub("@EXTRA_LIBS@", "", text, fixed = TRUE)
con <- file(output, open = "wb")
writeLines(text, con, sep = "\n")
close(con)
message("Wrote ", output, ".")
