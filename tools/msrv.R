# Checks that cargo and rustc are installed and that rustc is at least the
# version DESCRIPTION's SystemRequirements names (the one place it is written).
# Prints both versions; stops with a message that says what to install.

rust_requirement <- function() {
  sysreq <- read.dcf("DESCRIPTION", fields = "SystemRequirements")[[1]]
  version <- regmatches(sysreq, regexpr("rustc >= [0-9.]+", sysreq))
  if (length(version) == 0) stop("DESCRIPTION's SystemRequirements names no 'rustc >= X.Y'")
  sub("rustc >= ", "", version, fixed = TRUE)
}

find_tool <- function(tool) {
  on_path <- Sys.which(tool)
  if (nzchar(on_path)) return(unname(on_path))
  # Where rustup installs, which R's PATH often lacks.
  home <- file.path(Sys.getenv("HOME"), ".cargo", "bin", tool)
  if (file.exists(home)) return(home)
  ""
}

install_help <- function(problem) {
  paste(
    "", "------------------------------ RUST IS NEEDED ------------------------------",
    problem, "",
    "rwbridge is written in Rust. Install a current toolchain, then install again:",
    "  * any system: https://rustup.rs  (curl https://sh.rustup.rs -sSf | sh)",
    "  * Debian/Ubuntu: apt-get install cargo   * Fedora: dnf install cargo",
    "  * macOS: brew install rust",
    "-----------------------------------------------------------------------------", "",
    sep = "\n"
  )
}

tool_version <- function(path) {
  out <- tryCatch(
    system2(path, "--version", stdout = TRUE, stderr = TRUE),
    error = function(e) character()
  )
  version <- regmatches(out, regexpr("[0-9]+\\.[0-9]+\\.[0-9]+", out))
  if (length(version) == 0) NA_character_ else version[[1]]
}

check_rust <- function() {
  required <- rust_requirement()
  cargo <- find_tool("cargo")
  rustc <- find_tool("rustc")
  if (!nzchar(cargo) || !nzchar(rustc)) {
    stop(install_help("cargo or rustc was not found on the PATH or in ~/.cargo/bin."),
         call. = FALSE)
  }
  cargo_version <- tool_version(cargo)
  rustc_version <- tool_version(rustc)
  message("Using cargo ", cargo_version, " (", cargo, ")")
  message("Using rustc ", rustc_version, " (", rustc, ")")
  if (is.na(rustc_version) || package_version(rustc_version) < package_version(required)) {
    stop(install_help(sprintf(
      "rustc %s is too old: the minimum is %s (run 'rustup update').",
      rustc_version, required
    )), call. = FALSE)
  }
  invisible(TRUE)
}
