//! Timing shared by the benchmarks: median of rounds, after a warm-up.

use std::time::Instant;

/// Median seconds per call of `f` over `rounds` rounds of `iters` calls,
/// after `iters` warm-up calls (caches, buffers, lazily compiled filters).
pub(crate) fn median_secs(rounds: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..iters {
        f();
    }
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed().as_secs_f64() / iters as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[rounds / 2]
}
