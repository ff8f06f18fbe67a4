# How the installed library was built: facts that regress silently when a
# dependency or a toolchain changes.

# The flags of an ELF file's PT_GNU_STACK program header ("RW", "RWE"), read
# with readBin() so the test needs no binutils; NULL when the file is not a
# 64-bit little-endian ELF file or has no such header (the linker's old
# default then is an executable stack).
gnu_stack_flags <- function(path) {
  con <- file(path, "rb")
  on.exit(close(con))
  ident <- readBin(con, "raw", 16L)
  if (!identical(ident[1:4], as.raw(c(0x7f, 0x45, 0x4c, 0x46))) ||
      ident[[5]] != as.raw(2L) || ident[[6]] != as.raw(1L)) {
    return(NULL)
  }
  u16 <- function() readBin(con, "integer", 1L, size = 2L, signed = FALSE, endian = "little")
  u32 <- function() readBin(con, "integer", 1L, size = 4L, endian = "little")
  u64 <- function() {
    parts <- readBin(con, "integer", 2L, size = 4L, endian = "little")
    (parts[[1]] %% 2^32) + parts[[2]] * 2^32
  }
  seek(con, 32L)
  phoff <- u64()
  seek(con, 54L)
  phentsize <- u16()
  phnum <- u16()
  for (i in seq_len(phnum) - 1L) {
    seek(con, phoff + i * phentsize)
    type <- u32() %% 2^32
    flags <- u32()
    if (type == 0x6474e551) {
      return(paste0(if (bitwAnd(flags, 4L)) "R", if (bitwAnd(flags, 2L)) "W",
                    if (bitwAnd(flags, 1L)) "E"))
    }
  }
  NULL
}

test_that("the installed library asks for no executable stack", {
  skip_if_not(Sys.info()[["sysname"]] == "Linux", "ELF stacks are a Linux matter")
  dll <- getLoadedDLLs()[["rwbridge"]][["path"]]
  expect_true(file.exists(dll))
  # glibc 2.41 and later refuse to load a library whose stack is "RWE".
  expect_identical(gnu_stack_flags(dll), "RW")
})

test_that("the ELF reader tells an executable stack from a plain one", {
  skip_if_not(Sys.info()[["sysname"]] == "Linux", "needs the system's ELF files")
  # R's own executable, as Debian links it, is RW: the reader finds the header.
  r_binary <- file.path(R.home("bin"), "exec", "R")
  skip_if_not(file.exists(r_binary))
  expect_identical(gnu_stack_flags(r_binary), "RW")
  # The same bytes with the header's execute bit set read as "RWE".
  copy <- withr::local_tempfile()
  bytes <- readBin(r_binary, "raw", file.size(r_binary))
  le <- function(at, size) {
    sum(as.integer(bytes[at + seq_len(size)]) * 256^(seq_len(size) - 1))
  }
  phoff <- le(32, 8)
  phentsize <- le(54, 2)
  phnum <- le(56, 2)
  for (i in seq_len(phnum) - 1) {
    at <- phoff + i * phentsize
    if (le(at, 4) == 0x6474e551) {
      bytes[at + 5] <- as.raw(bitwOr(as.integer(bytes[at + 5]), 1L))
    }
  }
  writeBin(bytes, copy)
  expect_identical(gnu_stack_flags(copy), "RWE")
  expect_null(gnu_stack_flags(file.path(R.home("etc"), "Renviron")))
})
