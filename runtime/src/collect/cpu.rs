//! `cpu`: seconds each CPU spent in each mode, from `/proc/stat`, as
//! node_exporter's `node_cpu_seconds_total{cpu, mode}`.

use super::{Collect, Context, FromOptions, read, series};
use crate::Counter;
use crate::metric::ExtractErrors;

/// The modes of a `cpuN` line of `/proc/stat`, in order. `guest` and
/// `guest_nice` follow, but are already counted in `user` and `nice`.
const MODES: [&str; 8] = [
    "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
];

/// CPU time per CPU and mode.
#[derive(Debug, Default, crate::MetricGroup)]
#[group(labels("host_name", "container_id", "instance", "cpu", "mode"))]
pub struct Cpu {
    #[metric(
        name = "node_cpu_seconds_total",
        help = "Seconds the CPUs spent in each mode."
    )]
    seconds: Counter<5>,
}

impl FromOptions for Cpu {
    type Options = ();

    fn from_options((): ()) -> Result<Cpu, String> {
        Ok(Cpu::default())
    }
}

impl Collect for Cpu {
    fn collect(&mut self, context: &Context) -> Result<(), ExtractErrors> {
        let text = read::text(&context.paths.proc("stat")).map_err(ExtractErrors::reading)?;
        let [h, c, i] = context.identity.labels();
        let mut all = Vec::new();
        for line in text.lines() {
            let mut fields = line.split_whitespace();
            let Some(cpu) = fields.next().and_then(|f| f.strip_prefix("cpu")) else {
                continue;
            };
            if cpu.is_empty() {
                continue; // the `cpu` line sums the others
            }
            let ticks: Vec<&str> = fields.collect();
            for (n, mode) in MODES.iter().enumerate() {
                // Older kernels stop early (no steal before 2.6.11).
                let Some(t) = ticks.get(n) else { break };
                let t: f64 = t.parse().map_err(|_| {
                    ExtractErrors::reading(format!(
                        "/proc/stat: cpu{cpu} {mode}: not a number: {t:?}"
                    ))
                })?;
                all.push(series([h, c, i, cpu, mode], t / context.clock_ticks));
            }
        }
        if all.is_empty() {
            return Err(ExtractErrors::reading(
                "/proc/stat: no cpuN lines".to_owned(),
            ));
        }
        self.seconds.replace(all);
        Ok(())
    }
}
