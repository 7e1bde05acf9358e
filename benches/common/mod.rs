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

/// Which ports a process listens on: the tests' reader of `/proc`.
#[path = "../../tests/util/listening.rs"]
#[allow(dead_code, reason = "not every benchmark starts a peer")]
mod listening;

/// The port process `pid` (a peer started with port 0) listens on, waiting
/// up to 10 s for it to listen.
#[allow(dead_code, reason = "not every benchmark starts a peer")]
pub(crate) fn listening_port(pid: u32) -> Option<u16> {
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(addr) = listening::listening_addrs(pid).first() {
            return Some(addr.port());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}
