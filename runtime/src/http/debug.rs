//! `/metrics/<service>?debug`: each group of a scheduled service read
//! once more, now, with a fresh collector: its source's kind, how long
//! the read took, the exit code, the error (a failed command's stderr
//! included), the reading itself (its first 64 KiB), and the exposition
//! it yields. It needs the `admin` scope: a reading can hold data the
//! metrics leave out.

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use serde::Serialize;

use super::State;
use super::routes;
use crate::plan::SourceKind;
use crate::scheduler::Debugged;

/// How much of a reading is shown.
const READING_SHOWN: usize = 64 * 1024;

#[derive(Debug, Serialize)]
struct Group {
    group: &'static str,
    source: String,
    /// `read`, `busy` (a read was running) or `collector` (a collector
    /// that reads for itself; nothing to show).
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reading: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reading_bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<String>,
}

/// The `?debug` document of `service`.
pub(crate) async fn debug(service: &str, state: &State) -> Response<Full<Bytes>> {
    let plan = state.exposition.plan;
    let mut groups = Vec::new();
    for (g, group) in plan.groups.iter().enumerate() {
        if group.service != service {
            continue;
        }
        let source = describe(&plan.sources[group.source].kind);
        let entry = match state.on_demand.debug(g).await {
            Debugged::Read { reading, snapshot } => {
                let s = &snapshot.status;
                let (reading, bytes) = match &reading {
                    Ok(content) => {
                        let shown = &content[..content.len().min(READING_SHOWN)];
                        (
                            Some(String::from_utf8_lossy(shown).into_owned()),
                            Some(content.len()),
                        )
                    }
                    Err(_) => (None, None),
                };
                Group {
                    group: group.group,
                    source,
                    outcome: "read",
                    duration_seconds: Some(s.last_duration.as_secs_f64()),
                    exit_code: s.exit_code,
                    error: s.last_error.as_ref().map(|(_, e)| e.clone()),
                    reading,
                    reading_bytes: bytes,
                    metrics: Some(String::from_utf8_lossy(&snapshot.body).into_owned()),
                }
            }
            other => Group {
                group: group.group,
                source,
                outcome: if matches!(other, Debugged::Busy) {
                    "busy"
                } else {
                    "collector"
                },
                duration_seconds: None,
                exit_code: None,
                error: None,
                reading: None,
                reading_bytes: None,
                metrics: None,
            },
        };
        groups.push(entry);
    }
    routes::json(&serde_json::json!({ "service": service, "groups": groups }))
}

/// The source as an operator would name it.
fn describe(kind: &SourceKind) -> String {
    match kind {
        SourceKind::Command { argv, .. } => format!("command: {}", argv.join(" ")),
        SourceKind::File { path } => format!("file: {path}"),
        SourceKind::Files { pattern, .. } => format!("files: {pattern}"),
        SourceKind::Static { .. } => "static".to_owned(),
        SourceKind::Http(http) => format!("http: {}", http.url),
        SourceKind::Collector { name } => format!("collector: {name}"),
    }
}
