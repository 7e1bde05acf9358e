//! pme's metrics about itself, per group: whether the source is up, how
//! long collections take, how many failed, when one last succeeded.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use crate::encode::{self, Format};
use crate::plan::{GroupPlan, Plan};
use crate::store::OutputStatus;
use crate::store::Snapshot;

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

/// One self-metric family: its name, help, type, and how to read its value
/// (`None`: no series for this entry).
struct Family {
    name: &'static str,
    help: &'static str,
    counter: bool,
    value: fn(&Entry<'_>) -> Option<f64>,
}

const FAMILIES: &[Family] = &[
    Family {
        name: "pme_source_up",
        help: "Whether the group's last collection succeeded: source read and every metric extracted.",
        counter: false,
        value: |e| Some(if e.snapshot.status.up { 1.0 } else { 0.0 }),
    },
    Family {
        name: "pme_collection_duration_seconds",
        help: "How long the group's last collection took (read and extraction).",
        counter: false,
        value: |e| Some(e.snapshot.status.last_duration.as_secs_f64()),
    },
    Family {
        name: "pme_collections_total",
        help: "Collections of the group attempted since pme started.",
        counter: true,
        value: |e| e.scheduled_only(e.snapshot.status.collections as f64),
    },
    Family {
        name: "pme_collection_errors_total",
        help: "Collections of the group that failed: read, extraction, or skipped.",
        counter: true,
        value: |e| e.scheduled_only(e.snapshot.status.errors as f64),
    },
    Family {
        name: "pme_last_success_timestamp_seconds",
        help: "Unix time of the group's last successful collection, 0 if none yet.",
        counter: false,
        value: |e| e.scheduled_only(e.snapshot.status.last_success.map_or(0.0, unix_seconds)),
    },
    Family {
        name: "pme_collection_interval_seconds",
        help: "The group's effective collection period, a multiple of the global tick.",
        counter: false,
        value: |e| e.period.map(|p| p.as_secs_f64()),
    },
    Family {
        name: "pme_command_exit_code",
        help: "Exit code of the group's last command run (absent until it exits on its own).",
        counter: false,
        value: |e| e.snapshot.status.exit_code.map(f64::from),
    },
];

/// Appends every self-metric family for `entries` in `format`; a family
/// with no series is left out, header included.
pub(crate) fn encode(out: &mut Vec<u8>, entries: &[Entry<'_>], format: Format) {
    for family in FAMILIES {
        let mut header_written = false;
        for entry in entries {
            if let Some(value) = (family.value)(entry) {
                if !header_written {
                    header(out, family.name, family.help, family.counter, format);
                    header_written = true;
                }
                series(out, family.name, entry.group, value);
            }
        }
    }
}

/// One output's self-metric family: like [`Family`], read from an output.
struct OutputFamily {
    name: &'static str,
    help: &'static str,
    counter: bool,
    value: fn(&OutputStatus) -> Option<f64>,
}

const OUTPUT_FAMILIES: &[OutputFamily] = &[
    OutputFamily {
        name: "pme_output_sends_total",
        help: "Attempts to write or send the metrics to the output.",
        counter: true,
        value: |o| Some(o.sends() as f64),
    },
    OutputFamily {
        name: "pme_output_failures_total",
        help: "Attempts that failed (after their retries).",
        counter: true,
        value: |o| Some(o.failures() as f64),
    },
    OutputFamily {
        name: "pme_output_last_success_timestamp_seconds",
        help: "Unix time of the output's last successful write or send, 0 if none yet.",
        counter: false,
        value: |o| Some(o.last_success().map_or(0.0, unix_seconds)),
    },
];

/// Appends the self-metrics of `outputs` (label `output`).
pub(crate) fn encode_outputs(out: &mut Vec<u8>, outputs: &[Arc<OutputStatus>], format: Format) {
    if outputs.is_empty() {
        return;
    }
    for f in OUTPUT_FAMILIES {
        header(out, f.name, f.help, f.counter, format);
        for output in outputs {
            if let Some(value) = (f.value)(output) {
                out.extend_from_slice(f.name.as_bytes());
                out.extend_from_slice(b"{output=\"");
                encode::label_value(out, output.name);
                out.extend_from_slice(b"\"} ");
                encode::value(out, value);
                out.push(b'\n');
            }
        }
    }
}

/// `# HELP` and `# TYPE` (in OpenMetrics: `# TYPE` first, and a counter's
/// family name without `_total`). The help texts need no escaping.
fn header(out: &mut Vec<u8>, name: &str, help: &str, counter: bool, format: Format) {
    let kind = if counter { "counter" } else { "gauge" };
    let lines = match format {
        Format::Prometheus => format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"),
        Format::OpenMetrics => {
            let name = if counter {
                name.trim_end_matches("_total")
            } else {
                name
            };
            format!("# TYPE {name} {kind}\n# HELP {name} {help}\n")
        }
    };
    out.extend_from_slice(lines.as_bytes());
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
pub(crate) fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
