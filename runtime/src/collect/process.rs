//! `process`: pme's own `process_*` metrics, with the names and meanings
//! of the Prometheus client libraries' process collector. Always read from
//! the real `/proc/self`: they describe pme, not the host under
//! `--path.procfs`.

use std::path::Path;

use super::{Collect, Context, FromOptions, read, series};
use crate::metric::ExtractErrors;
use crate::{Counter, Gauge};

/// pme's resource use.
#[derive(Debug, Default, crate::MetricGroup)]
pub struct Process {
    #[metric(
        name = "process_cpu_seconds_total",
        help = "Total user and system CPU time spent in seconds."
    )]
    cpu_seconds: Counter,
    #[metric(
        name = "process_resident_memory_bytes",
        help = "Resident memory size in bytes."
    )]
    resident_memory: Gauge,
    #[metric(
        name = "process_virtual_memory_bytes",
        help = "Virtual memory size in bytes."
    )]
    virtual_memory: Gauge,
    #[metric(name = "process_open_fds", help = "Number of open file descriptors.")]
    open_fds: Gauge,
    #[metric(
        name = "process_max_fds",
        help = "Maximum number of open file descriptors."
    )]
    max_fds: Gauge,
    #[metric(
        name = "process_start_time_seconds",
        help = "Start time of the process since unix epoch in seconds."
    )]
    start_time: Gauge,
}

impl FromOptions for Process {
    type Options = ();

    fn from_options((): ()) -> Result<Process, String> {
        Ok(Process::default())
    }
}

impl Collect for Process {
    fn collect(&mut self, context: &Context) -> Result<(), ExtractErrors> {
        let proc = Path::new("/proc");
        let stat = read::text(&proc.join("self/stat")).map_err(ExtractErrors::reading)?;
        // `pid (comm) state …`: comm may hold spaces and parentheses.
        let after = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .ok_or_else(|| ExtractErrors::reading("/proc/self/stat: no `)`".to_owned()))?;
        let fields: Vec<&str> = after.split_whitespace().collect();
        // Field N of proc(5) is fields[N - 3] here.
        let field = |n: usize| {
            read::field(&fields, n - 3, "/proc/self/stat").map_err(ExtractErrors::reading)
        };
        let ticks = context.clock_ticks;
        let (utime, stime, start, vsize, rss) =
            (field(14)?, field(15)?, field(22)?, field(23)?, field(24)?);
        let page = match nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE) {
            Ok(Some(p)) if p > 0 => p as f64,
            _ => 4096.0,
        };
        let fds = std::fs::read_dir(proc.join("self/fd"))
            .map_err(|e| ExtractErrors::reading(format!("/proc/self/fd: {e}")))?
            .count();
        let limits = read::text(&proc.join("self/limits")).map_err(ExtractErrors::reading)?;
        let max_fds = limits
            .lines()
            .find_map(|l| l.strip_prefix("Max open files"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|soft| soft.parse::<f64>().ok())
            .ok_or_else(|| {
                ExtractErrors::reading("/proc/self/limits: no Max open files".to_owned())
            })?;
        let one = |v: f64| vec![series([], v)];
        // The start time never changes: `/proc/stat` is read for the boot
        // time only until it is known.
        if self.start_time.series().is_empty() {
            let boot = read::text(&proc.join("stat"))
                .ok()
                .and_then(|s| read::keyed(&s, "btime"))
                .ok_or_else(|| ExtractErrors::reading("/proc/stat: no btime".to_owned()))?;
            self.start_time.replace(one(boot as f64 + start / ticks));
        }
        self.cpu_seconds.replace(one((utime + stime) / ticks));
        self.resident_memory.replace(one(rss * page));
        self.virtual_memory.replace(one(vsize));
        self.open_fds.replace(one(fds as f64));
        self.max_fds.replace(one(max_fds));
        Ok(())
    }
}
