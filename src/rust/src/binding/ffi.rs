//! What only the R thread may do, beyond what extendr offers: poll for
//! Ctrl-C without R's longjmp crossing a Rust frame, print to R's stderr,
//! allocate R vectors whose failure comes back as `None`, and read and make
//! R's strings as bytes with their declared encoding (extendr assumes
//! UTF-8). Every function here must be called on the R thread, never from
//! a worker.

use extendr_api::prelude::*;
use extendr_ffi::{
    cetype_t, R_NaReal, R_NaString, R_NilValue, R_PreserveObject, Rf_allocVector, Rf_install,
    Rf_mkCharLenCE, Rf_protect, Rf_setAttrib, Rf_unprotect, Rf_xlength, LENGTH, MARK_NOT_MUTABLE,
    R_CHAR, SET_STRING_ELT, SEXP, SEXPTYPE, STRING_ELT, STRING_PTR_RO, TYPEOF,
};
use std::ffi::{c_char, c_int, c_void, CStr};

// R's C API beyond what extendr-ffi declares. SEXP is an opaque pointer to
// R, as in extendr-ffi's own declarations.
#[allow(improper_ctypes)]
extern "C" {
    fn R_ToplevelExec(fun: Option<unsafe extern "C" fn(*mut c_void)>, data: *mut c_void) -> i32;
    fn R_CheckUserInterrupt();
    fn Rf_ScalarReal(x: f64) -> SEXP;
    fn Rf_ScalarInteger(x: i32) -> SEXP;
    fn Rf_getCharCE(x: SEXP) -> c_int;
    fn Rf_translateChar(x: SEXP) -> *const c_char;
    fn Rf_translateCharUTF8(x: SEXP) -> *const c_char;
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

/// The encoding an R string declares (`Encoding()`; ASCII is `Native`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    Native,
    Utf8,
    Latin1,
    Bytes,
}

/// Element `i` of the character vector `x`, as its bytes and the encoding
/// it declares; `None` for `NA`, or when `x` is not a character vector of
/// more than `i` elements. The bytes live as long as `x`.
pub fn string_at(x: &Robj, i: usize) -> Option<(&[u8], Declared)> {
    // SAFETY: on the R thread; `x` is protected by its `Robj`, and so is
    // every element's CHARSXP while `x` lives, which bounds the slice's
    // lifetime. The type and length are checked before any access, and
    // none of these calls allocates or raises an R error.
    unsafe {
        let sexp = x.get();
        if TYPEOF(sexp) != SEXPTYPE::STRSXP || i as isize >= Rf_xlength(sexp) {
            return None;
        }
        let charsxp = STRING_ELT(sexp, i as isize);
        if charsxp == R_NaString {
            return None;
        }
        let len = usize::try_from(Rf_xlength(charsxp)).ok()?;
        let bytes = std::slice::from_raw_parts(R_CHAR(charsxp) as *const u8, len);
        let declared = match Rf_getCharCE(charsxp) {
            c if c == cetype_t::CE_UTF8 as c_int => Declared::Utf8,
            c if c == cetype_t::CE_LATIN1 as c_int => Declared::Latin1,
            c if c == cetype_t::CE_BYTES as c_int => Declared::Bytes,
            _ => Declared::Native,
        };
        Some((bytes, declared))
    }
}

/// Element `i` of `x` translated by R to the native encoding (or to
/// UTF-8), as R's file functions translate a path; `None` when R cannot
/// (an R error, caught here: it never jumps over Rust frames).
pub fn translated(x: &Robj, i: usize, to_utf8: bool) -> Option<Vec<u8>> {
    struct Request {
        charsxp: SEXP,
        to_utf8: bool,
        out: *const c_char,
    }
    unsafe extern "C" fn body(data: *mut c_void) -> SEXP {
        // SAFETY: `data` points at the `Request` below, alive for the call;
        // this frame owns nothing, so R's longjmp out of it skips no
        // destructor. The result lives in R's transient memory until the
        // `.Call` returns.
        unsafe {
            let request = &mut *(data as *mut Request);
            request.out = if request.to_utf8 {
                Rf_translateCharUTF8(request.charsxp)
            } else {
                Rf_translateChar(request.charsxp)
            };
            R_NilValue
        }
    }
    unsafe extern "C" fn on_error(_: SEXP, _: *mut c_void) -> SEXP {
        // SAFETY: reading R's constant nil on the R thread.
        unsafe { R_NilValue }
    }
    string_at(x, i)?;
    // SAFETY: on the R thread; `x` is a character vector with a non-NA
    // element `i` (checked just above), protected by its `Robj`.
    unsafe {
        let mut request = Request {
            charsxp: STRING_ELT(x.get(), i as isize),
            to_utf8,
            out: std::ptr::null(),
        };
        R_tryCatchError(
            Some(body),
            &mut request as *mut Request as *mut c_void,
            Some(on_error),
            std::ptr::null_mut(),
        );
        (!request.out.is_null()).then(|| CStr::from_ptr(request.out).to_bytes().to_vec())
    }
}

/// Whether this session's locale encodes text in UTF-8, as R decides it.
/// (Elsewhere than Unix: `false`, so that R translates every marked string.)
#[cfg(not(unix))]
pub fn utf8_locale() -> bool {
    false
}

/// Whether this session's locale encodes text in UTF-8, as R decides it.
#[cfg(unix)]
pub fn utf8_locale() -> bool {
    // SAFETY: nl_langinfo() returns a pointer to a static string, read at
    // once on the R thread (which alone changes the locale).
    unsafe {
        let codeset = libc::nl_langinfo(libc::CODESET);
        !codeset.is_null() && {
            let name = CStr::from_ptr(codeset).to_bytes();
            name.eq_ignore_ascii_case(b"UTF-8") || name.eq_ignore_ascii_case(b"utf8")
        }
    }
}

/// A new character vector of `strings`, each made by R from its bytes:
/// declared UTF-8 when `utf8` says so, else native. `None` is `NA`. The
/// bytes must hold no NUL and fit R's 2^31 - 1 limit (the caller makes
/// sure: R would raise an error).
pub fn string_vector<'a>(
    len: usize,
    strings: impl Iterator<Item = Option<(&'a [u8], bool)>>,
) -> Option<Robj> {
    let mut vector = alloc_vector(SEXPTYPE::STRSXP, len)?;
    for (i, string) in strings.take(len).enumerate() {
        // SAFETY: on the R thread; `vector` is protected by its `Robj`
        // while each new CHARSXP is made and set at once; `i < len`. The
        // caller guarantees bytes without NUL within R's length limit, so
        // mkCharLenCE() raises no error.
        unsafe {
            let charsxp = match string {
                None => R_NaString,
                Some((bytes, utf8)) => Rf_mkCharLenCE(
                    bytes.as_ptr() as *const c_char,
                    bytes.len() as i32,
                    if utf8 {
                        cetype_t::CE_UTF8
                    } else {
                        cetype_t::CE_NATIVE
                    },
                ),
            };
            SET_STRING_ELT(vector.get_mut(), i as isize, charsxp);
        }
    }
    Some(vector)
}
