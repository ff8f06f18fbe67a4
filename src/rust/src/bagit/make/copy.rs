//! A bag made at a new place: the payload copied from a directory that is
//! never changed, the bag built in a folder beside its destination and
//! renamed into place only when whole, so the destination either does not
//! exist or holds the complete bag. Never touches R.

use super::journal::{sync_dir, Lock, JOURNAL};
use super::{changed_error, digests_of, directory, payload_of, tag_files, MadeBag, Request, Steps};
use crate::errors::RwError;
use crate::tree::{name_to_path, Confined};
use std::fs;
use std::io;
use std::path::Path;

/// Makes a bag at `dest` (which must not exist; its parent must) from a
/// copy of `dir`, which is not changed. Steps for the hooks: 1, the folder
/// beside `dest` made and the payload copied; 2, hashed; then each tag
/// file written; last, the rename into place.
pub fn make_bag_at(dir: &Path, dest: &Path, req: &Request) -> Result<MadeBag, RwError> {
    let op = "make a bag at";
    let meta = directory(dir, "make a bag of")?;
    if dest.symlink_metadata().is_ok() {
        return Err(RwError::io_reason(
            op,
            dest,
            "it exists; write_bag() makes a new directory there and never writes into one",
        ));
    }
    let (parent, name) = match (dest.parent(), dest.file_name()) {
        (Some(p), Some(n)) => (
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            },
            n,
        ),
        _ => {
            return Err(RwError::io_reason(
                op,
                dest,
                "not a path a directory can have",
            ))
        }
    };
    let real_parent = fs::canonicalize(parent).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            RwError::io_reason(op, dest, "its parent directory does not exist")
        } else {
            RwError::io(op, dest, e)
        }
    })?;
    let real_dir = fs::canonicalize(dir).map_err(|e| RwError::io("make a bag of", dir, e))?;
    if real_parent.starts_with(&real_dir) {
        return Err(RwError::Value {
            arg: "dest",
            reason: "is inside `dir`: the bag would be part of its own payload".into(),
        });
    }
    // Readers share the source; a writer in place would fail at once.
    let _source = Lock::take(dir, true, "make a bag of")?;
    if dir.join(JOURNAL).symlink_metadata().is_ok() {
        return Err(RwError::io_reason(
            "make a bag of",
            dir,
            format!("an interrupted write_bag() or update_bag() left its journal {JOURNAL} here: run write_bag() on it in place first, which completes or rolls back what it names"),
        ));
    }
    let mut partial_name = std::ffi::OsString::from(".");
    partial_name.push(name);
    partial_name.push(".rwbridge-partial");
    let partial = parent.join(partial_name);
    let _claimed = claim(&partial)?;
    let built =
        build(dir, &partial, &meta, req).and_then(|made| rename_new(&partial, dest).map(|()| made));
    match built {
        Ok(made) => {
            sync_dir(parent);
            Ok(made)
        }
        Err(e) => {
            // The folder is rwbridge's own copy: nothing of the user's.
            let _ = fs::remove_dir_all(&partial);
            Err(e)
        }
    }
}

fn build(
    dir: &Path,
    partial: &Path,
    meta: &fs::Metadata,
    req: &Request,
) -> Result<MadeBag, RwError> {
    let payload = payload_of(dir, req.exclude)?;
    let data = partial.join("data");
    let made_dir = |path: &Path| fs::create_dir(path).map_err(|e| RwError::io("make", path, e));
    made_dir(&data)?;
    for (name, _) in &payload.dirs {
        made_dir(&data.join(name_to_path(name.as_bytes())))?;
    }
    // Each file opened without leaving `dir`: a folder swapped for a link
    // meanwhile is never copied through. Synced before the rename makes
    // the bag visible.
    let source = Confined::new(dir, false)?;
    let copied = req.rt.map(&payload.names, |name, cancel| {
        cancel.check()?;
        let relative = name_to_path(name.as_bytes());
        let from = source.open_reason(&relative)?;
        from.copy_to(&data.join(&relative))
    })?;
    copied.into_iter().collect::<Result<Vec<u64>, RwError>>()?;
    let mut steps = Steps::new(req.hooks, dir);
    steps.next()?;
    // The copies are hashed: the manifests describe what the bag holds.
    let digests = digests_of(&data, &payload.names, req)?;
    steps.next()?;
    if let Some(name) = payload.changed(dir) {
        return Err(changed_error(
            dir,
            name,
            "nothing was written: run write_bag() again",
        ));
    }
    for (name, bytes) in tag_files(req, &payload, &digests)? {
        steps.next()?;
        let path = partial.join(&name);
        fs::write(&path, &bytes)
            .and_then(|()| fs::File::open(&path)?.sync_all())
            .map_err(|e| RwError::io("write", &path, e))?;
    }
    // Directories get their sources' permissions once their files are in,
    // the deepest first; the bag and data/ those of `dir`, as in place.
    for (name, mode) in payload.dirs.iter().rev() {
        let path = data.join(name_to_path(name.as_bytes()));
        fs::set_permissions(&path, mode.clone())
            .map_err(|e| RwError::io("set the permissions of", &path, e))?;
    }
    for path in [&data, partial] {
        sync_dir(path);
        fs::set_permissions(path, meta.permissions())
            .map_err(|e| RwError::io("set the permissions of", path, e))?;
    }
    steps.next()?;
    Ok(payload.made())
}

/// Makes the folder a bag is built in, locked; one left by a killed call
/// (not locked) is removed first, one in use is an error.
fn claim(partial: &Path) -> Result<Lock, RwError> {
    let op = "make a bag at";
    match fs::create_dir(partial) {
        Ok(()) => return Lock::take(partial, false, op),
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            return Err(RwError::io(op, partial, e))
        }
        Err(_) => {}
    }
    let stale = Lock::take(partial, false, op)?;
    fs::remove_dir_all(partial).map_err(|e| RwError::io("remove", partial, e))?;
    drop(stale);
    fs::create_dir(partial).map_err(|e| RwError::io(op, partial, e))?;
    Lock::take(partial, false, op)
}

/// Renames `from` to `to`, failing if `to` exists (the kernel checks, on
/// Linux, so that a destination made meanwhile is never replaced).
fn rename_new(from: &Path, to: &Path) -> Result<(), RwError> {
    let exists = || {
        RwError::io_reason(
            "make a bag at",
            to,
            "it exists (it was made while the bag was being built); nothing was written",
        )
    };
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        use rustix::io::Errno;
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            Err(Errno::EXIST | Errno::NOTEMPTY) => return Err(exists()),
            // File systems without the flag: the check below.
            Err(Errno::INVAL | Errno::NOSYS) => {}
            Err(e) => return Err(RwError::io("rename", from, e.into())),
        }
    }
    if to.symlink_metadata().is_ok() {
        return Err(exists());
    }
    fs::rename(from, to).map_err(|e| RwError::io("rename", from, e))
}
