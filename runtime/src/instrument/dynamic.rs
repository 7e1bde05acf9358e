//! Updates addressed at run time by family name and label values (the
//! statsd listener's): applied only when they fit a declared instrument
//! exactly: its type, its whole label set, a declared value for each
//! closed label, and the family's limits for free text.

use super::bounded::BoundedFamily;
use super::family::Family;
use super::labels::LabelSet;
use super::value::{Counter, Gauge, Histogram};

/// One update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Update {
    /// Add to a counter or a gauge.
    Add(f64),
    /// Set a gauge.
    Set(f64),
    /// Observe a value this many times (a sampled observation stands for
    /// several).
    Observe(f64, u32),
}

/// Why an update did not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// The update's kind is not the instrument's.
    Type,
    /// A label value is not one of the declared ones, or the family
    /// refused a new label set.
    LabelValue,
}

/// An instrument or family that takes [`Update`]s addressed by label
/// values (in the order of its labels).
pub trait Apply: Send + Sync {
    /// Applies `update` to the series of `values`.
    ///
    /// # Errors
    /// It does not fit.
    fn apply(&self, values: &[&str], update: Update) -> Result<(), Mismatch>;
}

/// A family found by name: its label names and where updates go.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    /// Label names, in the order [`Apply::apply`] takes their values.
    pub labels: &'static [&'static str],
    /// The family.
    pub family: &'a dyn Apply,
}

impl std::fmt::Debug for Target<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

impl Apply for Counter {
    fn apply(&self, _: &[&str], update: Update) -> Result<(), Mismatch> {
        match update {
            Update::Add(v) => {
                self.inc_by(v);
                Ok(())
            }
            _ => Err(Mismatch::Type),
        }
    }
}

impl Apply for Gauge {
    fn apply(&self, _: &[&str], update: Update) -> Result<(), Mismatch> {
        match update {
            Update::Add(v) => self.add(v),
            Update::Set(v) => self.set(v),
            Update::Observe(..) => return Err(Mismatch::Type),
        }
        Ok(())
    }
}

impl Apply for Histogram {
    fn apply(&self, _: &[&str], update: Update) -> Result<(), Mismatch> {
        match update {
            Update::Observe(v, times) => {
                for _ in 0..times {
                    self.observe(v);
                }
                Ok(())
            }
            _ => Err(Mismatch::Type),
        }
    }
}

impl<L: LabelSet, M: Apply> Apply for Family<L, M> {
    fn apply(&self, values: &[&str], update: Update) -> Result<(), Mismatch> {
        let labels = L::from_values(values).ok_or(Mismatch::LabelValue)?;
        self.get(labels).apply(&[], update)
    }
}

impl<M: Apply, const N: usize> Apply for BoundedFamily<M, N> {
    fn apply(&self, values: &[&str], update: Update) -> Result<(), Mismatch> {
        let labels: [&str; N] = values.try_into().map_err(|_| Mismatch::LabelValue)?;
        let series = self.try_with(labels).map_err(|_| Mismatch::LabelValue)?;
        series.apply(&[], update)
    }
}
