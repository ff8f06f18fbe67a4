//! Digests of up to four files read side by side: their SHA-512s (and
//! SHA-256s) computed together, one file per lane of [`crate::sha2_lanes`],
//! and any other digests file by file as the bytes come in. Each file is
//! read once. Used for files that a SHA-512 manifest lists (bagit-python's
//! default makes one); others are hashed one at a time. Never touches R.

use crate::fileio::OpenFile;
use crate::hash::{Algo, Hasher, BUFFER_SIZE};
use crate::runtime::Cancel;
use crate::sha2_lanes::{lanes_available, Sha256, Sha512};
use crate::verify::Status;
use std::sync::atomic::{AtomicU64, Ordering};

/// Files read side by side.
pub const LANES: usize = 4;

struct Lane<'a> {
    file: OpenFile,
    algos: &'a [Algo],
    buf: Vec<u8>,
    /// The bytes of `buf` not yet compressed into `sha512`.
    start: usize,
    end: usize,
    eof: bool,
    sha512: Option<Sha512>,
    /// SHA-256 on SHA-NI, in step with `sha512` (where both are asked for).
    sha256: Option<Sha256>,
    /// A hasher for each other algorithm, by its index in `algos`.
    others: Vec<(usize, Hasher)>,
}

/// How to read `sizes.len()` files: batches of up to four of those that
/// `side_by_side` picks (by size, biggest first, so that a batch's lanes
/// end at about the same time; three at least, since fewer lanes lose to
/// one file at a time), and every other file alone.
pub fn batches(sizes: &[u64], side_by_side: impl Fn(usize) -> bool) -> Vec<Vec<usize>> {
    let mut picked: Vec<usize> = (0..sizes.len()).filter(|&i| side_by_side(i)).collect();
    picked.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    let mut items: Vec<Vec<usize>> = Vec::new();
    let mut alone = vec![true; sizes.len()];
    for batch in picked.chunks(LANES).filter(|b| b.len() >= 3) {
        batch.iter().for_each(|&i| alone[i] = false);
        items.push(batch.to_vec());
    }
    items.extend((0..sizes.len()).filter(|&i| alone[i]).map(|i| vec![i]));
    items
}

/// A lane's buffer: the whole file and one byte more (so that the first
/// read sees its end) when it is small, else `BUFFER_SIZE`. A small file
/// does not pay for zeroing a big buffer.
fn buffer_size(file_size: u64) -> usize {
    usize::try_from(file_size)
        .map_or(BUFFER_SIZE, |n| n.saturating_add(1))
        .clamp(4096, BUFFER_SIZE)
}

/// The digests (in the order of each file's `algos`) of each file that
/// opened, or the status that stopped it; `None` when cancelled.
pub fn digest_files(
    files: Vec<(Result<OpenFile, Status>, &[Algo])>,
    cancel: &Cancel,
    bytes_done: Option<&AtomicU64>,
) -> Option<Vec<Result<Vec<String>, Status>>> {
    let mut results: Vec<Option<Result<Vec<String>, Status>>> = Vec::new();
    let mut lanes: Vec<(usize, Lane)> = Vec::new();
    for (i, (file, algos)) in files.into_iter().enumerate() {
        results.push(None);
        match file {
            Ok(file) => {
                let size = file.size;
                let sha512 = algos.contains(&Algo::Sha512).then(Sha512::default);
                let sha256 = if sha512.is_some() && algos.contains(&Algo::Sha256) {
                    Sha256::new()
                } else {
                    None
                };
                let in_step =
                    |a: Algo| a == Algo::Sha512 || (a == Algo::Sha256 && sha256.is_some());
                let others = algos
                    .iter()
                    .enumerate()
                    .filter(|(_, &a)| !in_step(a))
                    .map(|(k, &a)| (k, Hasher::new(a)))
                    .collect();
                lanes.push((
                    i,
                    Lane {
                        file,
                        algos,
                        buf: vec![0; buffer_size(size)],
                        start: 0,
                        end: 0,
                        eof: false,
                        sha512,
                        sha256,
                        others,
                    },
                ))
            }
            Err(status) => results[i] = Some(Err(status)),
        }
    }
    let four = lanes_available();
    while !lanes.is_empty() {
        if cancel.check().is_err() {
            return None;
        }
        // Refill every lane short of a block; finish those at their end.
        let mut k = 0;
        while k < lanes.len() {
            let lane = &mut lanes[k].1;
            let done = refill(lane, bytes_done);
            match done {
                Ok(false) => k += 1,
                Ok(true) => {
                    let (i, lane) = lanes.swap_remove(k);
                    results[i] = Some(Ok(finish(lane)));
                }
                Err(status) => {
                    let (i, _) = lanes.swap_remove(k);
                    results[i] = Some(Err(status));
                }
            }
        }
        if lanes.is_empty() {
            break;
        }
        compress(&mut lanes, four);
    }
    results.into_iter().collect()
}

/// Tops up a lane's buffer once fewer than a block's bytes are left, and
/// feeds the new bytes to its other hashers. `Ok(true)` when the lane has
/// reached the end of its file and has less than a block left.
fn refill(lane: &mut Lane, bytes_done: Option<&AtomicU64>) -> Result<bool, Status> {
    if lane.end - lane.start >= 128 {
        return Ok(false);
    }
    if lane.eof {
        return Ok(true);
    }
    lane.buf.copy_within(lane.start..lane.end, 0);
    lane.end -= lane.start;
    lane.start = 0;
    let n = lane
        .file
        .fill(&mut lane.buf[lane.end..])
        .map_err(|_| Status::Unreadable)?;
    let fresh = &lane.buf[lane.end..lane.end + n];
    for (_, hasher) in &mut lane.others {
        hasher.update(fresh);
    }
    if let Some(done) = bytes_done {
        done.fetch_add(n as u64, Ordering::Relaxed);
    }
    lane.eof = lane.end + n < lane.buf.len();
    lane.end += n;
    if lane.sha512.is_none() {
        // Nothing to compress here: the other hashers have the bytes.
        lane.start = lane.end;
    }
    Ok(lane.eof && lane.end - lane.start < 128)
}

/// Compresses the whole blocks the lanes hold into their SHA-512 states:
/// four lanes at once when three or more are busy, else one by one.
fn compress(lanes: &mut [(usize, Lane)], four: bool) {
    let busy: Vec<usize> = (0..lanes.len())
        .filter(|&k| lanes[k].1.sha512.is_some())
        .collect();
    if four && busy.len() >= 3 {
        let run = busy
            .iter()
            .map(|&k| (lanes[k].1.end - lanes[k].1.start) / 128 * 128)
            .min()
            .unwrap_or(0);
        let mut spare = Sha512::default();
        let mut spare256 = Sha256::new();
        let all256 = busy.iter().all(|&k| lanes[k].1.sha256.is_some());
        let mut states: Vec<&mut Sha512> = Vec::with_capacity(LANES);
        let mut states256: Vec<&mut Sha256> = Vec::with_capacity(LANES);
        let mut runs: Vec<&[u8]> = Vec::with_capacity(LANES);
        for (k, (_, lane)) in lanes.iter_mut().enumerate() {
            if let (true, Some(state)) = (busy.contains(&k), lane.sha512.as_mut()) {
                let bytes = &lane.buf[lane.start..lane.start + run];
                states.push(state);
                runs.push(bytes);
                match lane.sha256.as_mut() {
                    Some(state256) if all256 => states256.push(state256),
                    Some(state256) => state256.compress(bytes),
                    None => {}
                }
            }
        }
        // A fourth lane for three files computes a throwaway digest.
        while runs.len() < LANES {
            runs.push(runs[0]);
        }
        states.push(&mut spare);
        states.truncate(LANES);
        if let Some(spare256) = spare256.as_mut() {
            states256.push(spare256);
        }
        states256.truncate(LANES);
        if let (Ok(states), Ok(runs)) = (
            <[&mut Sha512; LANES]>::try_from(states),
            <[&[u8]; LANES]>::try_from(runs),
        ) {
            Sha512::compress4(states, runs);
            if let Ok(states256) = <[&mut Sha256; LANES]>::try_from(states256) {
                Sha256::compress4(states256, runs);
            }
            for &k in &busy {
                lanes[k].1.start += run;
            }
            return;
        }
    }
    for (_, lane) in lanes.iter_mut() {
        if let Some(state) = lane.sha512.as_mut() {
            let run = (lane.end - lane.start) / 128 * 128;
            let bytes = &lane.buf[lane.start..lane.start + run];
            state.compress(bytes);
            if let Some(state256) = lane.sha256.as_mut() {
                state256.compress(bytes);
            }
            lane.start += run;
        }
    }
}

/// The digests of a lane at the end of its file, in the order of its algos.
fn finish(lane: Lane) -> Vec<String> {
    let mut digests = vec![String::new(); lane.algos.len()];
    for (k, hasher) in lane.others {
        digests[k] = hasher.finish();
    }
    let rest = &lane.buf[lane.start..lane.end];
    let in_step = [
        (Algo::Sha512, lane.sha512.map(|s| s.finish(rest))),
        (Algo::Sha256, lane.sha256.map(|s| s.finish(rest))),
    ];
    for (algo, digest) in in_step {
        let Some(digest) = digest else { continue };
        for (k, a) in lane.algos.iter().enumerate() {
            if *a == algo {
                digests[k] = digest.clone();
            }
        }
    }
    digests
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fileio::open_regular;
    use crate::hash::hash_bytes;
    use crate::test_support::tree;

    #[test]
    fn every_digest_of_files_of_any_size_read_side_by_side() {
        let sizes = [
            0usize,
            1,
            127,
            128,
            129,
            300_000,
            BUFFER_SIZE,
            BUFFER_SIZE + 5,
            1_000_000,
        ];
        let files: Vec<(String, Vec<u8>)> = sizes
            .iter()
            .map(|&n| {
                (
                    format!("f{n}"),
                    (0..n).map(|i| (i * 13 % 251) as u8).collect(),
                )
            })
            .collect();
        let dir = tree(&files);
        let both = [Algo::Sha256, Algo::Sha512];
        let more = [Algo::Md5, Algo::Sha512, Algo::Blake3];
        let only = [Algo::Sha512];
        // Mixed algorithms, then SHA-256 and SHA-512 everywhere (in step).
        for algos in [[&both[..], &more, &only], [&both, &both, &both]] {
            // Batches of 1 to 4 files, and one with a missing file in it.
            for batch in 1..=4 {
                for group in files.chunks(batch) {
                    let mut inputs: Vec<(Result<OpenFile, Status>, &[Algo])> = group
                        .iter()
                        .enumerate()
                        .map(|(i, (name, _))| {
                            (
                                open_regular(&dir.path().join(name)).map_err(|_| Status::Missing),
                                algos[i % 3],
                            )
                        })
                        .collect();
                    inputs.push((Err(Status::Missing), &both));
                    let done = AtomicU64::new(0);
                    let got = digest_files(inputs, &Cancel::default(), Some(&done)).unwrap();
                    for (i, (name, data)) in group.iter().enumerate() {
                        let want: Vec<String> =
                            algos[i % 3].iter().map(|&a| hash_bytes(a, data)).collect();
                        assert_eq!(
                            got[i].as_ref().ok(),
                            Some(&want),
                            "{name} in a batch of {batch}"
                        );
                    }
                    assert_eq!(got.last(), Some(&Err(Status::Missing)));
                    let bytes: usize = group.iter().map(|(_, d)| d.len()).sum();
                    assert_eq!(done.load(Ordering::Relaxed), bytes as u64);
                }
            }
        }
        let cancel = Cancel::default();
        cancel.set();
        let one = vec![(
            open_regular(&dir.path().join("f1")).map_err(|_| Status::Missing),
            &both[..],
        )];
        assert!(digest_files(one, &cancel, None).is_none());
    }
}
