//! What only the R thread may do, beyond what extendr offers: poll for
//! Ctrl-C without R's longjmp crossing a Rust frame, print to R's stderr,
//! and allocate R vectors whose failure comes back as `None`. Every
//! function here must be called on the R thread, never from a worker.

use extendr_api::prelude::*;
use extendr_ffi::{
    cetype_t, R_NaReal, R_NaString, R_NilValue, R_PreserveObject, Rf_allocVector, Rf_install,
    Rf_mkCharLenCE, Rf_protect, Rf_setAttrib, Rf_unprotect, LENGTH, MARK_NOT_MUTABLE, R_CHAR,
    SET_STRING_ELT, SEXP, SEXPTYPE, STRING_PTR_RO,
};
use std::ffi::{c_char, c_void, CStr};

// R's C API beyond what extendr-ffi declares. SEXP is an opaque pointer to
// R, as in extendr-ffi's own declarations.
#[allow(improper_ctypes)]
extern "C" {
    fn R_ToplevelExec(fun: Option<unsafe extern "C" fn(*mut c_void)>, data: *mut c_void) -> i32;
    fn R_CheckUserInterrupt();
    fn Rf_ScalarReal(x: f64) -> SEXP;
    fn Rf_ScalarInteger(x: i32) -> SEXP;
    fn Rf_ScalarString(x: SEXP) -> SEXP;
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
/// side signals the `interrupt` condition once the work has stopped.
pub fn interrupt_pending() -> bool {
    // SAFETY: on the R thread (see the module's contract); R_ToplevelExec
    // returns 0 when the check jumped.
    unsafe { R_ToplevelExec(Some(check_user_interrupt), std::ptr::null_mut()) == 0 }
}

/// Writes `text` to R's stderr as it is: a `%` in it is no format directive.
pub fn print_stderr(text: &str) {
    reprint!("{}", text.replace('%', "%%"));
}

/// The value of a scalar attribute.
pub enum Scalar {
    /// A double; NaN becomes R's `NA`.
    Real(f64),
    /// An integer.
    Integer(i32),
    /// One of the crate's own names (no NUL byte, ASCII).
    Name(&'static str),
}

/// Sets scalar attributes straight through R's C API: extendr's
/// `set_attrib()` allocates a string for each name and sets up R's unwind
/// protection, which costs more than a small call's whole work.
pub fn set_attributes(target: &mut Robj, attributes: &[(&'static CStr, Scalar)]) {
    for (name, value) in attributes {
        // SAFETY: on the R thread. `target` is protected by its `Robj`;
        // symbols are never collected; each value is protected from its
        // allocation until it is attached. No call here can raise an R
        // error: the names are short constants and the strings hold no NUL.
        unsafe {
            let symbol = symbol(name);
            let value = Rf_protect(match value {
                Scalar::Real(v) if v.is_nan() => Rf_ScalarReal(R_NaReal),
                Scalar::Real(v) => Rf_ScalarReal(*v),
                Scalar::Integer(v) => Rf_ScalarInteger(*v),
                Scalar::Name(text) => name_value(text),
            });
            Rf_setAttrib(target.get_mut(), symbol, value);
            Rf_unprotect(1);
        }
    }
}

thread_local! {
    /// Symbols already looked up, by the address of their constant name:
    /// `Rf_install()` hashes the name and searches R's symbol table at each
    /// call, which a small call's attributes would pay several times.
    static SYMBOLS: std::cell::RefCell<Vec<(usize, usize)>> = const {
        std::cell::RefCell::new(Vec::new())
    };
}

thread_local! {
    /// The character vectors of constant names already made, by the
    /// address of their text: preserved for the session and never
    /// modified (R duplicates a shared attribute value before changing it).
    static NAMES: std::cell::RefCell<Vec<(usize, usize)>> = const {
        std::cell::RefCell::new(Vec::new())
    };
}

/// A character vector holding one constant name, made once.
///
/// # Safety
/// On the R thread; `text` holds no NUL byte.
unsafe fn name_value(text: &'static str) -> SEXP {
    let key = text.as_ptr() as usize;
    NAMES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(&(_, sexp)) = cache.iter().find(|(k, _)| *k == key) {
            return sexp as SEXP;
        }
        // SAFETY: on the R thread (the caller's contract); the new vector
        // is preserved before anything else can allocate, and marked so
        // that no in-place change can reach it.
        let sexp = unsafe {
            let value = Rf_ScalarString(Rf_mkCharLenCE(
                text.as_ptr() as *const c_char,
                text.len() as i32,
                cetype_t::CE_UTF8,
            ));
            R_PreserveObject(value);
            MARK_NOT_MUTABLE(value);
            value
        };
        cache.push((key, sexp as usize));
        sexp
    })
}

/// R's symbol for a constant name.
fn symbol(name: &'static CStr) -> SEXP {
    let key = name.as_ptr() as usize;
    SYMBOLS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(&(_, sexp)) = cache.iter().find(|(k, _)| *k == key) {
            return sexp as SEXP;
        }
        // SAFETY: on the R thread; symbols are never collected, so the
        // address stays valid for the session.
        let sexp = unsafe { Rf_install(name.as_ptr()) };
        cache.push((key, sexp as usize));
        sexp
    })
}

/// A new R vector of `len` elements holding `values`, written in place.
pub fn filled_vector<T>(
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
/// "cannot allocate vector" becomes `None`, not a longjmp out of Rust.
const GUARDED_ALLOCATION: usize = 1 << 26;

/// A new, uninitialised R vector, or `None` when R cannot allocate it.
pub fn alloc_vector(sexptype: SEXPTYPE, length: usize) -> Option<Robj> {
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

/// The elements of a character vector as R holds them: pointers to its
/// interned strings (R's CHARSXP cache gives equal strings of one encoding
/// one address), read in place; `None` for anything else.
pub fn string_elements(x: &Robj) -> Option<&[SEXP]> {
    if x.rtype() != Rtype::Strings {
        return None;
    }
    // SAFETY: on the R thread; `x` is a character vector kept alive by its
    // `Robj` for the borrow's lifetime, and nothing here allocates.
    unsafe {
        let len = x.len();
        if len == 0 {
            return Some(&[]);
        }
        Some(std::slice::from_raw_parts(STRING_PTR_RO(x.get()), len))
    }
}

/// R's `NA_character_`, the one string that is `NA`.
pub fn na_string() -> SEXP {
    // SAFETY: reading R's constant on the R thread.
    unsafe { R_NaString }
}

/// The bytes of one of R's strings (an element of [`string_elements`]).
pub fn string_bytes<'a>(s: SEXP) -> &'a [u8] {
    // SAFETY: on the R thread; `s` is a CHARSXP of a live character
    // vector, whose bytes R keeps for as long as the vector lives.
    unsafe {
        let len = LENGTH(s) as usize;
        std::slice::from_raw_parts(R_CHAR(s) as *const u8, len)
    }
}

/// A character vector of the strings `strings[at[0]]`, `strings[at[1]]`,
/// ... (R's own, not copied); `None` when R cannot allocate it.
pub fn strings_at(strings: &[SEXP], at: &[usize]) -> Option<Robj> {
    let mut out = alloc_vector(SEXPTYPE::STRSXP, at.len())?;
    for (k, &i) in at.iter().enumerate() {
        // SAFETY: on the R thread; `out` is a protected character vector of
        // `at.len()` elements and each element a CHARSXP of a live vector.
        unsafe { SET_STRING_ELT(out.get_mut(), k as isize, strings[i]) };
    }
    Some(out)
}

/// The addresses of a character vector's strings, as numbers: what may be
/// read on a worker thread (never the strings themselves, which are R's).
pub fn addresses(strings: &[SEXP]) -> &[usize] {
    // SAFETY: a SEXP is a pointer, of the size and alignment of a usize;
    // the slice is only read, for as long as `strings` is borrowed.
    unsafe { std::slice::from_raw_parts(strings.as_ptr() as *const usize, strings.len()) }
}
