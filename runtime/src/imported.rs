//! Families re-imported from a Prometheus or OpenMetrics exposition
//! (`content_type: prometheus`): the one dynamic corner of pme, since their
//! names and labels come from the source, not from the spec.

use pme_content::exposition::{self, Family, Format, Import, MetricType};

use crate::metric::{ExtractError, ExtractErrors};

/// What a `content_type: prometheus` group serves: the families its
/// imports took from the last good reading, each with the index of the
/// import that took it.
#[derive(Clone, Debug, Default)]
pub struct Imported {
    families: Vec<(usize, Family<'static>)>,
    /// Samples dropped over an import's `max_series`, since start.
    dropped: u64,
}

impl Imported {
    /// Parses a reading (leniently, as Prometheus scrapes: text format, or
    /// OpenMetrics when it ends with `# EOF`) and keeps what `imports`
    /// select. Families named like one of `declared` are left out.
    ///
    /// # Errors
    /// The reading does not parse (the families fall back as
    /// [`Imported::fail`] says), or some families could not be served (the
    /// others are).
    pub fn extract(
        &mut self,
        input: &[u8],
        imports: &[Import],
        declared: &[&str],
    ) -> Result<(), ExtractErrors> {
        let families = match exposition::parse(input, Format::detect(input), false) {
            Ok(families) => families,
            Err(e) => {
                self.fail(imports);
                return Err(ExtractErrors::reading(e.to_string()));
            }
        };
        let (mut families, problems) = exposition::route(families, imports, declared);
        self.dropped += keep_first(&mut families, imports);
        self.families = families;
        ExtractErrors(
            problems
                .into_iter()
                .map(|message| ExtractError {
                    metric: "",
                    message,
                })
                .collect(),
        )
        .into_result()
    }

    /// A reading failed: the samples of imports with `value_on_error` take
    /// that value; the others keep their last values.
    pub fn fail(&mut self, imports: &[Import]) {
        for (import, family) in &mut self.families {
            if let Some(v) = imports[*import].value_on_error {
                for sample in &mut family.samples {
                    sample.value = v;
                }
            }
        }
    }

    /// Appends the families in `format` (OpenMetrics without `# EOF`,
    /// which ends the whole exposition).
    pub fn encode(&self, out: &mut Vec<u8>, format: exposition::Format) {
        match format {
            exposition::Format::Prometheus => exposition::write_text(out, self.families()),
            exposition::Format::OpenMetrics => {
                let served = self.families().filter(|f| !f.samples.is_empty());
                exposition::write_openmetrics_families(out, served);
            }
        }
    }

    /// Samples dropped over the imports' `max_series`, summed over
    /// readings since start.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The families served now.
    pub fn families(&self) -> impl Iterator<Item = &Family<'static>> {
        self.families.iter().map(|(_, f)| f)
    }
}

/// Cuts each import's samples to its `max_series`, in the source's order;
/// how many were cut.
fn keep_first(families: &mut [(usize, Family<'static>)], imports: &[Import]) -> u64 {
    let mut kept = vec![0usize; imports.len()];
    let mut dropped = 0;
    for (import, family) in families.iter_mut() {
        let Some(max) = imports[*import].max_series else {
            continue;
        };
        let room = max - kept[*import].min(max);
        if family.samples.len() > room {
            // A histogram's or summary's series is several samples: it is
            // kept whole or not at all, so none loses its `+Inf` bucket.
            let whole = matches!(
                family.kind,
                MetricType::Histogram | MetricType::GaugeHistogram | MetricType::Summary
            );
            let keep = if whole { 0 } else { room };
            dropped += (family.samples.len() - keep) as u64;
            family.samples.truncate(keep);
        }
        kept[*import] += family.samples.len();
    }
    dropped
}
