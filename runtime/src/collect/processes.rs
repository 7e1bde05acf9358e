//! `processes`: the host's process count, the numeric entries of `/proc`.

use super::{Collect, Context, FromOptions, series};
use crate::Untyped;
use crate::metric::ExtractErrors;

/// How many processes exist.
#[derive(Debug, Default, crate::MetricGroup)]
#[group(labels("host_name", "container_id", "instance"))]
pub struct Processes {
    // `_total` marks counters, and a count that falls is
    // no counter; a gauge may not end in `_total` (promtool rejects it),
    // so the family keeps its name with the type left unknown.
    #[metric(
        name = "node_processes_total",
        help = "Number of processes (numeric entries of /proc)."
    )]
    total: Untyped<3>,
}

impl FromOptions for Processes {
    type Options = ();

    fn from_options((): ()) -> Result<Processes, String> {
        Ok(Processes::default())
    }
}

impl Collect for Processes {
    fn collect(&mut self, context: &Context) -> Result<(), ExtractErrors> {
        let dir = context.paths.procfs.as_path();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| ExtractErrors::reading(format!("{}: {e}", dir.display())))?;
        let count = entries
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .as_encoded_bytes()
                    .iter()
                    .all(u8::is_ascii_digit)
            })
            .count();
        self.total
            .replace(vec![series(context.identity.labels(), count as f64)]);
        Ok(())
    }
}
