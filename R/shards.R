# Shards: one call's work split into parts of about equal bytes, each run as
# a future under the user's future::plan() (other processes, other machines
# over SSH, a batch scheduler), each part on its worker's own threads, and
# merged into exactly the local result. future and progressr are suggested,
# not imported: only `shards =` needs them.

# NULL, or a whole number >= 1 as an integer.
rw_shards <- function(shards, call) {
  if (is.null(shards)) {
    return(NULL)
  }
  if (!(is.double(shards) || is.integer(shards)) || length(shards) != 1L || is.object(shards)) {
    rw_abort("type", sprintf("`shards` must be NULL or a single number, not %s.",
                             rw_describe(shards)), call = call)
  }
  if (is.na(shards) || shards < 1 || shards != round(shards) || shards > .Machine$integer.max) {
    rw_abort("value", sprintf("`shards` must be a whole number >= 1, not %s.", format(shards)),
             call = call)
  }
  if (!rw_has_package("future")) {
    rw_abort("value", paste0(
      "`shards` runs each part as a future and needs the package 'future': ",
      "install.packages(\"future\") (and \"progressr\" for progress from the workers)."
    ), call = call)
  }
  as.integer(shards)
}

rw_has_package <- function(package) {
  requireNamespace(package, quietly = TRUE)
}

# Paths as a worker must be given them: absolute. A worker's working
# directory is the one it started in, not this process's now. Joined by
# Rust, byte for byte (file.path() would re-encode a name that is not valid
# in its encoding).
rw_absolute <- function(path) {
  relative <- !is.na(path) & !startsWith(path, "~") & !rw_is_absolute(path)
  if (any(relative)) {
    path[relative] <- rw_unwrap(absolute_(path[relative]))
  }
  path
}

# Indices of `sizes` in at most `n` parts of about equal total size: the
# largest first, each to the part with the least so far. Each part keeps
# its indices in order; empty parts are dropped.
rw_split_bytes <- function(sizes, n) {
  sizes[is.na(sizes)] <- 0
  part <- integer(length(sizes))
  load <- numeric(n)
  # Every item costs something (an open, a stat) beyond its bytes.
  for (i in order(sizes, decreasing = TRUE)) {
    k <- which.min(load)
    part[i] <- k
    load[k] <- load[k] + sizes[i] + 4096
  }
  parts <- split(seq_along(sizes), factor(part, levels = seq_len(n)))
  unname(parts[lengths(parts) > 0L])
}

# Runs `what(args)` (a function of this package, by name) for each list in
# `args`, each as a future, and waits for them all. Returns `values`, with
# the errors of parts whose future failed (a worker that died, a future
# that errored), which never stop the others from being collected, and
# `done`, which parts finished. A finished part's own failure (an error
# it returned as data) is signalled here.
rw_run_shards <- function(what, args, call) {
  p <- if (rw_has_package("progressr")) {
    progressr::progressor(steps = length(args))
  }
  # Test-only: the index of a part whose worker quits, as a worker dies.
  fault <- getOption("rwbridge.test_quit_part")
  # Each future gets only its own part's arguments; a function of the
  # namespace travels as a reference to it.
  part <- quote(rw_part(i, what, part_args, fault, p))
  futures <- lapply(seq_along(args), function(i) {
    future::future(
      part, substitute = FALSE,
      globals = list(rw_part = rw_part, i = i, what = what, part_args = args[[i]],
                     fault = fault, p = p),
      packages = "rwbridge", seed = NULL
    )
  })
  values <- lapply(futures, function(f) {
    tryCatch(future::value(f), error = function(e) structure(list(error = e),
                                                             class = "rwbridge_failed_part"))
  })
  done <- !vapply(values, inherits, NA, "rwbridge_failed_part")
  for (v in values[done]) rw_unwrap(v, call)
  list(values = values, done = done)
}

# On the worker.
rw_part <- function(i, what, args, fault, p) {
  if (identical(fault, i)) {
    quit(save = "no", status = 1)
  }
  value <- do.call(what, args, envir = asNamespace("rwbridge"))
  if (is.function(p)) {
    p()
  }
  value
}

# The error for failed parts, carrying what the other parts found.
rw_failed_parts <- function(values, result, call) {
  failed <- which(vapply(values, inherits, NA, "rwbridge_failed_part"))
  reasons <- vapply(values[failed], function(v) conditionMessage(v$error), "")
  rw_abort("internal", sprintf(
    "%s of %d failed, so the result is incomplete (the finished parts are in `result`): %s",
    if (length(failed) == 1) paste("part", failed) else paste("parts", paste(failed, collapse = ", ")),
    length(values), paste0("part ", failed, ": ", reasons, collapse = "; ")
  ), call = call, result = result)
}

# The columns of a verification, from shards of the manifest's lines, in
# the form verify_() returns them. `threads` is for this process,
# `worker_threads` the argument as given, for each worker to resolve.
rw_verify_shards <- function(dir, manifest, algo, threads, worker_threads, allow_outside,
                             complete, exclude, shards, call) {
  plan <- rw_unwrap(verify_plan_(dir, manifest, algo, threads, allow_outside), call)
  parts <- rw_split_bytes(plan$size, shards)
  worker_dir <- rw_absolute(dir)
  # A relative manifest is read relative to `dir`, there as here.
  worker_manifest <- manifest
  args <- lapply(parts, function(idx) {
    list(worker_dir, worker_manifest, algo, worker_threads, allow_outside, plan$line[idx])
  })
  run <- rw_run_shards("rw_verify_part", args, call)
  values <- run$values
  done <- run$done
  names <- c("line", "file", "algo", "expected", "actual", "status", "found_as")
  columns <- lapply(stats::setNames(names, names), function(name) {
    unlist(lapply(values[done], `[[`, name), use.names = FALSE)
  })
  in_order <- order(columns$line)
  columns <- lapply(columns, `[`, in_order)
  columns$malformed_line <- plan$malformed_line
  columns$malformed_text <- plan$malformed_text
  columns$malformed_reason <- plan$malformed_reason
  if (!all(done)) {
    rw_failed_parts(values, rw_verification(columns, dir, complete), call)
  }
  if (complete) {
    missing <- columns$line[rw_codes$status[columns$status] == "missing"]
    audit <- rw_unwrap(audit_(dir, manifest, algo, threads, missing, columns$algo, exclude),
                       call)
    moved <- match(audit$moved_line, columns$line)
    columns$status[moved] <- match("moved", rw_codes$status)
    columns$algo[moved] <- audit$moved_algo
    columns$found_as[moved] <- audit$found_as
    extra <- length(audit$file)
    columns$line <- c(columns$line, rep(NA_integer_, extra))
    columns$file <- c(columns$file, audit$file)
    columns$algo <- c(columns$algo, rep(audit$algo, extra))
    columns$expected <- c(columns$expected, rep(NA_character_, extra))
    columns$actual <- c(columns$actual, audit$actual)
    columns$status <- c(columns$status, rep(match("extra", rw_codes$status), extra))
    columns$found_as <- c(columns$found_as, rep(NA_character_, extra))
  }
  columns
}

rw_verify_part <- function(dir, manifest, algo, threads, allow_outside, lines) {
  verify_(dir, manifest, algo, rw_threads(threads), FALSE, allow_outside, FALSE, lines, NULL)
}

# write_signatures()'s rows from shards: the files listed here (or `files`
# less what `exclude` leaves out), those to hash split into parts, each
# opened on its worker without leaving `dir`; with `update`, only the files
# the manifest does not list yet. This process writes the manifest, as
# without shards.
rw_sign_shards <- function(dir, manifest, files, algo, threads, exclude, update, shards, call) {
  names <- rw_unwrap(list_files_(dir, manifest, files, exclude), call)
  plan <- if (update) rw_unwrap(update_plan_(dir, manifest, names, algo), call)
  add <- if (update) plan$add else names
  # Refuses names that lead outside `dir`, as without shards.
  sizes <- rw_unwrap(name_sizes_(dir, add), call)
  hashed <- rw_hash_shards(add, algo, threads, shards, call, dir = dir, sizes = sizes)
  # As without shards: no manifest that silently leaves a file out.
  failed <- which(!is.na(hashed$kind))
  if (length(failed) > 0) {
    first <- failed[[1L]]
    rw_abort(hashed$kind[[first]], hashed$message[[first]], call = call,
             path = paste0(sub("/+$", "", dir, useBytes = TRUE), "/", add[[first]]))
  }
  rw_unwrap(write_manifest_(dir, manifest, add, hashed$digest, algo, plan$kept_line), call)
  list(file = c(plan$file, add), digest = c(plan$digest, hashed$digest),
       added = c(plan$added, rep(TRUE, length(add))), dropped = plan$dropped)
}

# hash_files_()'s columns for `paths`, from shards. With `dir`, `paths` are
# names under it, each opened without leaving it (write_signatures()), and
# `sizes` their sizes.
rw_hash_shards <- function(paths, algo, threads, shards, call, dir = NULL, sizes = NULL) {
  if (is.null(sizes)) {
    sizes <- suppressWarnings(file.size(paths))
  }
  parts <- rw_split_bytes(sizes, shards)
  if (is.null(dir)) {
    worker_paths <- rw_absolute(paths)
    args <- lapply(parts, function(idx) list(worker_paths[idx], algo, threads))
    run <- rw_run_shards("rw_hash_part", args, call)
  } else {
    worker_dir <- rw_absolute(dir)
    args <- lapply(parts, function(idx) list(worker_dir, paths[idx], algo, threads))
    run <- rw_run_shards("rw_hash_names_part", args, call)
    # Spelled as Rust's Path::join() spells them, for the messages.
    worker_paths <- paste0(sub("/+$", "", worker_dir, useBytes = TRUE), "/", paths)
    paths <- paste0(sub("/+$", "", dir, useBytes = TRUE), "/", paths)
  }
  values <- run$values
  done <- run$done
  none <- rep(NA_character_, length(paths))
  columns <- list(digest = none, reason = none, message = none, kind = none)
  for (k in which(done)) {
    for (name in names(columns)) columns[[name]][parts[[k]]] <- values[[k]][[name]]
  }
  # Messages name the paths as given here, not as the workers saw them.
  for (i in which(!is.na(columns$message) & worker_paths != paths)) {
    columns$message[[i]] <- sub(paste0("'", worker_paths[[i]], "'"), paste0("'", paths[[i]], "'"),
                                columns$message[[i]], fixed = TRUE, useBytes = TRUE)
  }
  if (!all(done)) {
    finished <- sort(unlist(parts[done]))
    result <- stats::setNames(columns$digest[finished], paths[finished])
    rw_failed_parts(values, result, call)
  }
  columns
}

rw_hash_part <- function(paths, algo, threads) {
  hash_files_(paths, algo, rw_threads(threads), FALSE)
}

rw_hash_names_part <- function(dir, names, algo, threads) {
  hash_names_(dir, names, algo, rw_threads(threads))
}

# verify_bag()'s result, the bag's files (but for the tag files this
# process reads anyway) hashed in shards. `threads` and `worker_threads` as
# for rw_verify_shards().
rw_bag_shards <- function(bag, threads, worker_threads, shards, exclude, call) {
  plan <- rw_unwrap(bag_plan_(bag, exclude), call)
  parts <- rw_split_bytes(plan$size, shards)
  worker_bag <- rw_absolute(bag)
  args <- lapply(parts, function(idx) {
    list(worker_bag, plan$path[idx], plan$algos[idx], worker_threads)
  })
  run <- rw_run_shards("rw_bag_part", args, call)
  values <- run$values
  done <- run$done
  # A failed part's files have status NA: their rows are left out.
  status <- lapply(seq_along(parts), function(k) {
    if (done[k]) values[[k]]$status else rep(NA_integer_, length(parts[[k]]))
  })
  digest <- unlist(lapply(values[done], `[[`, "digest"))
  in_parts <- unlist(parts)
  found <- rw_unwrap(verify_bag_merge_(bag, threads, plan$path[in_parts], plan$algos[in_parts],
                                       unlist(status), as.character(digest), exclude),
                     call)
  result <- rw_bag_verification(found, bag)
  if (!all(done)) {
    rw_failed_parts(values, result, call)
  }
  result
}

rw_bag_part <- function(bag, paths, algos, threads) {
  bag_hash_part_(bag, paths, algos, rw_threads(threads))
}
