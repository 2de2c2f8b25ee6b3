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
}
