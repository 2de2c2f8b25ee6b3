//! Splitting per-agent host work (decoding records, harvesting columns) across the host's
//! threads once there are enough agents to pay for the threads.

use std::sync::OnceLock;

/// Fewest agents worth a thread of their own.
const AGENTS_PER_THREAD: usize = 16_384;

/// How many threads `agents` agents' work is split across: one below twice
/// [`AGENTS_PER_THREAD`], never more than the host has.
pub(super) fn parts(agents: usize) -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    let threads = *THREADS.get_or_init(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    (agents / AGENTS_PER_THREAD).clamp(1, threads)
}

/// Runs `work` on each piece, on a thread of its own when there are several, and returns
/// what each gave, in piece order.
pub(super) fn map<T: Send, R: Send>(pieces: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    if pieces.len() <= 1 {
        return pieces.into_iter().map(work).collect();
    }
    std::thread::scope(|scope| {
        let work = &work;
        let workers: Vec<_> = pieces
            .into_iter()
            .map(|piece| scope.spawn(move || work(piece)))
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_follow_the_agent_count_up_to_the_host() {
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        assert_eq!(parts(0), 1);
        assert_eq!(parts(AGENTS_PER_THREAD * 2 - 1), 1);
        assert_eq!(parts(AGENTS_PER_THREAD * 2), 2.min(threads));
        assert_eq!(parts(AGENTS_PER_THREAD * 10_000), threads);
    }

    #[test]
    fn map_keeps_piece_order_on_threads_and_inline() {
        let many: Vec<u64> = (0..8).collect();
        assert_eq!(map(many, |x| x * x), [0, 1, 4, 9, 16, 25, 36, 49]);
        assert_eq!(map(vec![7_u64], |x| x + 1), [8]);
        assert!(map(Vec::<u64>::new(), |x| x).is_empty());
    }
}
