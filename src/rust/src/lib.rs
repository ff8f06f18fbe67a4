//! The extendr binding, and the only module that touches R. Each entry
//! point converts its arguments, calls the pure core, and converts the
//! result. Errors and panics come back as values of class
//! `rwbridge_failure`, which R turns into conditions (`R/errors.R`), so
//! R's error longjmp never crosses a Rust frame. Work on worker threads
//! runs while this (the R) thread waits and polls for Ctrl-C.

pub mod errors;
pub mod fileio;
pub mod hash;
pub mod manifest;
pub mod outliers;
pub mod parallel;
pub mod signatures;
pub mod verify;

use errors::RwError;
use extendr_api::prelude::*;
use extendr_ffi::{R_NilValue, Rf_allocVector, Rf_install, SEXP, SEXPTYPE};
use hash::Algo;
use outliers::Method;
use parallel::{with_pool, Cancel, Progress};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Reads a whole file as a raw vector or one UTF-8 string.
/// @noRd
#[extendr]
fn readit_(path: &str, as_text: bool) -> Robj {
    guarded(|| {
        let path = Path::new(path);
        if as_text {
            let fits = |len: u64| i32::try_from(len).is_ok();
            let file = fileio::open_regular(path)?;
            // Checked before reading too, so a huge file is refused at once.
            if !fits(file.size) {
                return Err(too_long_for_a_string(path));
            }
            let text = file.read_text()?;
            if !fits(text.len() as u64) {
                return Err(too_long_for_a_string(path));
            }
            return Ok(Robj::from(text.as_str()));
        }
        read_raw(path)
    })
}

/// Reads straight into a freshly allocated R raw vector: no second copy.
fn read_raw(path: &Path) -> Result<Robj, RwError> {
    let mut file = fileio::open_regular(path)?;
    let size = usize::try_from(file.size).map_err(|_| too_big(path))?;
    let mut vector = alloc_vector(SEXPTYPE::RAWSXP, size).ok_or_else(|| too_big(path))?;
    let buf = vector
        .as_raw_slice_mut()
        .ok_or_else(|| RwError::Internal("a raw vector has no bytes".into()))?;
    // Looked up only for big reads: small ones take microseconds, and
    // finding the core count reads cgroup files.
    let threads = if size >= fileio::PARALLEL_READ_MIN {
        parallel::resolve_threads(threads_option())
    } else {
        1
    };
    let got = file.fill_parallel(buf, threads)?;
    let rest = file.rest()?;
    if got == size && rest.is_empty() {
        return Ok(vector);
    }
    // The file changed size while we read it: return what is there now.
    let mut bytes = buf[..got].to_vec();
    bytes.extend(rest);
    Ok(Raw::from_bytes(&bytes).into())
}

/// Option `rwbridge.threads` when it is a whole number from 1 to 1024, else
/// 0 (the default). For `readit()`, which has no `threads` argument.
fn threads_option() -> i32 {
    // SAFETY: on the R thread; the symbol and the option's value are kept
    // alive by R (the symbol table, the options list), and `Robj` protects
    // the value before anything else runs.
    let value = unsafe { Robj::from_sexp(Rf_GetOption1(Rf_install(c"rwbridge.threads".as_ptr()))) };
    match value
        .as_real()
        .or_else(|| value.as_integer().map(f64::from))
    {
        Some(n) if (1.0..=1024.0).contains(&n) && n.fract() == 0.0 => n as i32,
        _ => 0,
    }
}

fn no_memory() -> RwError {
    RwError::Value {
        arg: "x",
        reason: "has more outliers than memory can hold".into(),
    }
}

fn too_long_for_a_string(path: &Path) -> RwError {
    RwError::Value {
        arg: "as",
        reason: format!(
            "is \"text\" but '{}' is over 2 GiB, the limit of one R string: use as = \"raw\"",
            path.display()
        ),
    }
}

fn too_big(path: &Path) -> RwError {
    RwError::io_reason("read", path, "not enough memory for the whole file")
}

/// Replaces (or appends to) a file with the bytes of a raw vector.
/// @noRd
#[extendr]
fn writeit_(data: Robj, path: &str, append: bool) -> Robj {
    guarded(|| {
        let bytes = data.as_raw_slice().unwrap_or(&[]);
        let path = Path::new(path);
        let written = if append {
            fileio::append(path, bytes)?
        } else {
            fileio::write_atomic(path, bytes)?
        };
        Ok(Robj::from(written as f64))
    })
}

/// Checks every entry of a manifest; a list of columns for R to assemble.
/// @noRd
#[extendr]
fn verify_(dir: &str, manifest: &str, threads: i32, progress: bool, allow_outside: bool) -> Robj {
    guarded(|| {
        let dir = PathBuf::from(dir);
        let parsed = manifest::parse(&fileio::read_bytes(Path::new(manifest))?);
        let entries = &parsed.entries;
        let counters = Progress::default();
        let outcomes = run_on_workers(
            threads,
            progress.then_some(("verify", &counters)),
            |cancel| {
                verify::verify_entries(
                    &dir,
                    entries,
                    allow_outside,
                    cancel,
                    progress.then_some(&counters),
                )
            },
        )?;
        let ints = |values: Vec<i32>| -> Robj { values.into() };
        let strings = |values: Vec<Option<&str>>| -> Robj { values.into() };
        let names: Vec<String> = entries
            .iter()
            .map(|e| String::from_utf8_lossy(&e.name).into_owned())
            .collect();
        // Statuses and algorithms go as codes (R's `rw_statuses[code]`):
        // one string per row would cost a lookup in R's string cache each.
        let columns = [
            (
                "line",
                ints(entries.iter().map(|e| e.line as i32).collect()),
            ),
            (
                "file",
                strings(names.iter().map(|n| Some(n.as_str())).collect()),
            ),
            (
                "algo",
                ints(entries.iter().map(|e| e.algo as i32 + 1).collect()),
            ),
            (
                "expected",
                strings(entries.iter().map(|e| Some(e.expected.as_str())).collect()),
            ),
            (
                "actual",
                strings(outcomes.iter().map(|o| o.actual.as_deref()).collect()),
            ),
            (
                "status",
                ints(outcomes.iter().map(|o| o.status as i32 + 1).collect()),
            ),
            (
                "malformed_line",
                ints(parsed.malformed.iter().map(|m| m.line as i32).collect()),
            ),
            (
                "malformed_text",
                strings(
                    parsed
                        .malformed
                        .iter()
                        .map(|m| Some(m.text.as_str()))
                        .collect(),
                ),
            ),
        ];
        named_list(columns)
    })
}

/// Hashes the files under `dir` (or the `files` given) and writes the manifest.
/// @noRd
#[extendr]
fn write_signatures_(
    dir: &str,
    manifest: &str,
    files: Nullable<Strings>,
    algo: &str,
    threads: i32,
) -> Robj {
    guarded(|| {
        let dir = Path::new(dir);
        let manifest = Path::new(manifest);
        let algo = parse_algo(algo)?;
        let names = match files {
            Nullable::NotNull(files) => files.iter().map(|f| f.as_bytes().to_vec()).collect(),
            Nullable::Null => signatures::list_files(dir, Some(manifest))?,
        };
        let signed = run_on_workers(threads, None, |cancel| {
            signatures::write_signatures(dir, manifest, &names, algo, cancel)
        })?;
        let (files, digests): (Vec<String>, Vec<String>) = signed
            .into_iter()
            .map(|(name, digest)| (String::from_utf8_lossy(&name).into_owned(), digest))
            .unzip();
        named_list([("file", files.into()), ("digest", digests.into())])
    })
}

/// Digests of files, `NA` for those that cannot be read.
/// @noRd
#[extendr]
fn hash_files_(paths: Strings, algo: &str, threads: i32) -> Robj {
    guarded(|| {
        let algo = parse_algo(algo)?;
        // An NA path names no file; an empty one cannot be opened either.
        let paths: Vec<PathBuf> = paths
            .iter()
            .map(|p| PathBuf::from(if p.is_na() { "" } else { p.as_ref() }))
            .collect();
        let digests = run_on_workers(threads, None, |cancel| {
            hash::hash_files(algo, &paths, cancel)
        })?;
        Ok(digests.into())
    })
}

/// Outlier indices (1-based) with attributes `center`, `scale`,
/// `threshold` and `method`.
/// @noRd
#[extendr]
fn detect_outliers_(x: Robj, threshold: f64, method: &str, threads: i32) -> Robj {
    guarded(|| {
        let method_kind = Method::from_name(method).ok_or_else(|| RwError::Value {
            arg: "method",
            reason: format!("must be \"zscore\" or \"mad\", not \"{method}\""),
        })?;
        let found = if let Some(values) = x.as_real_slice() {
            run_on_workers(threads, None, |cancel| {
                outliers::detect(values, threshold, method_kind, cancel)
            })?
        } else if let Some(values) = x.as_integer_slice() {
            run_on_workers(threads, None, |cancel| {
                outliers::detect(values, threshold, method_kind, cancel)
            })?
        } else {
            return Err(RwError::Type {
                arg: "x",
                expected: "a double or integer vector".into(),
            });
        };
        let indices = &found.indices;
        let fits_integer = indices.last().map_or(true, |i| i < i32::MAX as usize);
        let one_based = indices.iter().map(|i| i + 1);
        let mut out = if fits_integer {
            filled_vector(
                SEXPTYPE::INTSXP,
                indices.len(),
                Robj::as_integer_slice_mut,
                one_based.map(|i| i as i32),
            )
        } else {
            filled_vector(
                SEXPTYPE::REALSXP,
                indices.len(),
                Robj::as_real_slice_mut,
                one_based.map(|i| i as f64),
            )
        }
        .ok_or_else(no_memory)?;
        let na_if_nan = |v: f64| {
            if v.is_nan() {
                Rfloat::na()
            } else {
                Rfloat::from(v)
            }
        };
        out.set_attrib("center", na_if_nan(found.center))
            .map_err(internal)?;
        out.set_attrib("scale", na_if_nan(found.scale))
            .map_err(internal)?;
        out.set_attrib("threshold", threshold).map_err(internal)?;
        out.set_attrib("method", method).map_err(internal)?;
        Ok(out)
    })
}

/// Does nothing: the per-call cost of an extendr entry point, for `bench/`.
/// @noRd
#[extendr]
fn noop_() -> Robj {
    guarded(|| Ok(Robj::from(())))
}

/// Panics, on this thread or on a worker, so tests can check that a panic
/// becomes an `rwbridge_internal_error` and never takes R down.
/// @noRd
#[extendr]
fn panic_for_test_(on_worker: bool) -> Robj {
    guarded(|| {
        if on_worker {
            run_on_workers(2, None, |_| -> Result<(), RwError> {
                panic!("deliberate panic on a worker, 100% certain")
            })?;
        }
        panic!("deliberate panic with 100% certainty")
    })
}

fn parse_algo(algo: &str) -> Result<Algo, RwError> {
    Algo::from_name(algo).ok_or_else(|| RwError::Value {
        arg: "algo",
        reason: format!("must be \"sha1\" or \"sha256\", not \"{algo}\""),
    })
}

fn internal(e: extendr_api::Error) -> RwError {
    RwError::Internal(e.to_string())
}

fn named_list<const N: usize>(items: [(&str, Robj); N]) -> Result<Robj, RwError> {
    let (names, values): (Vec<&str>, Vec<Robj>) = items.into_iter().unzip();
    List::from_names_and_values(names, values)
        .map(Into::into)
        .map_err(internal)
}

/// Runs `f`, turning an error or a panic into an `rwbridge_failure` value.
fn guarded(f: impl FnOnce() -> Result<Robj, RwError>) -> Robj {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(RwError::Internal(panic_message(&*payload))))
        .unwrap_or_else(|e| failure(&e))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

/// `list(kind, message, path)` of class `rwbridge_failure`. The message goes
/// back as data, never through `Rf_error()`'s format string, so a `%` in a
/// path is harmless here (extendr issue 1058).
fn failure(err: &RwError) -> Robj {
    let items = [
        ("kind", Robj::from(err.kind())),
        ("message", Robj::from(err.to_string())),
        (
            "path",
            err.path().map_or_else(|| Robj::from(()), Robj::from),
        ),
    ];
    match named_list(items) {
        Ok(mut list) => {
            // Setting a class on a fresh list cannot fail; if it ever did,
            // R would see a plain list and report an internal error.
            let _ = list.set_class(["rwbridge_failure"]);
            list
        }
        Err(_) => Robj::from(()),
    }
}

/// How often the R thread wakes up while workers run: Ctrl-C is seen within
/// this delay, and progress is redrawn at most every other wake-up.
const POLL: Duration = Duration::from_millis(50);

/// Runs `work` on a scoped pool of `threads` workers while this thread, the
/// R thread, waits: it polls for Ctrl-C (raising the cancel flag the workers
/// check) and draws the progress line. Returns once every worker has exited.
fn run_on_workers<T: Send>(
    threads: i32,
    progress: Option<(&str, &Progress)>,
    work: impl FnOnce(&Cancel) -> Result<T, RwError> + Send,
) -> Result<T, RwError> {
    let threads = parallel::resolve_threads(threads);
    let cancel = Cancel::default();
    let mut meter = progress.map(|(label, counters)| ProgressLine::new(label, counters));
    std::thread::scope(|scope| {
        let (done, result) = mpsc::channel();
        let cancel = &cancel;
        scope.spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| with_pool(threads, || work(cancel))))
                .unwrap_or_else(|payload| Ok(Err(RwError::Internal(panic_message(&*payload)))));
            let _ = done.send(outcome);
        });
        loop {
            match result.recv_timeout(POLL) {
                Ok(outcome) => {
                    if let Some(meter) = meter.as_mut() {
                        meter.finish();
                    }
                    return outcome.and_then(|r| r);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if interrupt_pending() {
                        cancel.set();
                    }
                    if let Some(meter) = meter.as_mut() {
                        meter.draw(false);
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(RwError::Internal(
                        "a worker thread stopped without a result".into(),
                    ))
                }
            }
        }
    })
}

/// The progress line on stderr: files and bytes done of the total, throughput.
struct ProgressLine<'a> {
    label: &'a str,
    counters: &'a Progress,
    started: Instant,
    drawn: Option<Instant>,
}

impl<'a> ProgressLine<'a> {
    fn new(label: &'a str, counters: &'a Progress) -> Self {
        ProgressLine {
            label,
            counters,
            started: Instant::now(),
            drawn: None,
        }
    }

    fn draw(&mut self, last: bool) {
        let now = Instant::now();
        if !last
            && self
                .drawn
                .is_some_and(|t| now - t < Duration::from_millis(100))
        {
            return;
        }
        self.drawn = Some(now);
        let c = self.counters;
        let bytes = c.bytes_done.load(Ordering::Relaxed) as f64;
        let seconds = (now - self.started).as_secs_f64().max(1e-9);
        let line = format!(
            "\r{}: {}/{} files, {} of {}, {}/s   ",
            self.label,
            c.files_done.load(Ordering::Relaxed),
            c.files_total.load(Ordering::Relaxed),
            human_bytes(bytes),
            human_bytes(c.bytes_total.load(Ordering::Relaxed) as f64),
            human_bytes(bytes / seconds),
        );
        reprint!("{}", line.replace('%', "%%"));
    }

    fn finish(&mut self) {
        if self.drawn.is_some() {
            self.draw(true);
            reprint!("\n");
        }
    }
}

fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

// R's C API beyond what extendr-ffi declares. SEXP is an opaque pointer to
// R, as in extendr-ffi's own declarations.
#[allow(improper_ctypes)]
extern "C" {
    fn R_ToplevelExec(fun: Option<unsafe extern "C" fn(*mut c_void)>, data: *mut c_void) -> i32;
    fn R_CheckUserInterrupt();
    fn Rf_GetOption1(tag: SEXP) -> SEXP;
    fn R_tryCatchError(
        body: Option<unsafe extern "C" fn(*mut c_void) -> SEXP>,
        body_data: *mut c_void,
        handler: Option<unsafe extern "C" fn(SEXP, *mut c_void) -> SEXP>,
        handler_data: *mut c_void,
    ) -> SEXP;
}

unsafe extern "C" fn check_user_interrupt(_: *mut c_void) {
    // SAFETY: called by R_ToplevelExec on the R thread; the longjmp that an
    // interrupt causes ends in R_ToplevelExec, crossing no Rust frame that
    // owns anything.
    unsafe { R_CheckUserInterrupt() }
}

/// True when the user pressed Ctrl-C. R consumes the interrupt here; the R
/// side signals the `interrupt` condition once the workers have stopped.
fn interrupt_pending() -> bool {
    // SAFETY: runs on the R thread (only `run_on_workers` calls it, from the
    // thread that R called into); R_ToplevelExec returns 0 when the check jumped.
    unsafe { R_ToplevelExec(Some(check_user_interrupt), std::ptr::null_mut()) == 0 }
}

/// A new R vector of `len` elements holding `values`, written in place.
fn filled_vector<T>(
    sexptype: SEXPTYPE,
    len: usize,
    slice_of: for<'a> fn(&'a mut Robj) -> Option<&'a mut [T]>,
    values: impl Iterator<Item = T>,
) -> Option<Robj> {
    let mut vector = alloc_vector(sexptype, len)?;
    for (slot, value) in slice_of(&mut vector)?.iter_mut().zip(values) {
        *slot = value;
    }
    Some(vector)
}

/// Allocations at least this large are made under `R_tryCatchError`, so R's
/// "cannot allocate vector" becomes an error value, not a longjmp out of Rust.
const GUARDED_ALLOCATION: usize = 1 << 26;

/// A new, uninitialised R vector, or `None` when R cannot allocate it.
fn alloc_vector(sexptype: SEXPTYPE, length: usize) -> Option<Robj> {
    let length = isize::try_from(length).ok()?;
    if length < GUARDED_ALLOCATION as isize {
        return Some(Robj::alloc_vector(sexptype, length as usize));
    }
    struct Request {
        sexptype: SEXPTYPE,
        length: isize,
    }
    unsafe extern "C" fn body(data: *mut c_void) -> SEXP {
        // SAFETY: `data` points at the `Request` below, alive for the call;
        // this frame owns nothing, so R's longjmp out of it skips no destructor.
        unsafe {
            let request = &*(data as *const Request);
            Rf_allocVector(request.sexptype, request.length)
        }
    }
    unsafe extern "C" fn on_error(_: SEXP, _: *mut c_void) -> SEXP {
        // SAFETY: reading R's constant nil on the R thread.
        unsafe { R_NilValue }
    }
    let mut request = Request { sexptype, length };
    // SAFETY: on the R thread; the result is protected by `Robj` at once,
    // before anything else can allocate.
    unsafe {
        let sexp = R_tryCatchError(
            Some(body),
            &mut request as *mut Request as *mut c_void,
            Some(on_error),
            std::ptr::null_mut(),
        );
        if sexp == R_NilValue {
            None
        } else {
            Some(Robj::from_sexp(sexp))
        }
    }
}

extendr_module! {
    mod rwbridge;
    fn readit_;
    fn writeit_;
    fn verify_;
    fn write_signatures_;
    fn hash_files_;
    fn detect_outliers_;
    fn noop_;
    fn panic_for_test_;
}
