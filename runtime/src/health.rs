//! `/health` and `/ready`: each group's and output's state as JSON, and
//! readiness once every group has been collected at least once.

pub(crate) mod status;

use std::sync::Arc;

use serde::Serialize;

use crate::plan::Plan;
use crate::selfmetrics::unix_seconds;
use crate::store::{OutputStatus, Snapshot};

/// The `/health` document.
#[derive(Debug, Serialize)]
pub(crate) struct Health<'a> {
    /// `ok` when every group's last collection succeeded, else `degraded`.
    pub status: &'static str,
    /// The spec the binary was built from.
    pub spec: &'static str,
    /// Whether every output's last send succeeded (true without outputs).
    pub exporter_healthy: bool,
    /// Services in spec order.
    pub services: Vec<ServiceHealth<'a>>,
    /// Every output pme sends to.
    pub outputs: Vec<OutputHealth>,
}

/// One output's state.
#[derive(Debug, Serialize)]
pub(crate) struct OutputHealth {
    /// `textfile`, `pushgateway`, `remote_write` or `otlp`.
    pub name: &'static str,
    /// False while its last attempt failed.
    pub healthy: bool,
    /// Attempts and failed attempts.
    pub sends: u64,
    pub failures: u64,
    /// Unix time of the last success.
    pub last_success: Option<f64>,
    /// The last failure, while failing.
    pub last_error: Option<String>,
}

/// `up`, `down`, or `pending` before the first collection: a group's
/// state as `/status` and the status page say it.
pub(crate) fn state(status: &crate::store::GroupStatus) -> &'static str {
    match (status.collections, status.up) {
        (0, _) => "pending",
        (_, true) => "up",
        (_, false) => "down",
    }
}

/// The outputs' states.
pub(crate) fn outputs(statuses: &[Arc<OutputStatus>]) -> Vec<OutputHealth> {
    statuses
        .iter()
        .map(|o| {
            let last_error = o.last_error();
            OutputHealth {
                name: o.name,
                healthy: last_error.is_none(),
                sends: o.sends(),
                failures: o.failures(),
                last_success: o.last_success().map(unix_seconds),
                last_error,
            }
        })
        .collect()
}

/// One service's groups.
#[derive(Debug, Serialize)]
pub(crate) struct ServiceHealth<'a> {
    /// Service id.
    pub id: &'a str,
    /// Its groups.
    pub groups: Vec<GroupHealth<'a>>,
}

/// One group's state.
#[derive(Debug, Serialize)]
pub(crate) struct GroupHealth<'a> {
    /// Group id.
    pub id: &'a str,
    /// Whether the last collection succeeded.
    pub up: bool,
    /// Collections attempted.
    pub collections: u64,
    /// Collections failed.
    pub errors: u64,
    /// Effective period in seconds.
    pub period_seconds: f64,
    /// Unix time of the last success.
    pub last_success: Option<f64>,
    /// The last error message.
    pub last_error: Option<&'a str>,
    /// Unix time of the last error.
    pub last_error_time: Option<f64>,
    /// For command sources: the last exit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

/// Builds the health document from the current snapshots and outputs.
pub(crate) fn health<'a>(
    plan: &'a Plan,
    snapshots: &'a [Arc<Snapshot>],
    statuses: &[Arc<OutputStatus>],
) -> Health<'a> {
    let mut services: Vec<ServiceHealth<'a>> = Vec::new();
    for (g, snapshot) in snapshots.iter().enumerate() {
        let group = &plan.groups[g];
        let status = &snapshot.status;
        let entry = GroupHealth {
            id: group.group,
            up: status.up,
            collections: status.collections,
            errors: status.errors,
            period_seconds: group.period(plan).as_secs_f64(),
            last_success: status.last_success.map(unix_seconds),
            last_error: status.last_error.as_ref().map(|(_, e)| e.as_str()),
            last_error_time: status.last_error.as_ref().map(|(t, _)| unix_seconds(*t)),
            exit_code: status.exit_code,
        };
        match services.last_mut() {
            Some(s) if s.id == group.service => s.groups.push(entry),
            _ => services.push(ServiceHealth {
                id: group.service,
                groups: vec![entry],
            }),
        }
    }
    let all_up = snapshots.iter().all(|s| s.status.up);
    let outputs = outputs(statuses);
    Health {
        status: if all_up { "ok" } else { "degraded" },
        spec: plan.spec,
        exporter_healthy: outputs.iter().all(|o| o.healthy),
        services,
        outputs,
    }
}

/// True once every group has finished at least one collection.
pub(crate) fn ready(snapshots: &[Arc<Snapshot>]) -> bool {
    snapshots.iter().all(|s| s.status.collections > 0)
}
