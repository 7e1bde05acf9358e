//! `load`: the load averages of `/proc/loadavg`, under node_exporter's names.

use super::{Collect, Context, FromOptions, read, series};
use crate::Gauge;
use crate::metric::ExtractErrors;

/// Load averages.
#[derive(Debug, Default, crate::MetricGroup)]
#[group(labels("host_name", "container_id", "instance"))]
pub struct Load {
    #[metric(name = "node_load1", help = "1m load average.")]
    load1: Gauge<3>,
    #[metric(name = "node_load5", help = "5m load average.")]
    load5: Gauge<3>,
    #[metric(name = "node_load15", help = "15m load average.")]
    load15: Gauge<3>,
}

impl FromOptions for Load {
    type Options = ();

    fn from_options((): ()) -> Result<Load, String> {
        Ok(Load::default())
    }
}

impl Collect for Load {
    fn collect(&mut self, context: &Context) -> Result<(), ExtractErrors> {
        let text = read::text(&context.paths.proc("loadavg")).map_err(ExtractErrors::reading)?;
        let fields: Vec<&str> = text.split_whitespace().collect();
        let value = |i| read::field(&fields, i, "/proc/loadavg").map_err(ExtractErrors::reading);
        let (l1, l5, l15) = (value(0)?, value(1)?, value(2)?);
        let labels = context.identity.labels();
        self.load1.replace(vec![series(labels, l1)]);
        self.load5.replace(vec![series(labels, l5)]);
        self.load15.replace(vec![series(labels, l15)]);
        Ok(())
    }
}
