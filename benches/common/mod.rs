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

/// The port of the first TCP socket process `pid` listens on (a peer
/// started with port 0), waiting up to 10 s: its sockets in `/proc/PID/fd`
/// that `/proc/PID/net/tcp{,6}` lists in state LISTEN.
#[allow(dead_code, reason = "not every benchmark starts a peer")]
pub(crate) fn listening_port(pid: u32) -> Option<u16> {
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    while Instant::now() < deadline {
        let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .ok()?
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .filter_map(|t| {
                Some(
                    t.to_str()?
                        .strip_prefix("socket:[")?
                        .strip_suffix(']')?
                        .to_owned(),
                )
            })
            .collect();
        for table in ["tcp", "tcp6"] {
            let text =
                std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
            for line in text.lines().skip(1) {
                // sl local_address rem_address st … inode
                let fields: Vec<&str> = line.split_whitespace().collect();
                if fields.len() > 9 && fields[3] == "0A" && inodes.iter().any(|i| i == fields[9]) {
                    let port = fields[1].rsplit(':').next()?;
                    return u16::from_str_radix(port, 16).ok();
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}
