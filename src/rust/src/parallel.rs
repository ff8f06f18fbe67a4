//! Worker pools and the flags shared with them: a cancel flag the caller
//! raises on Ctrl-C, and progress counters it reads. Pools are scoped, so
//! every worker has exited when a call returns. Never touches R.

use crate::errors::RwError;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Raised once to ask workers to stop; they check it between chunks of work.
#[derive(Debug, Default)]
pub struct Cancel(AtomicBool);

impl Cancel {
    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Counters that workers bump and a watcher reads, for progress reports.
#[derive(Debug, Default)]
pub struct Progress {
    pub files_done: AtomicU64,
    pub files_total: AtomicU64,
    pub bytes_done: AtomicU64,
    pub bytes_total: AtomicU64,
}

/// The number of worker threads: `requested` when positive, else every core
/// this process may run on, or at most 2 under R CMD check's
/// `_R_CHECK_LIMIT_CORES_` (CRAN's rule for checks).
pub fn resolve_threads(requested: i32) -> usize {
    if let Ok(n) = usize::try_from(requested) {
        if n > 0 {
            return n;
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match std::env::var("_R_CHECK_LIMIT_CORES_") {
        Ok(limit) if !limit.is_empty() && !limit.eq_ignore_ascii_case("false") => cores.min(2),
        _ => cores,
    }
}

/// Runs `work` on a pool of `threads` workers and returns its result once
/// every worker has exited (rayon's `build_scoped`: no thread outlives the call).
pub fn with_pool<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> Result<T, RwError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("rwbridge-worker-{i}"))
        .build_scoped(|thread| thread.run(), |pool| pool.install(work))
        .map_err(|e| RwError::Internal(format!("cannot start worker threads: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn pool_has_the_requested_size() {
        for threads in [1, 2, 3] {
            let seen = with_pool(threads, rayon::current_num_threads).unwrap();
            assert_eq!(seen, threads);
        }
        assert_eq!(with_pool(0, rayon::current_num_threads).unwrap(), 1);
    }

    #[test]
    fn work_runs_and_returns() {
        let sum: u64 = with_pool(2, || (1..=1000u64).into_par_iter().sum()).unwrap();
        assert_eq!(sum, 500_500);
    }

    #[test]
    fn requested_threads_win_over_the_default() {
        assert_eq!(resolve_threads(3), 3);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!((1..=cores).contains(&resolve_threads(0)));
        assert!((1..=cores).contains(&resolve_threads(-1)));
    }

    #[test]
    fn cancel_is_sticky() {
        let c = Cancel::default();
        assert!(!c.is_set());
        c.set();
        assert!(c.is_set());
    }
}
