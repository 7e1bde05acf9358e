//! pme's metrics about itself, per group: whether the source is up, how
//! long collections take, how many failed, when one last succeeded.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use crate::encode::Format;
use crate::metric::{MetricGroup, Series};
use crate::plan::{GroupPlan, Plan};
use crate::store::OutputStatus;
use crate::store::Snapshot;
use crate::{Counter, Gauge};

/// One group as the self-metrics see it.
#[derive(Debug)]
pub(crate) struct Entry<'a> {
    /// The group.
    pub group: &'a GroupPlan,
    /// Its effective period; `None` for a group collected per request,
    /// which has no period and whose counters would restart every time.
    pub period: Option<Duration>,
    /// Its latest state.
    pub snapshot: &'a Snapshot,
}

impl Entry<'_> {
    /// The entries of every scheduled group of `plan`.
    pub(crate) fn scheduled<'a>(
        plan: &'a Plan,
        snapshots: &'a [std::sync::Arc<Snapshot>],
    ) -> impl Iterator<Item = Entry<'a>> {
        plan.groups
            .iter()
            .zip(snapshots)
            .map(|(group, snapshot)| Entry {
                group,
                period: Some(group.period(plan)),
                snapshot,
            })
    }

    fn scheduled_only(&self, value: f64) -> Option<f64> {
        self.period.is_some().then_some(value)
    }
}

/// The per-group self-metrics: a derived [`MetricGroup`], so their headers
/// and series prefixes are byte constants like every other family's.
#[derive(Debug, Default, crate::MetricGroup)]
struct GroupMetrics {
    #[metric(
        name = "pme_source_up",
        help = "Whether the group's last collection succeeded: source read and every metric extracted.",
        labels("service", "group")
    )]
    up: Gauge<2>,
    #[metric(
        name = "pme_collection_duration_seconds",
        help = "How long the group's last collection took (read and extraction).",
        labels("service", "group")
    )]
    duration: Gauge<2>,
    #[metric(
        name = "pme_collections_total",
        help = "Collections of the group attempted since pme started.",
        labels("service", "group")
    )]
    collections: Counter<2>,
    #[metric(
        name = "pme_collection_errors_total",
        help = "Collections of the group that failed: read, extraction, or skipped.",
        labels("service", "group")
    )]
    errors: Counter<2>,
    #[metric(
        name = "pme_last_success_timestamp_seconds",
        help = "Unix time of the group's last successful collection, 0 if none yet.",
        labels("service", "group")
    )]
    last_success: Gauge<2>,
    #[metric(
        name = "pme_collection_interval_seconds",
        help = "The group's effective collection period, a multiple of the global tick.",
        labels("service", "group")
    )]
    interval: Gauge<2>,
    #[metric(
        name = "pme_command_exit_code",
        help = "Exit code of the group's last command run (absent until it exits on its own).",
        labels("service", "group")
    )]
    exit_code: Gauge<2>,
    #[metric(
        name = "pme_file_matches",
        help = "Files the group's path pattern matched and read at its last collection.",
        labels("service", "group")
    )]
    file_matches: Gauge<2>,
    #[metric(
        name = "pme_file_matches_dropped_total",
        help = "Files the group's path pattern matched past its max_files, not read, summed over collections.",
        labels("service", "group")
    )]
    file_matches_dropped: Counter<2>,
    #[metric(
        name = "pme_series_dropped_total",
        help = "Series a reading yielded past the spec's max_series, left out (the first max_series are kept), summed over collections.",
        labels("service", "group")
    )]
    series_dropped: Counter<2>,
    #[metric(
        name = "pme_group_max_series",
        help = "The most series the group's families can serve, from the spec's closed labels and max_series (absent when the source decides).",
        labels("service", "group")
    )]
    max_series: Gauge<2>,
}

/// Appends every self-metric family for `entries` in `format`; a family
/// with no series is left out, header included.
pub(crate) fn encode(out: &mut Vec<u8>, entries: &[Entry<'_>], format: Format) {
    let series = |value: &dyn Fn(&Entry<'_>) -> Option<f64>| -> Vec<Series<2>> {
        entries
            .iter()
            .filter_map(|e| {
                Some(Series {
                    labels: [e.group.service.into(), e.group.group.into()],
                    value: value(e)?,
                })
            })
            .collect()
    };
    let mut metrics = GroupMetrics::default();
    metrics.up.replace(series(&|e| {
        Some(if e.snapshot.status.up { 1.0 } else { 0.0 })
    }));
    metrics.duration.replace(series(&|e| {
        Some(e.snapshot.status.last_duration.as_secs_f64())
    }));
    metrics.collections.replace(series(&|e| {
        e.scheduled_only(e.snapshot.status.collections as f64)
    }));
    metrics.errors.replace(series(&|e| {
        e.scheduled_only(e.snapshot.status.errors as f64)
    }));
    metrics.last_success.replace(series(&|e| {
        e.scheduled_only(e.snapshot.status.last_success.map_or(0.0, unix_seconds))
    }));
    metrics
        .interval
        .replace(series(&|e| e.period.map(|p| p.as_secs_f64())));
    metrics
        .exit_code
        .replace(series(&|e| e.snapshot.status.exit_code.map(f64::from)));
    metrics
        .file_matches
        .replace(series(&|e| e.snapshot.status.files.map(|f| f.read as f64)));
    metrics.file_matches_dropped.replace(series(&|e| {
        let files = e.snapshot.status.files?;
        e.scheduled_only(files.dropped as f64)
    }));
    metrics.series_dropped.replace(series(&|e| {
        e.scheduled_only(e.snapshot.status.series_dropped as f64)
    }));
    metrics
        .max_series
        .replace(series(&|e| e.group.max_series.map(|n| n as f64)));
    metrics.encode(out, format);
}

/// The per-output self-metrics (label `output`).
#[derive(Debug, Default, crate::MetricGroup)]
struct OutputMetrics {
    #[metric(
        name = "pme_output_sends_total",
        help = "Attempts to write or send the metrics to the output.",
        labels("output")
    )]
    sends: Counter<1>,
    #[metric(
        name = "pme_output_failures_total",
        help = "Attempts that failed (after their retries).",
        labels("output")
    )]
    failures: Counter<1>,
    #[metric(
        name = "pme_output_dropped_samples_total",
        help = "Samples given up on: no room in the output's queue, or refused for good by the receiver.",
        labels("output")
    )]
    dropped: Counter<1>,
    #[metric(
        name = "pme_output_last_success_timestamp_seconds",
        help = "Unix time of the output's last successful write or send, 0 if none yet.",
        labels("output")
    )]
    last_success: Gauge<1>,
}

/// Appends the self-metrics of `outputs`.
pub(crate) fn encode_outputs(out: &mut Vec<u8>, outputs: &[Arc<OutputStatus>], format: Format) {
    let series = |value: fn(&OutputStatus) -> f64| -> Vec<Series<1>> {
        outputs
            .iter()
            .map(|o| Series {
                labels: [o.name.into()],
                value: value(o),
            })
            .collect()
    };
    let mut metrics = OutputMetrics::default();
    metrics.sends.replace(series(|o| o.sends() as f64));
    metrics.failures.replace(series(|o| o.failures() as f64));
    metrics.dropped.replace(series(|o| o.dropped() as f64));
    metrics
        .last_success
        .replace(series(|o| o.last_success().map_or(0.0, unix_seconds)));
    metrics.encode(out, format);
}

/// Seconds since the Unix epoch, with fractions.
pub(crate) fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
