//! pme's metrics about itself, per group: whether the source is up, how
//! long collections take, how many failed, when one last succeeded.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::encode;
use crate::plan::Plan;
use crate::store::Snapshot;

/// One self-metric family: its header and how to read its value.
struct Family {
    header: &'static str,
    name: &'static str,
    value: fn(&Plan, usize, &Snapshot) -> f64,
}

const FAMILIES: &[Family] = &[
    Family {
        header: "# HELP pme_source_up Whether the group's last collection succeeded: source read and every metric extracted.\n# TYPE pme_source_up gauge\n",
        name: "pme_source_up",
        value: |_, _, s| if s.status.up { 1.0 } else { 0.0 },
    },
    Family {
        header: "# HELP pme_collection_duration_seconds How long the group's last collection took (read and extraction).\n# TYPE pme_collection_duration_seconds gauge\n",
        name: "pme_collection_duration_seconds",
        value: |_, _, s| s.status.last_duration.as_secs_f64(),
    },
    Family {
        header: "# HELP pme_collections_total Collections of the group attempted since pme started.\n# TYPE pme_collections_total counter\n",
        name: "pme_collections_total",
        value: |_, _, s| s.status.collections as f64,
    },
    Family {
        header: "# HELP pme_collection_errors_total Collections of the group that failed: read, extraction, or skipped.\n# TYPE pme_collection_errors_total counter\n",
        name: "pme_collection_errors_total",
        value: |_, _, s| s.status.errors as f64,
    },
    Family {
        header: "# HELP pme_last_success_timestamp_seconds Unix time of the group's last successful collection, 0 if none yet.\n# TYPE pme_last_success_timestamp_seconds gauge\n",
        name: "pme_last_success_timestamp_seconds",
        value: |_, _, s| s.status.last_success.map_or(0.0, unix_seconds),
    },
    Family {
        header: "# HELP pme_collection_interval_seconds The group's effective collection period, a multiple of the global tick.\n# TYPE pme_collection_interval_seconds gauge\n",
        name: "pme_collection_interval_seconds",
        value: |plan, g, _| plan.groups[g].period(plan).as_secs_f64(),
    },
];

const EXIT_CODE_HEADER: &str = "# HELP pme_command_exit_code Exit code of the group's last command run (absent until it exits on its own).\n# TYPE pme_command_exit_code gauge\n";

/// Appends every self-metric family for the given snapshots.
pub fn encode(out: &mut Vec<u8>, plan: &Plan, snapshots: &[std::sync::Arc<Snapshot>]) {
    for family in FAMILIES {
        out.extend_from_slice(family.header.as_bytes());
        for (g, snapshot) in snapshots.iter().enumerate() {
            series(out, family.name, plan, g, (family.value)(plan, g, snapshot));
        }
    }
    let codes: Vec<(usize, i32)> = snapshots
        .iter()
        .enumerate()
        .filter_map(|(g, s)| Some((g, s.status.exit_code?)))
        .collect();
    if !codes.is_empty() {
        out.extend_from_slice(EXIT_CODE_HEADER.as_bytes());
        for (g, code) in codes {
            series(out, "pme_command_exit_code", plan, g, f64::from(code));
        }
    }
}

fn series(out: &mut Vec<u8>, name: &str, plan: &Plan, g: usize, value: f64) {
    let group = &plan.groups[g];
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
