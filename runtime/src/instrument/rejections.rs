//! What the instruments refused, counted per family for the self-metrics
//! `pme_cardinality_rejected_total{metric,reason}` (label sets past a
//! limit) and `pme_instrument_invalid_updates_total{metric}` (values that
//! would break a type's promise), and logged at most once a minute per
//! family. Refusals are the rare path; one process-wide table under a
//! mutex is enough.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::metric::Counter;
use crate::metric::{MetricGroup, Series};
use pme_content::exposition::Format;

/// Why a label set was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The family holds `max_series` series already.
    MaxSeries,
    /// The registry's shared budget is spent.
    RegistryMaxSeries,
    /// A value is longer than `MAX_LABEL_VALUE_BYTES`.
    ValueTooLong,
}

impl Reason {
    const ALL: [Reason; 3] = [
        Reason::MaxSeries,
        Reason::RegistryMaxSeries,
        Reason::ValueTooLong,
    ];

    /// The `reason` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::MaxSeries => "max_series",
            Reason::RegistryMaxSeries => "registry_max_series",
            Reason::ValueTooLong => "value_too_long",
        }
    }
}

/// How often a family's refusals are logged at most.
const LOG_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct Counts {
    refused: [u64; 3],
    invalid: u64,
    /// Whether the family has limits (its rejection series are exposed
    /// at 0 from the start).
    bounded: bool,
    logged: Option<Instant>,
    unlogged: u64,
}

static TABLE: Mutex<BTreeMap<&'static str, Counts>> = Mutex::new(BTreeMap::new());

fn with_counts<T>(name: &'static str, f: impl FnOnce(&mut Counts) -> T) -> T {
    let mut table = TABLE.lock().unwrap_or_else(|p| p.into_inner());
    f(table.entry(name).or_default())
}

/// Declares a family with limits, so its rejection counters exist at 0.
pub(crate) fn register(name: &'static str) {
    with_counts(name, |c| c.bounded = true);
}

/// Counts a refused label set of `name` and logs it, rate-limited.
pub(crate) fn refused(name: &'static str, reason: Reason) {
    with_counts(name, |c| {
        c.refused[reason as usize] += 1;
        log(name, c, || {
            format!("label set refused ({})", reason.as_str())
        });
    });
}

/// Counts an update refused for its value.
pub(crate) fn invalid_update(name: Option<&'static str>) {
    match name {
        Some(name) => with_counts(name, |c| {
            c.invalid += 1;
            log(name, c, || {
                "update refused: a negative or NaN counter increment, or a NaN observation"
                    .to_owned()
            });
        }),
        None => tracing::warn!(
            "update of an unnamed instrument refused: a negative or NaN counter increment, or a NaN observation"
        ),
    }
}

fn log(name: &str, c: &mut Counts, what: impl FnOnce() -> String) {
    c.unlogged += 1;
    let now = Instant::now();
    if c.logged
        .is_none_or(|at| now.duration_since(at) >= LOG_EVERY)
    {
        tracing::warn!(
            metric = name,
            refused = c.unlogged,
            "{}; further refusals of this family are logged at most once a minute",
            what()
        );
        c.logged = Some(now);
        c.unlogged = 0;
    }
}

#[derive(Debug, Default, crate::MetricGroup)]
struct RejectionMetrics {
    #[metric(
        name = "pme_cardinality_rejected_total",
        help = "Label sets an instrument family refused: past its max_series, past the registry's budget, or with a value too long.",
        labels("metric", "reason")
    )]
    rejected: Counter<2>,
    #[metric(
        name = "pme_instrument_invalid_updates_total",
        help = "Updates an instrument refused for their value: a negative or NaN counter increment, or a NaN observation.",
        labels("metric")
    )]
    invalid: Counter<1>,
}

/// Appends both families; a family with no series is left out.
pub(crate) fn encode(out: &mut Vec<u8>, format: Format) {
    let table = TABLE.lock().unwrap_or_else(|p| p.into_inner());
    if table.is_empty() {
        return;
    }
    let mut metrics = RejectionMetrics::default();
    metrics.rejected.replace(
        table
            .iter()
            .filter(|(_, c)| c.bounded || c.refused.iter().any(|&n| n > 0))
            .flat_map(|(name, c)| {
                Reason::ALL.map(|r| Series {
                    labels: [(*name).into(), r.as_str().into()],
                    value: c.refused[r as usize] as f64,
                })
            })
            .collect(),
    );
    metrics.invalid.replace(
        table
            .iter()
            .filter(|(_, c)| c.invalid > 0)
            .map(|(name, c)| Series {
                labels: [(*name).into()],
                value: c.invalid as f64,
            })
            .collect(),
    );
    drop(table);
    metrics.encode(out, format);
}

/// Label sets of `name` refused for `reason` so far.
#[cfg(test)]
pub(crate) fn refused_count(name: &'static str, reason: Reason) -> u64 {
    with_counts(name, |c| c.refused[reason as usize])
}

/// Updates of `name` refused for their value so far.
#[cfg(test)]
pub(crate) fn invalid_count(name: &'static str) -> u64 {
    with_counts(name, |c| c.invalid)
}
