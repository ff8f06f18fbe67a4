//! A bag brought up to date after its payload changed, as bagit-python's
//! `Bag.save(manifests=True)` does: the payload manifests, Payload-Oxum and
//! the tag manifests rewritten; every other bag-info.txt line kept as it
//! was (Bagging-Date included, as bagit-python keeps it), the declaration
//! and its version too. The new files are written beside the old ones,
//! then a journal commits them and they are renamed over the old ones, so
//! a killed update is completed or undone by the next writer. Never
//! touches R.

use super::journal::{self, sync_dir, update_name, Journal, Lock, Plan, UPDATE_SUFFIX};
use super::{
    changed_error, digests_of, directory, payload_of, tag_manifest, Hooks, MadeBag, Request, Steps,
};
use crate::bagit::names::bag_path;
use crate::bagit::text::{
    encode_path_in, is_lws, parse_fetch, parse_manifest, tag_line, Encoding, PathCoding, Version,
};
use crate::bagit::validate::{check_bag, BagCheck};
use crate::errors::RwError;
use crate::hash::Algo;
use crate::runtime::{Progress, Runtime};
use crate::tree::{slash_name, Exclude};
use std::collections::HashMap;
use std::fs;
use std::path::Path;

const OP: &str = "update the bag";

/// Rewrites the manifests, Payload-Oxum and tag manifests of the bag at
/// `bag` for the payload it holds now, less what `exclude` (relative to
/// data/) leaves out, listed before or not. Steps for the hooks: 1, hashed
/// (nothing changed yet); then each new file written beside the old one;
/// the commit; each rename over the old file.
pub fn update_bag(
    bag: &Path,
    exclude: Option<&Exclude>,
    rt: &Runtime,
    progress: Option<&Progress>,
    hooks: &Hooks,
) -> Result<MadeBag, RwError> {
    directory(bag, OP)?;
    let _lock = Lock::take(bag, false, OP)?;
    journal::recover(bag)?;
    let check = check_bag(bag, true, exclude, rt, None)?;
    let form = Form::of(bag, &check)?;
    let data = bag.join("data");
    directory(&data, OP)?;
    let payload = payload_of(&data, exclude)?;
    let req = Request {
        algos: &form.payload,
        info: &[],
        exclude,
        rt,
        progress,
        hooks,
    };
    let digests = digests_of(&data, &payload.names, &req)?;
    let fetched = form.unfetched(bag, &payload.names)?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (k, &algo) in form.payload.iter().enumerate() {
        let mut lines: Vec<(String, &str)> = payload
            .names
            .iter()
            .zip(&digests)
            .map(|(name, d)| (format!("data/{name}"), d[k].as_str()))
            .collect();
        for (path, old) in &fetched.kept {
            if let Some(digest) = old.get(&algo) {
                lines.push((path.clone(), digest));
            }
        }
        lines.sort();
        let mut text = String::new();
        for (path, digest) in lines {
            text.push_str(digest);
            text.push_str("  ");
            text.push_str(&encode_path_in(&path, form.coding));
            text.push('\n');
        }
        files.push((manifest_file(algo, false)?, form.encode(bag, &text)?));
    }
    let mut made = payload.made();
    let oxum = format!(
        "{}.{}",
        made.octets + fetched.octets,
        made.files + fetched.kept.len() as u64
    );
    let info_name = form.version.info_file();
    let info = match read_text(bag, info_name, form.encoding)? {
        Some(text) => with_oxum(&text, &oxum),
        None => format!("Payload-Oxum: {oxum}\n"),
    };
    files.push((info_name.to_string(), form.encode(bag, &info)?));
    let mut tag_files = other_tag_files(bag, &files)?;
    tag_files.extend(files.iter().cloned());
    for &algo in &form.tags {
        let text = tag_manifest(algo, &tag_files, form.coding);
        files.push((manifest_file(algo, true)?, form.encode(bag, &text)?));
    }
    let mut steps = Steps::new(hooks, bag);
    steps.next()?;
    commit(bag, &files, &payload, &mut steps)?;
    made.files += fetched.kept.len() as u64;
    Ok(made)
}

/// Writes every file beside its old one, checks that the payload is as it
/// was hashed, then commits and renames them into place.
fn commit(
    bag: &Path,
    files: &[(String, Vec<u8>)],
    payload: &super::Payload,
    steps: &mut Steps,
) -> Result<(), RwError> {
    let plan = Plan::Update {
        files: files.iter().map(|(n, _)| n.clone()).collect(),
        commit: false,
    };
    let mut journal = Journal::start(bag, &plan)?;
    let written = (|| {
        for (name, bytes) in files {
            steps.next()?;
            let path = bag.join(update_name(name));
            fs::write(&path, bytes)
                .and_then(|()| fs::File::open(&path)?.sync_all())
                .map_err(|e| RwError::io("write", &path, e))?;
        }
        match payload.changed(&bag.join("data")) {
            Some(name) => Err(changed_error(
                bag,
                name,
                "the bag was left as it was: run update_bag() again",
            )),
            None => journal.mark("commit"),
        }
    })();
    if let Err(e) = written {
        // Not committed: the next writer would remove them too.
        for (name, _) in files {
            let _ = fs::remove_file(bag.join(update_name(name)));
        }
        let _ = journal.finish();
        return Err(e);
    }
    sync_dir(bag);
    for (name, _) in files {
        let from = bag.join(update_name(name));
        steps
            .next()
            .and_then(|()| {
                fs::rename(&from, bag.join(name)).map_err(|e| RwError::io("rename", &from, e))
            })
            .map_err(|e| {
                RwError::io_reason(
                    OP,
                    bag,
                    format!(
                        "{e}; the new files were all written, and the journal {} names them: the next update_bag() on this bag completes the update",
                        journal::JOURNAL
                    ),
                )
            })?;
    }
    sync_dir(bag);
    journal.finish()
}

/// How the bag writes its tag files, and which manifests it has.
struct Form {
    version: Version,
    coding: PathCoding,
    encoding: Encoding,
    payload: Vec<Algo>,
    tags: Vec<Algo>,
}

impl Form {
    fn of(bag: &Path, check: &BagCheck) -> Result<Form, RwError> {
        let not_a_bag = |why: String| RwError::io_reason(OP, bag, why);
        let version_text = check.version.as_deref().ok_or_else(|| {
            not_a_bag("it is not a bag: no bagit.txt declares a BagIt-Version".into())
        })?;
        let version = Version::parse(version_text)
            .filter(|v| v.is_known())
            .ok_or_else(|| {
                not_a_bag(format!(
                    "BagIt-Version {version_text} is not one rwbridge knows"
                ))
            })?;
        let encoding = match check.encoding.as_deref() {
            None => Encoding::Utf8,
            Some(label) => Encoding::from_label(label).ok_or_else(|| {
                not_a_bag(format!(
                    "its tag files are in {label}, which rwbridge does not write"
                ))
            })?,
        };
        let (mut payload, mut tags) = (Vec::new(), Vec::new());
        for m in &check.manifests {
            let algo = m.algo.ok_or_else(|| {
                not_a_bag(format!(
                    "{}: rwbridge does not compute '{}', so it cannot keep that manifest up to date",
                    m.file, m.algo_name
                ))
            })?;
            if m.tag { &mut tags } else { &mut payload }.push(algo);
        }
        if payload.is_empty() {
            return Err(not_a_bag(
                "it has no payload manifest to take the algorithms from".into(),
            ));
        }
        // As bagit-python: a tag manifest for every payload algorithm, and
        // the bag's other tag manifests kept up to date too.
        for algo in &payload {
            if !tags.contains(algo) {
                tags.push(*algo);
            }
        }
        Ok(Form {
            version,
            coding: PathCoding::of(version),
            encoding,
            payload,
            tags,
        })
    }

    fn encode(&self, bag: &Path, text: &str) -> Result<Vec<u8>, RwError> {
        self.encoding.encode(text).ok_or_else(|| {
            RwError::io_reason(
                OP,
                bag,
                format!(
                    "a name or value has a character that its tag file encoding, {}, cannot hold",
                    self.encoding.name()
                ),
            )
        })
    }

    /// The payload files fetch.txt lists that data/ does not hold: their
    /// manifest lines are kept, and the Oxum counts them.
    fn unfetched(&self, bag: &Path, present: &[String]) -> Result<Fetched, RwError> {
        let mut fetched = Fetched::default();
        let Some(text) = read_text(bag, "fetch.txt", self.encoding)? else {
            return Ok(fetched);
        };
        let present: std::collections::HashSet<String> =
            present.iter().map(|n| format!("data/{n}")).collect();
        let mut old: HashMap<String, HashMap<Algo, String>> = HashMap::new();
        for &algo in &self.payload {
            let file = manifest_file(algo, false)?;
            let Some(manifest) = read_text(bag, &file, self.encoding)? else {
                continue;
            };
            for line in parse_manifest(&manifest, Some(algo), self.coding).lines {
                if let Ok(p) = bag_path(&line.path) {
                    old.entry(p.path).or_default().insert(algo, line.digest);
                }
            }
        }
        for line in parse_fetch(&text, self.coding).lines {
            let Ok(p) = bag_path(&line.path) else {
                continue;
            };
            if present.contains(&p.path) || fetched.kept.iter().any(|(k, _)| *k == p.path) {
                continue;
            }
            fetched.octets += line.length.unwrap_or(0);
            let digests = old.remove(&p.path).unwrap_or_default();
            fetched.kept.push((p.path, digests));
        }
        Ok(fetched)
    }
}

#[derive(Default)]
struct Fetched {
    kept: Vec<(String, HashMap<Algo, String>)>,
    octets: u64,
}

fn manifest_file(algo: Algo, tag: bool) -> Result<String, RwError> {
    super::manifest_names(&[algo], tag).map(|mut v| v.remove(0))
}

/// The text of the tag file `name`, without a byte-order mark; `None`
/// when there is none.
fn read_text(bag: &Path, name: &str, encoding: Encoding) -> Result<Option<String>, RwError> {
    let path = bag.join(name);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(RwError::io("read", &path, e)),
    };
    let text = encoding.decode(&bytes).map_err(|e| {
        RwError::io_reason(
            OP,
            &path,
            format!(
                "not {} text: byte offset {} is not valid",
                encoding.name(),
                e.offset
            ),
        )
    })?;
    Ok(Some(text.trim_start_matches('\u{feff}').to_string()))
}

/// bag-info.txt with its Payload-Oxum set to `oxum`: the first such line
/// (and its continuations) replaced, any other dropped, one added at the
/// end when there was none; every other line kept, its ending too.
fn with_oxum(text: &str, oxum: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut done = false;
    let mut dropping = false;
    for piece in text.split_inclusive('\n') {
        let line = piece.trim_end_matches(['\n', '\r']);
        if dropping && line.starts_with(is_lws) && !line.trim_matches(is_lws).is_empty() {
            continue;
        }
        dropping = false;
        if tag_line(line).is_some_and(|t| t.label.eq_ignore_ascii_case("Payload-Oxum")) {
            if !done {
                let ending = &piece[line.len()..];
                out.push_str(&format!("Payload-Oxum: {oxum}"));
                out.push_str(if ending.is_empty() { "\n" } else { ending });
                done = true;
            }
            dropping = true;
            continue;
        }
        out.push_str(piece);
    }
    if !done {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("Payload-Oxum: {oxum}\n"));
    }
    out
}

/// The bag's tag files that an update does not rewrite, read: every file
/// outside data/ (in sub-folders too) but the tag manifests, the ones
/// rewritten (`new`), the journal and the update's own files; as
/// bagit-python lists them in a tag manifest.
fn other_tag_files(
    bag: &Path,
    new: &[(String, Vec<u8>)],
) -> Result<Vec<(String, Vec<u8>)>, RwError> {
    let mut files = Vec::new();
    for item in walkdir::WalkDir::new(bag).min_depth(1).follow_links(false) {
        let item = item.map_err(|e| crate::tree::listing_error(bag, e))?;
        let relative = item.path().strip_prefix(bag).unwrap_or(item.path());
        let name = String::from_utf8_lossy(&slash_name(relative)).into_owned();
        if name == "data" || name.starts_with("data/") || !item.file_type().is_file() {
            continue;
        }
        let top = !name.contains('/');
        let skip = name.starts_with("tagmanifest-")
            || (top && (name == journal::JOURNAL || name.ends_with(UPDATE_SUFFIX)))
            || new.iter().any(|(n, _)| *n == name);
        if !skip {
            let bytes = fs::read(item.path()).map_err(|e| RwError::io("read", item.path(), e))?;
            files.push((name, bytes));
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oxum_is_replaced_and_every_other_line_kept() {
        let text = "Bagging-Date: 2020-01-02\r\nPayload-Oxum: 1.1\r\nNote: a\n  b\npayload-oxum : 9.9\n  more\nLast: z";
        assert_eq!(
            with_oxum(text, "5.2"),
            "Bagging-Date: 2020-01-02\r\nPayload-Oxum: 5.2\r\nNote: a\n  b\nLast: z"
        );
        assert_eq!(with_oxum("A: b", "0.0"), "A: b\nPayload-Oxum: 0.0\n");
        assert_eq!(with_oxum("", "0.0"), "Payload-Oxum: 0.0\n");
    }
}
