//! `/status` and `/collectors`: what pme is and does, as JSON for
//! operators and their tools.
//!
//! `/status`: version, spec, uptime, the environment detected, and every
//! group (state, period, last success and error, when it is next due) and
//! output. `/collectors`: every group with its source kind and the
//! families it serves, with their types as last exposed.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::{OutputHealth, outputs};
use crate::collect::Context;
use crate::plan::{Collector, GroupPlan, Plan, SourceKind};
use crate::selfmetrics::unix_seconds;
use crate::store::{OutputStatus, Snapshot};

/// The `/status` document.
#[derive(Debug, Serialize)]
pub(crate) struct Status<'a> {
    /// pme's version.
    pub version: &'static str,
    /// The spec the binary was built from, and its SHA-256.
    pub spec: &'static str,
    pub spec_sha256: &'static str,
    /// Unix time pme started, and seconds since.
    pub started: f64,
    pub uptime_seconds: f64,
    /// The global tick, in seconds.
    pub tick_seconds: f64,
    /// Bare host, LXC container or Proxmox host, and the identity labels.
    pub environment: Environment<'a>,
    /// Scheduled groups, in spec order.
    pub groups: Vec<GroupStatus<'a>>,
    /// Services collected per request (`/metrics/<service>?…`).
    pub per_request: Vec<&'static str>,
    /// Every output pme sends to.
    pub outputs: Vec<OutputHealth>,
}

/// What pme detected it runs on.
#[derive(Debug, Serialize)]
pub(crate) struct Environment<'a> {
    /// `host`, `lxc` or `proxmox`.
    pub kind: &'static str,
    pub host_name: &'a str,
    pub container_id: &'a str,
    pub instance: &'a str,
}

/// One scheduled group.
#[derive(Debug, Serialize)]
pub(crate) struct GroupStatus<'a> {
    pub service: &'static str,
    pub group: &'static str,
    /// `up`, `down`, or `pending` before its first collection.
    pub state: &'static str,
    pub period_seconds: f64,
    /// Unix time of the next scheduled collection.
    pub next_due: f64,
    pub last_success: Option<f64>,
    pub last_error: Option<&'a str>,
    pub last_duration_seconds: f64,
    pub collections: u64,
    pub errors: u64,
}

/// Builds `/status`. `started` is when the scheduler's first tick ran:
/// a group is due every `period` from then.
pub(crate) fn status<'a>(
    plan: &'static Plan,
    snapshots: &'a [Arc<Snapshot>],
    statuses: &[Arc<OutputStatus>],
    context: &'a Context,
    started: SystemTime,
    now: SystemTime,
) -> Status<'a> {
    let uptime = now.duration_since(started).unwrap_or_default();
    let groups = plan
        .groups
        .iter()
        .zip(snapshots)
        .map(|(group, snapshot)| {
            let s = &snapshot.status;
            let period = group.period(plan);
            GroupStatus {
                service: group.service,
                group: group.group,
                state: super::state(s),
                period_seconds: period.as_secs_f64(),
                next_due: unix_seconds(started + next_multiple(uptime, period)),
                last_success: s.last_success.map(unix_seconds),
                last_error: s.last_error.as_ref().map(|(_, e)| e.as_str()),
                last_duration_seconds: s.last_duration.as_secs_f64(),
                collections: s.collections,
                errors: s.errors,
            }
        })
        .collect();
    let [host_name, container_id, instance] = context.identity.labels();
    Status {
        version: env!("CARGO_PKG_VERSION"),
        spec: plan.spec,
        spec_sha256: plan.spec_sha256,
        started: unix_seconds(started),
        uptime_seconds: uptime.as_secs_f64(),
        tick_seconds: plan.tick.as_secs_f64(),
        environment: Environment {
            kind: context.environment.name(),
            host_name,
            container_id,
            instance,
        },
        groups,
        per_request: plan.probes.iter().map(|p| p.service).collect(),
        outputs: outputs(statuses),
    }
}

/// The first multiple of `period` after `elapsed`.
fn next_multiple(elapsed: Duration, period: Duration) -> Duration {
    if period.is_zero() {
        return elapsed;
    }
    let n = elapsed.as_nanos() / period.as_nanos() + 1;
    period * u32::try_from(n).unwrap_or(u32::MAX)
}

/// One entry of `/collectors`.
#[derive(Debug, Serialize)]
pub(crate) struct CollectorInfo {
    pub service: &'static str,
    pub group: &'static str,
    /// `command`, `file`, `files`, `static`, `http` or `collector`.
    pub source: &'static str,
    /// Per request rather than on a schedule.
    pub per_request: bool,
    /// The built-in or crate collector's type, for `source: collector`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collector: Option<&'static str>,
    /// Each family and its type (`unknown` until first exposed).
    pub families: Vec<Family>,
}

/// A family a group serves.
#[derive(Debug, Serialize)]
pub(crate) struct Family {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// Builds `/collectors`: the scheduled groups (their families as last
/// published, with the types of the text format) and the per-request ones.
pub(crate) fn collectors(plan: &'static Plan, snapshots: &[Arc<Snapshot>]) -> Vec<CollectorInfo> {
    let scheduled = plan
        .groups
        .iter()
        .zip(snapshots)
        .map(|(g, s)| info(plan, g, Some(s), false));
    let per_request = plan
        .probes
        .iter()
        .flat_map(|p| p.groups)
        .map(|g| info(plan, g, None, true));
    scheduled.chain(per_request).collect()
}

fn info(
    plan: &Plan,
    group: &GroupPlan,
    snapshot: Option<&Arc<Snapshot>>,
    per_request: bool,
) -> CollectorInfo {
    let source = match plan.sources[group.source].kind {
        SourceKind::Command { .. } => "command",
        SourceKind::File { .. } => "file",
        SourceKind::Files { .. } => "files",
        SourceKind::Static { .. } => "static",
        SourceKind::Http(_) => "http",
        SourceKind::Collector { .. } => "collector",
    };
    let collector = match &group.collector {
        Collector::Instance(instance) => Some(instance.collector),
        Collector::Extract(_) => None,
    };
    // `# TYPE name kind` of the last published body; then declared
    // families not exposed yet.
    let mut families: Vec<Family> = snapshot
        .map(|s| String::from_utf8_lossy(&s.body).into_owned())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(name, kind)| Family {
            name: name.to_owned(),
            kind: kind.to_owned(),
        })
        .collect();
    if let Some(extractor) = group.new_extractor() {
        for name in extractor.families() {
            if !families.iter().any(|f| f.name == name) {
                families.push(Family {
                    name: name.to_owned(),
                    kind: "unknown".to_owned(),
                });
            }
        }
    }
    CollectorInfo {
        service: group.service,
        group: group.group,
        source,
        per_request,
        collector,
        families,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_next_due_at_the_next_multiple_of_its_period() {
        let p = Duration::from_secs(15);
        assert_eq!(next_multiple(Duration::ZERO, p), p);
        assert_eq!(next_multiple(Duration::from_secs(14), p), p);
        assert_eq!(next_multiple(Duration::from_secs(15), p), p * 2);
        assert_eq!(next_multiple(Duration::from_secs(31), p), p * 3);
    }
}
