//! Whole-file reads and safe writes. Opens only regular files, and opens them
//! without blocking, so a FIFO or a device is refused at once. Writes replace
//! a file atomically (temporary file, fsync, rename) and leave no temporary
//! file behind on failure. Never touches R.

use crate::errors::{try_vec, RwError};
use crate::runtime::{Cancel, Runtime};
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A regular file opened for reading, with the size it had when opened.
pub struct OpenFile {
    file: File,
    path: PathBuf,
    /// Size in bytes according to `fstat()` right after opening.
    pub size: u64,
    /// Bytes read so far by [`OpenFile::fill`].
    position: u64,
}

/// Opens `path` for reading if, and only if, it is a regular file.
pub fn open_regular(path: &Path) -> Result<OpenFile, RwError> {
    let file = open_nonblocking(path).map_err(|e| RwError::io("open", path, e))?;
    OpenFile::new(file, path)
}

/// Opens `path` for reading without blocking (a FIFO answers at once),
/// whatever it is: [`OpenFile::new`] then accepts only a regular file.
pub fn open_nonblocking(path: &Path) -> io::Result<File> {
    nonblocking(OpenOptions::new().read(true)).open(path)
}

impl OpenFile {
    /// Accepts a file opened without blocking (as [`open_regular`] does) if
    /// it is a regular file. Checked on the descriptor, so the file cannot
    /// be swapped between the check and the reads.
    pub fn new(file: File, path: &Path) -> Result<OpenFile, RwError> {
        let meta = file.metadata().map_err(|e| RwError::io("open", path, e))?;
        if !meta.is_file() {
            return Err(not_regular("read", path, meta.file_type()));
        }
        Ok(OpenFile {
            file,
            path: path.to_path_buf(),
            size: meta.len(),
            position: 0,
        })
    }

    /// Reads into `buf` until it is full or the file ends; returns the bytes read.
    /// A short read that ends where `fstat()` said the file ends is taken
    /// as the end, saving the read that would return 0: most files are
    /// read in one call. A file that grew is still read on.
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<usize, RwError> {
        let (file, size, position) = (&mut self.file, self.size, &mut self.position);
        let mut at_end = false;
        fill_with(buf, |part, _| {
            if at_end {
                return Ok(0);
            }
            let n = file.read(part)?;
            *position += n as u64;
            at_end = n < part.len() && *position == size && size > 0;
            Ok(n)
        })
        .map_err(|e| RwError::io("read", &self.path, e))
    }

    /// As [`OpenFile::fill`], for a read of at least `PARALLEL_READ_MIN`
    /// bytes from the start of the file: split into pieces that the
    /// runtime's kept workers fill with positioned reads (copying from the
    /// page cache, and faulting in the fresh pages of `buf`, are then
    /// shared among cores) while the caller polls for Ctrl-C; each piece
    /// checks the cancel flag first. The file position is left after the
    /// bytes read, for [`OpenFile::rest`].
    pub fn fill_parallel(&mut self, buf: &mut [u8], rt: &Runtime) -> Result<usize, RwError> {
        if buf.len() < PARALLEL_READ_MIN || self.position != 0 {
            return self.fill(buf);
        }
        let file = &self.file;
        let pause = test_pause();
        let len = buf.len();
        let mut pieces: Vec<(u64, &mut [u8], io::Result<usize>)> = buf
            .chunks_mut(READ_PIECE)
            .enumerate()
            .map(|(i, piece)| ((i * READ_PIECE) as u64, piece, Ok(0)))
            .collect();
        rt.run_on_values(len, |par, cancel| {
            par.for_each_mut(&mut pieces, |(at, piece, got)| {
                if pause.is_some_and(|pause| paused(pause, cancel)) || cancel.is_set() {
                    return;
                }
                *got = read_full_at(file, piece, *at);
            });
            cancel.check()
        })?;
        // What was read is a prefix of the file only up to the first short piece.
        let mut filled = 0;
        for (_, piece, got) in pieces {
            let n = got.map_err(|e| RwError::io("read", &self.path, e))?;
            filled += n;
            if n < piece.len() {
                break;
            }
        }
        self.file
            .seek(SeekFrom::Start(filled as u64))
            .map_err(|e| RwError::io("read", &self.path, e))?;
        self.position = filled as u64;
        Ok(filled)
    }

    /// Reads into `buf` from `offset` until it is full or the file ends,
    /// without moving the file position, so that several threads may read
    /// one file at once.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, RwError> {
        read_full_at(&self.file, buf, offset).map_err(|e| RwError::io("read", &self.path, e))
    }

    /// Goes back to the start, to read the file again.
    pub fn rewind(&mut self) -> Result<(), RwError> {
        self.file
            .seek(SeekFrom::Start(0))
            .map_err(|e| RwError::io("read", &self.path, e))?;
        self.position = 0;
        Ok(())
    }

    /// Reads whatever is left: empty unless the file grew since it was opened.
    pub fn rest(&mut self) -> Result<Vec<u8>, RwError> {
        let mut rest = Vec::new();
        self.file
            .read_to_end(&mut rest)
            .map_err(|e| RwError::io("read", &self.path, e))?;
        Ok(rest)
    }

    /// Copies the whole file into `to` (a new file it makes, with this
    /// file's permissions), synced: in the kernel where it can
    /// (`copy_file_range()`). Returns the bytes copied.
    pub fn copy_to(mut self, to: &Path) -> Result<u64, RwError> {
        let mut out = File::create_new(to).map_err(|e| RwError::io("make", to, e))?;
        let copied =
            io::copy(&mut self.file, &mut out).map_err(|e| RwError::io("copy", &self.path, e))?;
        if let Ok(meta) = self.file.metadata() {
            out.set_permissions(meta.permissions())
                .map_err(|e| RwError::io("copy", to, e))?;
        }
        out.sync_all().map_err(|e| RwError::io("sync", to, e))?;
        Ok(copied)
    }

    /// The whole file, NUL bytes and all.
    pub fn read_all(mut self) -> Result<Vec<u8>, RwError> {
        let mut bytes = try_vec::<u8>(self.size, || {
            RwError::io_reason("read", &self.path, "not enough memory for the whole file")
        })?;
        self.file
            .read_to_end(&mut bytes)
            .map_err(|e| RwError::io("read", &self.path, e))?;
        Ok(bytes)
    }

    /// The whole file as UTF-8 text; an `Encoding` error gives the offset of
    /// the first NUL byte or invalid UTF-8 sequence.
    pub fn read_text(self) -> Result<String, RwError> {
        let path = self.path.clone();
        let bytes = self.read_all()?;
        let invalid_at = std::str::from_utf8(&bytes).err().map(|e| e.valid_up_to());
        let nul_at = memchr::memchr(0, &bytes);
        let bad = match (nul_at, invalid_at) {
            (Some(nul), Some(inv)) if nul < inv => Some((nul, "a NUL byte")),
            (_, Some(inv)) => Some((inv, "invalid UTF-8")),
            (Some(nul), None) => Some((nul, "a NUL byte")),
            (None, None) => None,
        };
        match bad {
            Some((offset, what)) => Err(RwError::Encoding {
                path,
                offset: offset as u64,
                what,
            }),
            // from_utf8 just said yes, so this cannot fail.
            None => String::from_utf8(bytes).map_err(|e| RwError::Internal(e.to_string())),
        }
    }
}

/// Calls `read_some(unfilled part, bytes so far)` until `buf` is full or a
/// read returns 0 (the end of the file), retrying interrupted reads.
fn fill_with(
    buf: &mut [u8],
    mut read_some: impl FnMut(&mut [u8], usize) -> io::Result<usize>,
) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match read_some(&mut buf[filled..], filled) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads below this size are not worth a thread.
pub const PARALLEL_READ_MIN: usize = 64 << 20;

/// The pieces of a parallel read: each takes a few milliseconds from the
/// page cache, so Ctrl-C is seen well within half a second.
const READ_PIECE: usize = 8 << 20;

/// Tests only: a pause before each piece of a parallel read, in
/// milliseconds (`RWBRIDGE_TEST_READ_PAUSE_MS`), so that a test can
/// interrupt a read that the page cache would otherwise finish at once.
fn test_pause() -> Option<Duration> {
    let ms = std::env::var("RWBRIDGE_TEST_READ_PAUSE_MS").ok()?;
    ms.parse().ok().map(Duration::from_millis)
}

/// Sleeps `pause` in short naps, as a slow disk would keep a reader
/// waiting; `true` when cancelled meanwhile.
fn paused(pause: Duration, cancel: &Cancel) -> bool {
    let until = Instant::now() + pause;
    while Instant::now() < until {
        if cancel.is_set() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10).min(pause));
    }
    false
}

/// Fills `buf` from `offset` until it is full or the file ends.
fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    fill_with(buf, |part, done| {
        let at = offset + done as u64;
        #[cfg(unix)]
        let got = std::os::unix::fs::FileExt::read_at(file, part, at);
        #[cfg(windows)]
        let got = std::os::windows::fs::FileExt::seek_read(file, part, at);
        got
    })
}

/// The whole file, NUL bytes and all.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, RwError> {
    open_regular(path)?.read_all()
}

/// Replaces `path` with `data`: see [`write_atomic_from`].
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<u64, RwError> {
    write_atomic_from(path, &mut &data[..])
}

/// Replaces `path` with everything `source` yields, atomically: the bytes go
/// to a temporary file in the same directory, which is synced and then
/// renamed over `path`. On any failure `path` keeps its old content and the
/// temporary file is removed. A symbolic link is followed, so its target is
/// replaced and the link stays. An existing file's permissions are kept.
pub fn write_atomic_from(path: &Path, source: &mut dyn Read) -> Result<u64, RwError> {
    let target = follow_link(path);
    let existing = match fs::metadata(&target) {
        Ok(meta) if !meta.is_file() => return Err(not_regular("write", path, meta.file_type())),
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(RwError::io("write", path, e)),
    };
    let dir = parent_dir(&target);
    let fail = |e: io::Error| RwError::io("write", path, e);
    // Removed when dropped, so on every early return below.
    let mut temp = temp_file_in(dir, &target).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            RwError::io_reason("write", path, "its directory does not exist")
        } else {
            fail(e)
        }
    })?;
    if let Some(meta) = existing {
        temp.as_file()
            .set_permissions(meta.permissions())
            .map_err(fail)?;
    }
    let written = io::copy(source, temp.as_file_mut()).map_err(fail)?;
    temp.as_file().sync_all().map_err(fail)?;
    temp.persist(&target).map_err(|e| fail(e.error))?;
    // Makes the rename itself durable; not every file system allows it, and
    // the data is already in place, so a failure here is not the caller's.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(written)
}

/// A new file `.<target name>.XXXXXX.rwbridge-tmp` in `dir`, removed when
/// dropped unless persisted. Opened by hand rather than with `tempfile_in`,
/// so that a new file gets the usual mode (0666 less the umask) and not
/// 0600, and an error is the OS's own, without the temporary name.
fn temp_file_in(dir: &Path, target: &Path) -> io::Result<tempfile::NamedTempFile> {
    let mut prefix = OsString::from(".");
    prefix.push(target.file_name().unwrap_or_default());
    prefix.push(".");
    tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".rwbridge-tmp")
        .make_in(dir, |temp| {
            OpenOptions::new().write(true).create_new(true).open(temp)
        })
}

/// Appends `data` to `path` (creating it if needed) and syncs it. If
/// the write or the sync fails (a full disk, a file size limit), the file
/// is put back as it was: cut back to its old length, or removed when
/// this call created it.
pub fn append(path: &Path, data: &[u8]) -> Result<u64, RwError> {
    if let Ok(meta) = fs::metadata(path) {
        if !meta.is_file() {
            return Err(not_regular("append to", path, meta.file_type()));
        }
    }
    let fail = |e: io::Error| {
        if e.kind() == io::ErrorKind::NotFound {
            RwError::io_reason("append to", path, "its directory does not exist")
        } else {
            RwError::io("append to", path, e)
        }
    };
    let (mut file, created) = open_to_append(path).map_err(fail)?;
    let meta = file.metadata().map_err(fail)?;
    if !meta.is_file() {
        return Err(not_regular("append to", path, meta.file_type()));
    }
    if let Err(e) = file.write_all(data).and_then(|()| file.sync_data()) {
        // Best effort: the error to report is the write's.
        if created {
            let _ = fs::remove_file(path);
        } else {
            let _ = file.set_len(meta.len()).and_then(|()| file.sync_data());
        }
        return Err(fail(e));
    }
    Ok(data.len() as u64)
}

/// `path` opened to append, and whether this call created it.
fn open_to_append(path: &Path) -> io::Result<(File, bool)> {
    // Twice at most: created by someone else in between, it is appended to.
    for _ in 0..2 {
        match nonblocking(OpenOptions::new().append(true)).open(path) {
            Ok(file) => return Ok((file, false)),
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            Err(_) => {}
        }
        match nonblocking(OpenOptions::new().append(true).create_new(true)).open(path) {
            Ok(file) => return Ok((file, true)),
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            Err(_) => {}
        }
    }
    nonblocking(OpenOptions::new().append(true))
        .open(path)
        .map(|f| (f, false))
}

/// Describes a file type for messages: "directory", "FIFO", ...
fn describe(file_type: fs::FileType) -> &'static str {
    #[cfg(unix)]
    use std::os::unix::fs::FileTypeExt;
    let kinds = [
        (file_type.is_dir(), "directory"),
        (file_type.is_symlink(), "symbolic link"),
        #[cfg(unix)]
        (file_type.is_fifo(), "FIFO"),
        #[cfg(unix)]
        (file_type.is_char_device(), "character device"),
        #[cfg(unix)]
        (file_type.is_block_device(), "block device"),
        #[cfg(unix)]
        (file_type.is_socket(), "socket"),
    ];
    // A file has one type, so the order does not matter.
    kinds
        .into_iter()
        .find_map(|(is, name)| is.then_some(name))
        .unwrap_or("special file")
}

fn not_regular(op: &'static str, path: &Path, file_type: fs::FileType) -> RwError {
    RwError::io_reason(
        op,
        path,
        format!("not a regular file ({})", describe(file_type)),
    )
}

/// Opening a FIFO without O_NONBLOCK waits for a peer; with it, the open
/// returns at once and `fstat()` tells us to refuse it.
fn nonblocking(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options
}

fn follow_link(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{assert_says, one_file};

    fn read_text(path: &Path) -> Result<String, RwError> {
        open_regular(path)?.read_text()
    }

    fn dir_entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn every_byte_value_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.bin");
        let data: Vec<u8> = (0..=255u8).cycle().take(256 * 1025).collect();
        assert_eq!(write_atomic(&path, &data).unwrap(), data.len() as u64);
        assert_eq!(fs::read(&path).unwrap(), data);
        assert_eq!(read_bytes(&path).unwrap(), data);
        assert_eq!(dir_entries(dir.path()), vec!["all.bin"]);
    }

    #[test]
    fn parallel_fill_reads_exactly_and_positions_for_the_rest() {
        let data: Vec<u8> = (0..PARALLEL_READ_MIN + 12345)
            .map(|i| (i % 251) as u8)
            .collect();
        let (_dir, path) = one_file("big", &data);
        for threads in [1, 2, 3] {
            let rt = Runtime::new(threads, None);
            let mut file = open_regular(&path).unwrap();
            let mut head = vec![0; data.len() - 5];
            assert_eq!(file.fill_parallel(&mut head, &rt).unwrap(), head.len());
            assert_eq!(head[..], data[..head.len()]);
            assert_eq!(file.rest().unwrap(), data[head.len()..]);
            let mut file = open_regular(&path).unwrap();
            let mut more = vec![0; data.len() + 100];
            assert_eq!(file.fill_parallel(&mut more, &rt).unwrap(), data.len());
            assert_eq!(more[..data.len()], data[..]);
        }
        // Cancelled: no piece is read, and the call says so.
        let rt = Runtime::new(2, None);
        rt.cancel().set();
        let mut file = open_regular(&path).unwrap();
        let mut buf = vec![0; data.len()];
        assert_eq!(
            file.fill_parallel(&mut buf, &rt).unwrap_err().kind(),
            "interrupt"
        );
    }

    #[test]
    fn empty_file_reads_as_empty() {
        let (_dir, path) = one_file("empty", "");
        assert!(read_bytes(&path).unwrap().is_empty());
        assert_eq!(read_text(&path).unwrap(), "");
    }

    #[test]
    fn text_mode_names_the_first_bad_byte() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&[u8], u64, &str); 4] = [
            (b"abc\0def", 3, "a NUL byte"),
            (b"ab\xffc", 2, "invalid UTF-8"),
            (b"\xe9t\xe9\0", 0, "invalid UTF-8"),
            (b"h\xc3\xa9\0\xc3\xa9\xff", 3, "a NUL byte"),
        ];
        for (bytes, want_offset, want_what) in cases {
            let path = dir.path().join("t");
            fs::write(&path, bytes).unwrap();
            match read_text(&path) {
                Err(RwError::Encoding { offset, what, .. }) => {
                    assert_eq!((offset, what), (want_offset, want_what), "{bytes:?}");
                }
                other => panic!("{bytes:?} gave {other:?}"),
            }
        }
        let path = dir.path().join("ok");
        fs::write(&path, "caf\u{e9}\r\n").unwrap();
        assert_eq!(read_text(&path).unwrap(), "caf\u{e9}\r\n");
    }

    #[test]
    fn missing_file_and_directory_are_io_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = read_bytes(&missing).unwrap_err();
        assert_eq!(err.kind(), "io");
        assert_says(&err, "No such file or directory");
        let err = read_bytes(dir.path()).unwrap_err();
        assert_says(&err, "not a regular file (directory)");
    }

    #[cfg(unix)]
    #[test]
    fn fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        crate::test_support::fifo(&fifo);
        let started = std::time::Instant::now();
        let err = read_bytes(&fifo).unwrap_err();
        assert_says(&err, "not a regular file (FIFO)");
        let err = write_atomic(&fifo, b"x").unwrap_err();
        assert_says(&err, "(FIFO)");
        let err = append(&fifo, b"x").unwrap_err();
        assert_says(&err, "(FIFO)");
        assert!(started.elapsed().as_secs() < 2);
        let err = read_bytes(Path::new("/dev/null")).unwrap_err();
        assert_says(&err, "character device");
    }

    struct FailingReader {
        left: usize,
    }

    impl Read for FailingReader {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.left == 0 {
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.left);
            buf[..n].fill(b'z');
            self.left -= n;
            Ok(n)
        }
    }

    #[test]
    fn a_failed_write_keeps_the_old_content_and_no_temporary() {
        let (dir, path) = one_file("keep.txt", "old content");
        let err = write_atomic_from(&path, &mut FailingReader { left: 100_000 }).unwrap_err();
        assert_says(&err, "disk on fire");
        assert_eq!(fs::read(&path).unwrap(), b"old content");
        assert_eq!(dir_entries(dir.path()), vec!["keep.txt"]);
    }

    #[test]
    fn missing_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/f");
        let err = write_atomic(&path, b"x").unwrap_err();
        assert_says(&err, "directory does not exist");
        let err = append(&path, b"x").unwrap_err();
        assert_says(&err, "directory does not exist");
    }

    #[cfg(unix)]
    #[test]
    fn replace_keeps_permissions_and_follows_links() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, real) = one_file("real", "v1");
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"v2").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"v2");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&real), 0o640);
        // A new file gets the mode of any new file (0666 less the umask).
        let plain = dir.path().join("plain");
        fs::write(&plain, b"").unwrap();
        let new = dir.path().join("new");
        write_atomic(&new, b"").unwrap();
        assert_eq!(mode(&new), mode(&plain));
    }

    #[test]
    fn append_adds_to_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        append(&path, b"one\n").unwrap();
        append(&path, b"two\0\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one\ntwo\0\n");
    }
}
