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

# An assembly object of a digest crate may lack the .note.GNU-stack section,
# and then an older linker marks the whole library as needing an executable
# stack, which glibc 2.41 and later refuse to load. `-z noexecstack` settles
# it for the linked library, whatever the objects say; it is passed where
# R's C compiler links with it (ELF linkers), and left out elsewhere (macOS).
noexecstack_flag <- function(is_windows) {
  flag <- "-Wl,-z,noexecstack"
  if (is_windows) return("")
  r <- file.path(R.home("bin"), "R")
  cc <- suppressWarnings(system2(r, c("CMD", "config", "CC"), stdout = TRUE, stderr = FALSE))
  if (length(cc) != 1L || !nzchar(cc)) return("")
  dir <- tempfile("rwbridge-ld")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  source <- file.path(dir, "probe.c")
  writeLines("int rwbridge_probe(void) { return 0; }", source)
  command <- sprintf("%s -shared -fPIC %s -o %s %s", cc, flag,
                     shQuote(file.path(dir, "probe.so")), shQuote(source))
  status <- suppressWarnings(system(paste(command, ">/dev/null 2>&1")))
  if (identical(status, 0L)) {
    message("Linking with ", flag, ".")
    flag
  } else {
    ""
  }
}

template <- if (is_windows) "src/Makevars.win.in" else "src/Makevars.in"
output <- if (is_windows) "src/Makevars.win" else "src/Makevars"

text <- readLines(template)
text <- gsub("@CARGO_FLAGS@", cargo_flags, text, fixed = TRUE)
text <- gsub("@CLEAN_TARGET@", clean_target, text, fixed = TRUE)
text <- gsub("@EXTRA_LIBS@", noexecstack_flag(is_windows), text, fixed = TRUE)
con <- file(output, open = "wb")
writeLines(text, con, sep = "\n")
close(con)
message("Wrote ", output, ".")
