//! The worker runtime, the one place that decides where work runs: inline
//! on the calling thread while it is small, on a pool of worker threads
//! kept between calls once it is not. The caller waits for the workers by
//! polling (for Ctrl-C, and to draw progress) through a hook it passes in.
//! Never touches R: the binding's hook does that, on the R thread only.

use crate::errors::RwError;
use rayon::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock, PoisonError};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// Vectors of at most this many values are processed inline. Handing work
/// to the workers and waking the caller costs about 20 us, which one core
/// spends on about 2^16 values (`bench/sweep.R`); below it, threads lose.
pub const INLINE_MAX_VALUES: usize = 1 << 16;

/// Lists of items (files) are processed inline, in order, until this much
/// time has passed; the rest are then shared with the workers. Waking a
/// sleeping worker costs 50 to 100 us on a virtual machine, as much as
/// hashing ten small files (`bench/sweep.R`), so a small list never wakes
/// one, and a big one loses at most this much of its parallel speed-up.
pub const INLINE_BUDGET: Duration = Duration::from_micros(300);

/// Lists this long are shared from the start: even of small files they
/// take longer than `INLINE_BUDGET`, and with big files the first one
/// would otherwise be hashed alone while the other cores wait.
pub const SHARED_MIN_ITEMS: usize = 64;

/// How often the caller polls: Ctrl-C is seen within this delay, and the
/// progress line is redrawn at most this often.
pub const POLL_EVERY: Duration = Duration::from_millis(100);

/// How long the caller spins for the workers' answer before it sleeps.
const SPIN: Duration = Duration::from_micros(50);

/// Where a piece of work runs: sequentially on the calling thread, or
/// spread over the current rayon pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Par {
    Inline,
    Workers,
}

impl Par {
    /// `f` of each item, in order.
    pub fn map<T: Sync, R: Send>(self, items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
        match self {
            Par::Inline => items.iter().map(f).collect(),
            Par::Workers => items.par_iter().map(f).collect(),
        }
    }

    /// `f` of each chunk of `size` items, in order.
    pub fn map_chunks<T: Sync, R: Send>(
        self,
        items: &[T],
        size: usize,
        f: impl Fn(&[T]) -> R + Sync + Send,
    ) -> Vec<R> {
        match self {
            Par::Inline => items.chunks(size).map(f).collect(),
            Par::Workers => items.par_chunks(size).map(f).collect(),
        }
    }

    /// Applies `f` to each item in place.
    pub fn for_each_mut<T: Send>(self, items: &mut [T], f: impl Fn(&mut T) + Sync + Send) {
        match self {
            Par::Inline => items.iter_mut().for_each(f),
            Par::Workers => items.par_iter_mut().for_each(f),
        }
    }
}

/// What the caller's hook does when polled: `true` means the user asked to
/// stop (Ctrl-C). It is only ever called on the thread that made the runtime.
pub type Hook<'a> = &'a (dyn Fn() -> bool + Sync);

/// The flag that asks work to stop. Workers only read it; work running
/// inline also polls the caller's hook through it, every `POLL_EVERY`.
pub struct Cancel<'a> {
    flag: AtomicBool,
    hook: Option<Hook<'a>>,
    owner: ThreadId,
    started: Instant,
    /// Nanoseconds after `started` at which the hook is next due.
    next_poll: AtomicU64,
}

impl Default for Cancel<'_> {
    fn default() -> Self {
        Cancel::new(None)
    }
}

impl<'a> Cancel<'a> {
    fn new(hook: Option<Hook<'a>>) -> Self {
        Cancel {
            flag: AtomicBool::new(false),
            hook,
            owner: std::thread::current().id(),
            started: Instant::now(),
            next_poll: AtomicU64::new(POLL_EVERY.as_nanos() as u64),
        }
    }

    pub fn set(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// `Err(Interrupted)` once the flag is set. On the caller's own thread
    /// (inline work) it also polls the hook when a poll is due.
    pub fn check(&self) -> Result<(), RwError> {
        if let Some(hook) = self.hook {
            if self.poll_due() && std::thread::current().id() == self.owner && hook() {
                self.set();
            }
        }
        if self.is_set() {
            Err(RwError::Interrupted)
        } else {
            Ok(())
        }
    }

    fn poll_due(&self) -> bool {
        let now = self.started.elapsed().as_nanos() as u64;
        if now < self.next_poll.load(Ordering::Relaxed) {
            return false;
        }
        self.next_poll
            .store(now + POLL_EVERY.as_nanos() as u64, Ordering::Relaxed);
        true
    }
}

/// Counters that workers bump and the caller's hook reads for progress.
#[derive(Debug, Default)]
pub struct Progress {
    pub files_done: AtomicU64,
    pub files_total: AtomicU64,
    pub bytes_done: AtomicU64,
    pub bytes_total: AtomicU64,
}

impl Progress {
    /// Sets the totals the counters will count up to.
    pub fn start(&self, files: usize, bytes: u64) {
        self.files_total.store(files as u64, Ordering::Relaxed);
        self.bytes_total.store(bytes, Ordering::Relaxed);
    }
}

/// One call's runtime: the thread count asked for (0: every core), the
/// cancel flag, and the caller's hook. Making one starts no thread.
pub struct Runtime<'a> {
    threads: usize,
    cancel: Cancel<'a>,
    inline_budget: Duration,
}

impl<'a> Runtime<'a> {
    pub fn new(threads: usize, hook: Option<Hook<'a>>) -> Self {
        Runtime {
            threads,
            cancel: Cancel::new(hook),
            inline_budget: INLINE_BUDGET,
        }
    }

    /// The same runtime with every item of [`Runtime::map`] on the workers.
    #[cfg(test)]
    pub fn all_on_workers(mut self) -> Self {
        self.inline_budget = Duration::ZERO;
        self
    }

    pub fn cancel(&self) -> &Cancel<'a> {
        &self.cancel
    }

    /// Runs `work` on a vector of `values` elements: inline up to
    /// `INLINE_MAX_VALUES`, else on the workers.
    pub fn run_on_values<T: Send>(
        &self,
        values: usize,
        work: impl FnOnce(Par, &Cancel) -> Result<T, RwError> + Send,
    ) -> Result<T, RwError> {
        if values <= INLINE_MAX_VALUES {
            work(Par::Inline, &self.cancel)
        } else {
            self.on_workers(|| work(Par::Workers, &self.cancel))
        }
    }

    /// `f` of each item, in order: a list shorter than `SHARED_MIN_ITEMS`
    /// inline until `INLINE_BUDGET` has passed, then the rest (or all of a
    /// longer list) shared between this thread and `threads - 1` workers, each
    /// taking the next item as it finishes one. This thread works rather
    /// than sleeps, so a small job pays no wake-up, and it polls the hook
    /// between its items. Fails only when cancelled.
    pub fn map<T: Sync, R: Send>(
        &self,
        items: &[T],
        f: impl Fn(&T, &Cancel) -> R + Sync + Send,
    ) -> Result<Vec<R>, RwError> {
        let cancel = &self.cancel;
        let started = Instant::now();
        let mut out = Vec::with_capacity(items.len());
        let inline = items.len() < SHARED_MIN_ITEMS;
        while inline && out.len() < items.len() && started.elapsed() < self.inline_budget {
            out.push(f(&items[out.len()], cancel));
            cancel.check()?;
        }
        let rest = &items[out.len()..];
        let helpers = resolve_threads(self.threads) - 1;
        if rest.is_empty() || helpers == 0 {
            for item in rest {
                out.push(f(item, cancel));
                cancel.check()?;
            }
            return Ok(out);
        }
        let pool = kept_pool(helpers + 1)?;
        let next = AtomicUsize::new(0);
        let take = || Some(next.fetch_add(1, Ordering::Relaxed)).filter(|&i| i < rest.len());
        let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(rest.len()).collect();
        let (done, parts) = mpsc::channel();
        let panicked = pool.in_place_scope(|scope| {
            for _ in 0..helpers {
                let (done, take, f) = (done.clone(), &take, &f);
                scope.spawn(move |_| {
                    let part = catch_unwind(AssertUnwindSafe(|| {
                        let mut part = Vec::new();
                        while let Some(i) = take().filter(|_| !cancel.is_set()) {
                            part.push((i, f(&rest[i], cancel)));
                        }
                        part
                    }));
                    let _ = done.send(part);
                });
            }
            while let Some(i) = take() {
                slots[i] = Some(f(&rest[i], cancel));
                if cancel.check().is_err() {
                    break;
                }
            }
            let mut panicked = None;
            for _ in 0..helpers {
                match self.wait(&parts) {
                    Ok(part) => part.into_iter().for_each(|(i, r)| slots[i] = Some(r)),
                    Err(payload) => panicked = Some(panic_message(&*payload)),
                }
            }
            panicked
        });
        if let Some(message) = panicked {
            return Err(RwError::Internal(message));
        }
        cancel.check()?;
        for slot in slots {
            out.push(slot.ok_or_else(|| RwError::Internal("an item was skipped".into()))?);
        }
        Ok(out)
    }

    /// The next message from the workers. Spins briefly first: a sleeping
    /// thread takes tens of microseconds to wake on some machines. Then
    /// blocks, polling the hook every `POLL_EVERY`.
    fn wait<M>(&self, from: &mpsc::Receiver<M>) -> M {
        let spin_until = Instant::now() + SPIN;
        while Instant::now() < spin_until {
            if let Ok(message) = from.try_recv() {
                return message;
            }
            std::hint::spin_loop();
        }
        loop {
            match from.recv_timeout(POLL_EVERY) {
                Ok(message) => return message,
                Err(_) => self.poll(),
            }
        }
    }

    /// Asks the hook, if any, and raises the cancel flag when it says so.
    fn poll(&self) {
        if self.cancel.hook.is_some_and(|hook| hook()) {
            self.cancel.set();
        }
    }

    /// Runs `work` on the kept pool while this thread waits, polling the
    /// hook every `POLL_EVERY` and raising the cancel flag when it says so.
    /// A panic on a worker comes back as an internal error.
    fn on_workers<T: Send>(
        &self,
        work: impl FnOnce() -> Result<T, RwError> + Send,
    ) -> Result<T, RwError> {
        let pool = kept_pool(resolve_threads(self.threads))?;
        let (done, result) = mpsc::sync_channel(1);
        pool.in_place_scope(|scope| {
            scope.spawn(move |_| {
                let _ = done.send(catch_unwind(AssertUnwindSafe(work)));
            });
            self.wait(&result)
        })
        .unwrap_or_else(|payload| Err(RwError::Internal(panic_message(&*payload))))
    }
}

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

/// The number of worker threads: `requested` when positive, else every
/// core this process may run on, or at most 2 under R CMD check's
/// `_R_CHECK_LIMIT_CORES_` (CRAN's rule for checks).
pub fn resolve_threads(requested: usize) -> usize {
    if requested > 0 {
        return requested;
    }
    // Finding the cores reads cgroup files; the answer does not change.
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    match std::env::var("_R_CHECK_LIMIT_CORES_") {
        Ok(limit) if !limit.is_empty() && !limit.eq_ignore_ascii_case("false") => cores.min(2),
        _ => cores,
    }
}

/// A pool, the number of threads it has and the process that built it.
struct KeptPool {
    pool: Arc<rayon::ThreadPool>,
    threads: usize,
    pid: u32,
}

/// Pools of the sizes used lately, so that alternating `threads` values
/// do not rebuild one per call; idle workers sleep and cost nothing.
const KEPT_SIZES: usize = 4;

static KEPT: Mutex<Vec<KeptPool>> = Mutex::new(Vec::new());

/// The pool of `threads` workers, built on first use and kept. In a forked
/// child (`parallel::mclapply()`) the parent's workers do not exist, so
/// pools are built afresh and the old ones leaked: dropping one would wait
/// for threads that will never answer.
fn kept_pool(threads: usize) -> Result<Arc<rayon::ThreadPool>, RwError> {
    let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    let pid = std::process::id();
    if kept.first().is_some_and(|k| k.pid != pid) {
        for inherited in kept.drain(..) {
            std::mem::forget(inherited);
        }
    }
    if let Some(k) = kept.iter().find(|k| k.threads == threads) {
        return Ok(Arc::clone(&k.pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("rwbridge-worker-{i}"))
        .build()
        .map_err(|e| RwError::Internal(format!("cannot start worker threads: {e}")))?;
    let pool = Arc::new(pool);
    if kept.len() == KEPT_SIZES {
        kept.remove(0);
    }
    kept.push(KeptPool {
        pool: Arc::clone(&pool),
        threads,
        pid,
    });
    Ok(pool)
}

/// The progress line: files and bytes done of the total, and throughput.
pub struct Meter<'a> {
    label: &'a str,
    counters: &'a Progress,
    started: Instant,
    drawn: Mutex<Option<Instant>>,
}

impl<'a> Meter<'a> {
    pub fn new(label: &'a str, counters: &'a Progress) -> Self {
        Meter {
            label,
            counters,
            started: Instant::now(),
            drawn: Mutex::new(None),
        }
    }

    /// The line to draw now (starting with `\r`), or `None` when the last
    /// one was drawn less than `POLL_EVERY` ago. `last` forces it.
    pub fn line(&self, last: bool) -> Option<String> {
        let now = Instant::now();
        let mut drawn = self.drawn.lock().unwrap_or_else(PoisonError::into_inner);
        if last && drawn.is_none() {
            return None;
        }
        if !last && drawn.is_some_and(|t| now - t < POLL_EVERY) {
            return None;
        }
        *drawn = Some(now);
        let c = self.counters;
        let bytes = c.bytes_done.load(Ordering::Relaxed) as f64;
        let seconds = (now - self.started).as_secs_f64().max(1e-9);
        Some(format!(
            "\r{}: {}/{} files, {} of {}, {}/s   ",
            self.label,
            c.files_done.load(Ordering::Relaxed),
            c.files_total.load(Ordering::Relaxed),
            human_bytes(bytes),
            human_bytes(c.bytes_total.load(Ordering::Relaxed) as f64),
            human_bytes(bytes / seconds),
        ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn small_vectors_stay_on_the_calling_thread() {
        let rt = Runtime::new(2, None);
        let me = std::thread::current().id();
        let (par, id) = rt
            .run_on_values(INLINE_MAX_VALUES, |par, _| {
                Ok((par, std::thread::current().id()))
            })
            .unwrap();
        assert_eq!((par, id), (Par::Inline, me));
        let (par, id) = rt
            .run_on_values(INLINE_MAX_VALUES + 1, |par, _| {
                Ok((par, std::thread::current().id()))
            })
            .unwrap();
        assert_eq!(par, Par::Workers);
        assert_ne!(id, me);
    }

    #[test]
    fn the_pool_is_kept_and_sized() {
        let rt = Runtime::new(3, None);
        let seen = rt
            .run_on_values(usize::MAX, |_, _| Ok(rayon::current_num_threads()))
            .unwrap();
        assert_eq!(seen, 3);
        let first = kept_pool(3).unwrap();
        assert!(Arc::ptr_eq(&first, &kept_pool(3).unwrap()));
    }

    #[test]
    fn map_keeps_order_across_the_switch_to_workers() {
        let rt = Runtime::new(2, None);
        let items: Vec<u64> = (0..2000).collect();
        let slow = |&i: &u64, _: &Cancel| {
            std::thread::sleep(Duration::from_micros(5));
            i * i
        };
        let got = rt.map(&items, slow).unwrap();
        assert_eq!(got, items.iter().map(|i| i * i).collect::<Vec<_>>());
        assert!(rt.map(&[] as &[u64], slow).unwrap().is_empty());
    }

    #[test]
    fn the_hook_cancels_inline_and_worker_work() {
        let calls = AtomicUsize::new(0);
        let hook = || {
            calls.fetch_add(1, Ordering::Relaxed);
            true
        };
        let rt = Runtime::new(2, Some(&hook));
        // Inline: the work polls through `check()`.
        let inline: Result<(), _> = rt.run_on_values(10, |_, cancel| loop {
            cancel.check()?;
            std::thread::yield_now();
        });
        assert_eq!(inline.unwrap_err().kind(), "interrupt");
        // On workers: this thread polls while they run.
        let rt = Runtime::new(2, Some(&hook));
        let on_workers = rt.run_on_values(usize::MAX, |_, cancel| {
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                cancel.check()?;
                std::thread::yield_now();
            }
            Ok(())
        });
        assert_eq!(on_workers.unwrap_err().kind(), "interrupt");
        assert!(calls.load(Ordering::Relaxed) >= 2);
    }

    #[test]
    fn a_panic_on_a_worker_is_an_internal_error() {
        let rt = Runtime::new(2, None);
        let err = rt
            .run_on_values(usize::MAX, |_, _| -> Result<(), RwError> {
                panic!("boom on a worker")
            })
            .unwrap_err();
        assert_eq!(err.kind(), "internal");
        assert!(err.to_string().contains("boom on a worker"));
    }

    #[test]
    fn requested_threads_win_over_the_default() {
        assert_eq!(resolve_threads(3), 3);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!((1..=cores).contains(&resolve_threads(0)));
    }

    #[test]
    fn par_helpers_agree() {
        let items: Vec<u32> = (0..10_000).collect();
        for par in [Par::Inline, Par::Workers] {
            assert_eq!(par.map(&items, |i| i + 1)[9_999], 10_000);
            let sums = par.map_chunks(&items, 1000, |c| c.iter().sum::<u32>());
            assert_eq!(sums.len(), 10);
            assert_eq!(sums.iter().sum::<u32>(), items.iter().sum::<u32>());
            let mut v = items.clone();
            par.for_each_mut(&mut v, |x| *x *= 2);
            assert_eq!(v[5], 10);
        }
    }

    #[test]
    fn the_meter_draws_at_most_every_poll() {
        let counters = Progress::default();
        counters.files_total.store(3, Ordering::Relaxed);
        counters.bytes_total.store(2_500_000, Ordering::Relaxed);
        let meter = Meter::new("verify", &counters);
        assert_eq!(meter.line(true), None, "nothing drawn, nothing to finish");
        let line = meter.line(false).unwrap();
        assert!(
            line.starts_with("\rverify: 0/3 files, 0.0 B of 2.5 MB"),
            "{line}"
        );
        assert_eq!(meter.line(false), None);
        assert!(meter.line(true).is_some());
    }
}
