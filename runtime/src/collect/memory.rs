//! `memory`: pme's four memory families, from `/proc/meminfo` — or,
//! inside an LXC container whose `/proc` is not virtualized (no LXCFS),
//! from the container's cgroup, so that the total is the container's limit
//! and not the host's RAM (node_exporter #3479).

use super::environment::Environment;
use super::{Collect, Context, FromOptions, read, series};
use crate::Gauge;
use crate::metric::ExtractErrors;

/// Memory totals in bytes.
#[derive(Debug, Default, crate::MetricGroup)]
#[group(labels("host_name", "container_id", "instance"))]
pub struct Memory {
    #[metric(
        name = "node_memory_total_bytes",
        help = "Total memory: MemTotal, or the container's cgroup limit when it is lower."
    )]
    total: Gauge<3>,
    #[metric(
        name = "node_memory_free_bytes",
        help = "Memory not used at all: MemFree, or the container's limit minus its cgroup usage."
    )]
    free: Gauge<3>,
    #[metric(
        name = "node_memory_available_bytes",
        help = "Memory available for new work without swapping: MemAvailable, or the container's limit minus its working set."
    )]
    available: Gauge<3>,
    #[metric(
        name = "node_memory_usage_bytes",
        help = "Memory in use: total minus available."
    )]
    usage: Gauge<3>,
}

/// One reading, in bytes.
#[derive(Debug, PartialEq, Eq)]
struct Reading {
    total: u64,
    free: u64,
    available: u64,
}

impl FromOptions for Memory {
    type Options = ();

    fn from_options((): ()) -> Result<Memory, String> {
        Ok(Memory::default())
    }
}

impl Collect for Memory {
    fn collect(&mut self, context: &Context) -> Result<(), ExtractErrors> {
        let r = reading(context).map_err(ExtractErrors::reading)?;
        let labels = context.identity.labels();
        let set = |v: u64| vec![series(labels, v as f64)];
        self.total.replace(set(r.total));
        self.free.replace(set(r.free));
        self.available.replace(set(r.available));
        self.usage.replace(set(r.total.saturating_sub(r.available)));
        Ok(())
    }
}

fn reading(context: &Context) -> Result<Reading, String> {
    let host = meminfo(&read::text(&context.paths.proc("meminfo"))?)?;
    let Environment::Lxc {
        cgroup: Some(cgroup),
    } = &context.environment
    else {
        return Ok(host);
    };
    let cg = cgroup.memory()?;
    match cg.limit {
        // A limit below MemTotal: `/proc` shows the host, the cgroup the truth.
        Some(limit) if limit < host.total => Ok(Reading {
            total: limit,
            free: limit.saturating_sub(cg.usage),
            available: limit.saturating_sub(cg.working_set()),
        }),
        // No limit, or LXCFS already shows it as MemTotal.
        _ => Ok(host),
    }
}

/// The totals of `/proc/meminfo` (kB there).
fn meminfo(text: &str) -> Result<Reading, String> {
    let kb = |key: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(key)?.strip_prefix(':')?;
            let number = rest.trim().trim_end_matches("kB").trim();
            number.parse::<u64>().ok().map(|n| n * 1024)
        })
    };
    let total = kb("MemTotal").ok_or("/proc/meminfo: no MemTotal")?;
    let free = kb("MemFree").ok_or("/proc/meminfo: no MemFree")?;
    // Kernels before 3.14 lack MemAvailable; free + page cache is the
    // estimate it replaced.
    let available = kb("MemAvailable")
        .unwrap_or_else(|| free + kb("Buffers").unwrap_or(0) + kb("Cached").unwrap_or(0));
    Ok(Reading {
        total,
        free,
        available,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_in_bytes() {
        let r =
            meminfo("MemTotal:       1000 kB\nMemFree:  200 kB\nMemAvailable:   600 kB\n").unwrap();
        assert_eq!(
            r,
            Reading {
                total: 1_024_000,
                free: 204_800,
                available: 614_400
            }
        );
        let old =
            meminfo("MemTotal: 1000 kB\nMemFree: 200 kB\nBuffers: 10 kB\nCached: 90 kB\n").unwrap();
        assert_eq!(old.available, 300 * 1024);
        assert!(meminfo("MemFree: 1 kB\n").unwrap_err().contains("MemTotal"));
    }
}
