//! Families re-imported from a Prometheus or OpenMetrics exposition
//! (`content_type: prometheus`): the one dynamic corner of pme, since their
//! names and labels come from the source, not from the spec.

use pme_content::exposition::{self, Family, Format, Import};

use crate::metric::{ExtractError, ExtractErrors};

/// What a `content_type: prometheus` group serves: the families its
/// imports took from the last good reading, each with the index of the
/// import that took it.
#[derive(Clone, Debug, Default)]
pub struct Imported {
    families: Vec<(usize, Family<'static>)>,
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
        let (families, problems) = exposition::route(families, imports, declared);
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

    /// The families served now.
    pub fn families(&self) -> impl Iterator<Item = &Family<'static>> {
        self.families.iter().map(|(_, f)| f)
    }
}
