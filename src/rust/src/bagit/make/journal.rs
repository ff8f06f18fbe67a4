//! What keeps bag writers from losing files when killed, and from
//! corrupting each other: a lock (`flock` on the directory itself, so it
//! goes when the process dies) and a journal file in the bag's top
//! directory that names the moves or renames under way, written before
//! the first of them. The next writer finds a journal left by a killed
//! one, completes or rolls back what it names, and removes it. Never
//! touches R.

use crate::bagit::text::{decode_path, encode_path, PathCoding};
use crate::errors::RwError;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The journal's name in the bag's top directory.
pub const JOURNAL: &str = ".rwbridge-bag-journal";

/// The suffix of the files an update writes before renaming them into place.
pub const UPDATE_SUFFIX: &str = ".rwbridge-update";

const HEADER_MAKE: &str = "rwbridge write_bag journal 1";
const HEADER_UPDATE: &str = "rwbridge update_bag journal 1";

/// A lock on a directory, held until dropped (or the process ends).
pub struct Lock {
    _dir: File,
}

impl Lock {
    /// Locks `dir`: `shared` for a reader that needs the tree to stay as it
    /// is (a copy), else exclusive. Fails at once when another process
    /// holds a conflicting lock.
    pub fn take(dir: &Path, shared: bool, op: &'static str) -> Result<Lock, RwError> {
        let handle = File::open(dir).map_err(|e| RwError::io(op, dir, e))?;
        match try_flock(&handle, shared) {
            Ok(()) => Ok(Lock { _dir: handle }),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(RwError::io_reason(
                op,
                dir,
                "another write_bag() or update_bag() is working on it (it is locked); try again when that one has finished",
            )),
            Err(e) => Err(RwError::io(op, dir, e)),
        }
    }
}

#[cfg(unix)]
fn try_flock(handle: &File, shared: bool) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let how = if shared { libc::LOCK_SH } else { libc::LOCK_EX };
    // SAFETY: flock() only reads the descriptor, which `handle` keeps open.
    let done = unsafe { libc::flock(handle.as_raw_fd(), how | libc::LOCK_NB) };
    if done == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn try_flock(_handle: &File, _shared: bool) -> io::Result<()> {
    Ok(())
}

/// What a journal says is under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// `write_bag()` in place: the top-level entries are moving into
    /// `temp`, which is then renamed to data/, and then `tags` are
    /// written; `renamed` once the rename is about to happen.
    Make {
        temp: String,
        tags: Vec<String>,
        renamed: bool,
    },
    /// `update_bag()`: each name of `files` was written as
    /// `.<name>.rwbridge-update`; `commit` once all were, so that the
    /// renames over the old files go on.
    Update { files: Vec<String>, commit: bool },
}

/// The journal of `dir`, written and synced before each change it names.
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Starts the journal of `plan` in `dir`; fails if one is there.
    pub fn start(dir: &Path, plan: &Plan) -> Result<Journal, RwError> {
        let path = dir.join(JOURNAL);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| RwError::io("write the journal", &path, e))?;
        let mut journal = Journal { path, file };
        journal.append(&render(plan))?;
        sync_dir(dir);
        Ok(journal)
    }

    /// Adds a line (`renamed`, `commit`), synced.
    pub fn mark(&mut self, word: &str) -> Result<(), RwError> {
        self.append(&format!("{word}\n"))
    }

    fn append(&mut self, text: &str) -> Result<(), RwError> {
        let fail = |e| RwError::io("write the journal", &self.path, e);
        self.file.write_all(text.as_bytes()).map_err(fail)?;
        self.file.sync_data().map_err(fail)
    }

    /// Removes the journal: the change is whole.
    pub fn finish(self) -> Result<(), RwError> {
        fs::remove_file(&self.path).map_err(|e| RwError::io("remove", &self.path, e))?;
        if let Some(dir) = self.path.parent() {
            sync_dir(dir);
        }
        Ok(())
    }
}

fn render(plan: &Plan) -> String {
    let mut text = String::new();
    let mut line = |key: &str, value: &str| {
        text.push_str(key);
        if !value.is_empty() {
            text.push(' ');
            text.push_str(&encode_path(value));
        }
        text.push('\n');
    };
    match plan {
        Plan::Make {
            temp,
            tags,
            renamed,
        } => {
            line(HEADER_MAKE, "");
            line("temp", temp);
            for tag in tags {
                line("tag", tag);
            }
            if *renamed {
                line("renamed", "");
            }
        }
        Plan::Update { files, commit } => {
            line(HEADER_UPDATE, "");
            for file in files {
                line("file", file);
            }
            if *commit {
                line("commit", "");
            }
        }
    }
    text
}

/// Reads a journal's text; `None` when it is not one (cut short before
/// its header, or not written by rwbridge).
pub fn parse(text: &str) -> Option<Plan> {
    let mut lines = text.lines();
    let header = lines.next()?;
    let mut temp = None;
    let mut names = Vec::new();
    let mut flag = false;
    for line in lines {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        let value = decode_path(value, PathCoding::Percent)?;
        match key {
            "temp" => temp = Some(value),
            "tag" | "file" => names.push(value),
            "renamed" | "commit" => flag = true,
            _ => return None,
        }
    }
    match header {
        HEADER_MAKE => Some(Plan::Make {
            temp: temp?,
            tags: names,
            renamed: flag,
        }),
        HEADER_UPDATE => Some(Plan::Update {
            files: names,
            commit: flag,
        }),
        _ => None,
    }
}

/// What [`recover`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovered {
    Nothing,
    /// An interrupted `write_bag()` was undone: the directory is as it was.
    MakeRolledBack,
    /// An interrupted `update_bag()` was completed.
    UpdateCompleted,
    /// An interrupted `update_bag()` was undone: the bag is as it was.
    UpdateRolledBack,
}

/// Finds the journal of an interrupted writer in `dir` (which the caller
/// has locked) and completes or rolls back what it names. A `write_bag()`
/// is rolled back (its tag files removed, data/ renamed back, every entry
/// moved back where it was); an `update_bag()` whose new files were all
/// written is completed, else rolled back. Never removes a file of the
/// user's: only the tag files and temporary files the journal names.
pub fn recover(dir: &Path) -> Result<Recovered, RwError> {
    let path = dir.join(JOURNAL);
    let text = match fs::read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Recovered::Nothing),
        Err(e) => return Err(RwError::io("read the journal", &path, e)),
    };
    let fail = |op: &'static str, p: &Path, e: io::Error| {
        RwError::io_reason(
            "recover an interrupted bag writer in",
            dir,
            format!(
                "cannot {op} '{}': {}; the journal {JOURNAL} says what was under way",
                p.display(),
                crate::errors::os_text(&e)
            ),
        )
    };
    let done = match parse(&text) {
        // Killed while writing its first line: nothing had changed yet.
        None if !text.contains('\n') => Recovered::MakeRolledBack,
        None => {
            return Err(RwError::io_reason(
                "recover an interrupted bag writer in",
                dir,
                format!(
                "{JOURNAL} is not a journal rwbridge wrote; remove it if you know why it is there"
            ),
            ))
        }
        Some(Plan::Make {
            temp,
            tags,
            renamed,
        }) => {
            let temp = dir.join(&temp);
            let data = dir.join("data");
            if !temp.exists() && renamed {
                for tag in &tags {
                    remove_written(dir, tag).map_err(|(p, e)| fail("remove", &p, e))?;
                }
                fs::rename(&data, &temp).map_err(|e| fail("rename", &data, e))?;
            }
            if temp.exists() {
                move_back(&temp, dir).map_err(|(p, e)| fail("move back", &p, e))?;
            }
            Recovered::MakeRolledBack
        }
        Some(Plan::Update { files, commit }) => {
            for name in &files {
                let written = dir.join(update_name(name));
                if !written.exists() {
                    continue;
                }
                if commit {
                    fs::rename(&written, dir.join(name))
                        .map_err(|e| fail("rename", &written, e))?;
                } else {
                    fs::remove_file(&written).map_err(|e| fail("remove", &written, e))?;
                }
            }
            if commit {
                Recovered::UpdateCompleted
            } else {
                Recovered::UpdateRolledBack
            }
        }
    };
    fs::remove_file(&path).map_err(|e| fail("remove", &path, e))?;
    sync_dir(dir);
    Ok(done)
}

/// The name an update writes `name` as before renaming it into place.
pub fn update_name(name: &str) -> String {
    format!(".{name}{UPDATE_SUFFIX}")
}

/// Removes the tag file `name` that a killed `write_bag()` wrote, and the
/// temporary files of its atomic write.
fn remove_written(dir: &Path, name: &str) -> Result<(), (PathBuf, io::Error)> {
    let prefix = format!(".{name}.");
    for item in fs::read_dir(dir).map_err(|e| (dir.to_path_buf(), e))? {
        let item = item.map_err(|e| (dir.to_path_buf(), e))?;
        let file = item.file_name();
        let file = file.to_string_lossy();
        let ours = file == name || (file.starts_with(&prefix) && file.ends_with(".rwbridge-tmp"));
        if ours {
            fs::remove_file(item.path()).map_err(|e| (item.path(), e))?;
        }
    }
    Ok(())
}

/// Moves every entry of `temp` back to `dir`, then removes `temp`, which is
/// empty by then (`remove_dir`, never `remove_dir_all`: no file is lost).
/// A folder whose namesake stayed in `dir` (it holds what `exclude` left
/// out) has its entries moved back into that namesake, the same way.
pub fn move_back(temp: &Path, dir: &Path) -> Result<(), (PathBuf, io::Error)> {
    for item in fs::read_dir(temp).map_err(|e| (temp.to_path_buf(), e))? {
        let item = item.map_err(|e| (temp.to_path_buf(), e))?;
        let to = dir.join(item.file_name());
        let stayed = to.symlink_metadata().ok();
        let is_dir = |m: &fs::Metadata| m.file_type().is_dir();
        if stayed.as_ref().is_some_and(is_dir) && item.file_type().is_ok_and(|t| t.is_dir()) {
            move_back(&item.path(), &to)?;
            continue;
        }
        if stayed.is_some() {
            return Err((
                to,
                io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "it is in the way of the entry to move back",
                ),
            ));
        }
        fs::rename(item.path(), &to).map_err(|e| (item.path(), e))?;
    }
    fs::remove_dir(temp).map_err(|e| (temp.to_path_buf(), e))
}

/// Makes renames and removals in `dir` durable; not every file system
/// allows it, and the change is made either way.
pub fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::tree;

    #[test]
    fn plans_round_trip_through_the_text() {
        let plans = [
            Plan::Make {
                temp: ".rwbridge-bag-1-0".into(),
                tags: vec!["bagit.txt".into(), "odd\nname%".into()],
                renamed: true,
            },
            Plan::Update {
                files: vec!["manifest-md5.txt".into()],
                commit: false,
            },
        ];
        for plan in plans {
            assert_eq!(parse(&render(&plan)), Some(plan.clone()));
        }
        assert_eq!(parse("something else\n"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn a_second_exclusive_lock_fails_at_once_and_a_shared_one_waits_for_none() {
        let dir = tree(&[("a", "A")]);
        let held = Lock::take(dir.path(), false, "bag").unwrap();
        let err = Lock::take(dir.path(), false, "bag").err().unwrap();
        assert!(err.to_string().contains("locked"), "{err}");
        assert!(Lock::take(dir.path(), true, "copy").is_err());
        drop(held);
        let a = Lock::take(dir.path(), true, "copy").unwrap();
        let _b = Lock::take(dir.path(), true, "copy").unwrap();
        assert!(Lock::take(dir.path(), false, "bag").is_err());
        drop(a);
    }

    #[test]
    fn an_update_is_completed_after_commit_and_rolled_back_before() {
        for commit in [false, true] {
            let dir = tree(&[
                ("manifest-md5.txt", "old"),
                (".manifest-md5.txt.rwbridge-update", "new"),
            ]);
            let plan = Plan::Update {
                files: vec!["manifest-md5.txt".into()],
                commit,
            };
            drop(Journal::start(dir.path(), &plan).unwrap());
            let done = recover(dir.path()).unwrap();
            let content = fs::read_to_string(dir.path().join("manifest-md5.txt")).unwrap();
            assert_eq!(content, if commit { "new" } else { "old" });
            assert_eq!(
                done,
                if commit {
                    Recovered::UpdateCompleted
                } else {
                    Recovered::UpdateRolledBack
                }
            );
            let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
            assert_eq!(left.len(), 1, "only the manifest is left");
        }
        let dir = tree(&[("a", "A")]);
        assert_eq!(recover(dir.path()).unwrap(), Recovered::Nothing);
        fs::write(dir.path().join(JOURNAL), "not ours\nat all\n").unwrap();
        assert!(recover(dir.path()).is_err());
        assert!(
            dir.path().join(JOURNAL).exists(),
            "kept for a person to see"
        );
    }
}
