//! `containers`: on a Proxmox VE host, every LXC container's state, memory,
//! CPU, I/O and process count, from `/etc/pve/lxc/<id>.conf` and the
//! container's cgroup v2 directory `/sys/fs/cgroup/lxc/<id>` (which exists
//! while it runs). Elsewhere it serves nothing.

use std::path::Path;

use super::environment::{Environment, instance};
use super::{Collect, Context, FromOptions, read, series};
use crate::metric::{ExtractErrors, Series};
use crate::{Counter, Gauge};

const LABELS: usize = 4;

/// Per-container metrics of a Proxmox host.
#[derive(Debug, Default, crate::MetricGroup)]
#[group(labels("host_name", "container_id", "instance", "name"))]
pub struct Containers {
    #[metric(
        name = "pve_container_up",
        help = "Whether the container runs (1) or not (0)."
    )]
    up: Gauge<LABELS>,
    #[metric(
        name = "pve_container_memory_usage_bytes",
        help = "Memory charged to the container's cgroup (memory.current)."
    )]
    memory_usage: Gauge<LABELS>,
    #[metric(
        name = "pve_container_memory_limit_bytes",
        help = "The container's memory limit (memory.max); absent when unlimited."
    )]
    memory_limit: Gauge<LABELS>,
    #[metric(
        name = "pve_container_cpu_seconds_total",
        help = "CPU time used by the container (cpu.stat usage_usec)."
    )]
    cpu_seconds: Counter<LABELS>,
    #[metric(
        name = "pve_container_io_read_bytes_total",
        help = "Bytes the container read from block devices (io.stat rbytes)."
    )]
    io_read: Counter<LABELS>,
    #[metric(
        name = "pve_container_io_write_bytes_total",
        help = "Bytes the container wrote to block devices (io.stat wbytes)."
    )]
    io_write: Counter<LABELS>,
    #[metric(
        name = "pve_container_processes",
        help = "Processes in the container (pids.current)."
    )]
    processes: Gauge<LABELS>,
}

/// One running container's cgroup readings.
#[derive(Debug, Default)]
struct Usage {
    memory: u64,
    limit: Option<u64>,
    cpu_seconds: f64,
    read_bytes: u64,
    write_bytes: u64,
    processes: u64,
}

impl FromOptions for Containers {
    type Options = ();

    fn from_options((): ()) -> Result<Containers, String> {
        Ok(Containers::default())
    }
}

impl Collect for Containers {
    fn collect(&mut self, context: &Context) -> Result<(), ExtractErrors> {
        if context.environment != Environment::Proxmox {
            return Ok(());
        }
        let configs = context.paths.root("etc/pve/lxc");
        let mut ids: Vec<(u32, String)> = std::fs::read_dir(&configs)
            .map_err(|e| ExtractErrors::reading(format!("{}: {e}", configs.display())))?
            .filter_map(Result::ok)
            .filter_map(|e| {
                let file = e.file_name().into_string().ok()?;
                let id = file.strip_suffix(".conf")?.parse::<u32>().ok()?;
                Some((
                    id,
                    read::text(&e.path())
                        .map(|c| hostname(&c))
                        .unwrap_or_default(),
                ))
            })
            .collect();
        ids.sort_unstable();
        let host = context.identity.host_name.as_str();
        let mut families: [Vec<Series<LABELS>>; 7] = Default::default();
        let [up, memory, limit, cpu, read_bytes, write_bytes, processes] = &mut families;
        for (id, name) in &ids {
            let id = id.to_string();
            let instance = instance(host, &id);
            let labels = [host, id.as_str(), instance.as_str(), name.as_str()];
            let dir = context.paths.sys(&format!("fs/cgroup/lxc/{id}"));
            if !dir.is_dir() {
                up.push(series(labels, 0.0));
                continue;
            }
            let u = usage(&dir).map_err(ExtractErrors::reading)?;
            up.push(series(labels, 1.0));
            memory.push(series(labels, u.memory as f64));
            if let Some(l) = u.limit {
                limit.push(series(labels, l as f64));
            }
            cpu.push(series(labels, u.cpu_seconds));
            read_bytes.push(series(labels, u.read_bytes as f64));
            write_bytes.push(series(labels, u.write_bytes as f64));
            processes.push(series(labels, u.processes as f64));
        }
        let [up, memory, limit, cpu, read_bytes, write_bytes, processes] = families;
        self.up.replace(up);
        self.memory_usage.replace(memory);
        self.memory_limit.replace(limit);
        self.cpu_seconds.replace(cpu);
        self.io_read.replace(read_bytes);
        self.io_write.replace(write_bytes);
        self.processes.replace(processes);
        Ok(())
    }
}

/// The `hostname:` of a container config (before any `[snapshot]` section).
fn hostname(config: &str) -> String {
    config
        .lines()
        .take_while(|l| !l.starts_with('['))
        .find_map(|l| l.strip_prefix("hostname:"))
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

fn usage(dir: &Path) -> Result<Usage, String> {
    let cpu = read::text(&dir.join("cpu.stat"))?;
    let usage_usec = read::keyed(&cpu, "usage_usec")
        .ok_or_else(|| format!("{}: no usage_usec", dir.join("cpu.stat").display()))?;
    // `MAJ:MIN rbytes=… wbytes=… rios=…` per device; absent without I/O.
    let io = read::optional_text(&dir.join("io.stat"))?.unwrap_or_default();
    let sum = |key: &str| -> u64 {
        io.split_whitespace()
            .filter_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse::<u64>().ok())
            .sum()
    };
    Ok(Usage {
        memory: read::number(&dir.join("memory.current"))?.unwrap_or(0),
        limit: read::number(&dir.join("memory.max"))?,
        cpu_seconds: usage_usec as f64 / 1e6,
        read_bytes: sum("rbytes"),
        write_bytes: sum("wbytes"),
        processes: read::number(&dir.join("pids.current"))?.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_of_the_current_config_only() {
        let conf = "arch: amd64\nhostname: web01\nmemory: 512\n[snap1]\nhostname: old\n";
        assert_eq!(hostname(conf), "web01");
        assert_eq!(hostname("[snap]\nhostname: x\n"), "");
    }
}
