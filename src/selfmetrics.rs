//! pme's metrics about itself, per group: whether the source is up, how
//! long collections take, how many failed, when one last succeeded.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::encode;
use crate::plan::{GroupPlan, Plan};
use crate::store::Snapshot;

/// One group as the self-metrics see it.
#[derive(Debug)]
pub struct Entry<'a> {
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
    pub fn scheduled<'a>(
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

/// One self-metric family: its header and how to read its value (`None`:
/// no series for this entry).
struct Family {
    header: &'static str,
    name: &'static str,
    value: fn(&Entry<'_>) -> Option<f64>,
}

const FAMILIES: &[Family] = &[
    Family {
        header: "# HELP pme_source_up Whether the group's last collection succeeded: source read and every metric extracted.\n# TYPE pme_source_up gauge\n",
        name: "pme_source_up",
        value: |e| Some(if e.snapshot.status.up { 1.0 } else { 0.0 }),
    },
    Family {
        header: "# HELP pme_collection_duration_seconds How long the group's last collection took (read and extraction).\n# TYPE pme_collection_duration_seconds gauge\n",
        name: "pme_collection_duration_seconds",
        value: |e| Some(e.snapshot.status.last_duration.as_secs_f64()),
    },
    Family {
        header: "# HELP pme_collections_total Collections of the group attempted since pme started.\n# TYPE pme_collections_total counter\n",
        name: "pme_collections_total",
        value: |e| e.scheduled_only(e.snapshot.status.collections as f64),
    },
    Family {
        header: "# HELP pme_collection_errors_total Collections of the group that failed: read, extraction, or skipped.\n# TYPE pme_collection_errors_total counter\n",
        name: "pme_collection_errors_total",
        value: |e| e.scheduled_only(e.snapshot.status.errors as f64),
    },
    Family {
        header: "# HELP pme_last_success_timestamp_seconds Unix time of the group's last successful collection, 0 if none yet.\n# TYPE pme_last_success_timestamp_seconds gauge\n",
        name: "pme_last_success_timestamp_seconds",
        value: |e| e.scheduled_only(e.snapshot.status.last_success.map_or(0.0, unix_seconds)),
    },
    Family {
        header: "# HELP pme_collection_interval_seconds The group's effective collection period, a multiple of the global tick.\n# TYPE pme_collection_interval_seconds gauge\n",
        name: "pme_collection_interval_seconds",
        value: |e| e.period.map(|p| p.as_secs_f64()),
    },
];

const EXIT_CODE_HEADER: &str = "# HELP pme_command_exit_code Exit code of the group's last command run (absent until it exits on its own).\n# TYPE pme_command_exit_code gauge\n";

/// Appends every self-metric family for `entries`; a family with no
/// series is left out, header included.
pub fn encode(out: &mut Vec<u8>, entries: &[Entry<'_>]) {
    for family in FAMILIES {
        let mut header = Some(family.header);
        for entry in entries {
            if let Some(value) = (family.value)(entry) {
                if let Some(h) = header.take() {
                    out.extend_from_slice(h.as_bytes());
                }
                series(out, family.name, entry.group, value);
            }
        }
    }
    let mut header = Some(EXIT_CODE_HEADER);
    for entry in entries {
        if let Some(code) = entry.snapshot.status.exit_code {
            if let Some(h) = header.take() {
                out.extend_from_slice(h.as_bytes());
            }
            series(out, "pme_command_exit_code", entry.group, f64::from(code));
        }
    }
}

fn series(out: &mut Vec<u8>, name: &str, group: &GroupPlan, value: f64) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"{service=\"");
    encode::label_value(out, group.service);
    out.extend_from_slice(b"\",group=\"");
    encode::label_value(out, group.group);
    out.extend_from_slice(b"\"} ");
    encode::value(out, value);
    out.push(b'\n');
}

/// Seconds since the Unix epoch, with fractions.
pub fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
