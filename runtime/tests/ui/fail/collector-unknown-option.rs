// A spec's `options:` become a struct literal of the collector's own
// options type: a misspelt option and a value of the wrong type fail the
// build, in the function generated for the group.
use pme::collect::{Collect, Context, ExtractErrors, FromOptions};

#[derive(Debug, pme::MetricGroup)]
pub struct Probe {
    #[metric(name = "probe_up", help = "Whether the probe succeeded.")]
    up: pme::Gauge,
}

#[derive(Debug, Default)]
pub struct ProbeOptions {
    pub address: String,
    pub timeout_ms: u64,
}

impl FromOptions for Probe {
    type Options = ProbeOptions;

    fn from_options(_: ProbeOptions) -> Result<Probe, String> {
        Ok(Probe { up: pme::Gauge::default() })
    }
}

impl Collect for Probe {
    fn collect(&mut self, _: &Context) -> Result<(), ExtractErrors> {
        Ok(())
    }
}

mod spec {
    pme::include_spec!("tests/ui/fail/collector-unknown-option.yaml");
}

fn main() {}
