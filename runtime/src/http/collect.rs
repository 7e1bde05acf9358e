//! `POST /collect[?service=S[&group=G]]`: collects the chosen scheduled
//! groups now and answers when they have published, with each one's
//! outcome. It needs the `admin` scope, starts at most one collection a
//! second, and never reads a source twice at once: a group whose source
//! is being read is answered as busy.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::RETRY_AFTER;
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;

use super::State;
use super::routes::{self, text};
use crate::selfmetrics::unix_seconds;

/// The shortest time between two collections on demand.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

type Reply = Response<Full<Bytes>>;

/// The answer: what was collected, and what was already being read.
#[derive(Debug, Serialize)]
struct Collected {
    collected: Vec<Outcome>,
    busy: Vec<Named>,
}

#[derive(Debug, Serialize)]
struct Outcome {
    service: &'static str,
    group: &'static str,
    up: bool,
    last_success: Option<f64>,
    last_error: Option<String>,
    duration_seconds: f64,
}

#[derive(Debug, Serialize)]
struct Named {
    service: &'static str,
    group: &'static str,
}

/// Answers `POST /collect`.
pub(crate) async fn collect<B>(req: &Request<B>, state: &State) -> Reply {
    if req.method() != Method::POST {
        return routes::method_not_allowed("POST");
    }
    let plan = state.exposition.plan;
    let chosen = match choose(plan, req.uri().query().unwrap_or("")) {
        Ok(chosen) => chosen,
        Err((status, why)) => return text(status, why),
    };
    {
        let mut last = state.last_collect.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < MIN_INTERVAL) {
            let mut r = text(
                StatusCode::TOO_MANY_REQUESTS,
                "one collection on demand a second; try again\n",
            );
            r.headers_mut().insert(RETRY_AFTER, 1.into());
            return r;
        }
        *last = Some(now);
    }
    let (handles, busy) = state.on_demand.collect_now(&chosen);
    for handle in handles {
        let _ = handle.await;
    }
    let snapshots = state.exposition.store.all();
    let collected = chosen
        .iter()
        .filter(|g| !busy.contains(g))
        .map(|&g| {
            let s = &snapshots[g].status;
            Outcome {
                service: plan.groups[g].service,
                group: plan.groups[g].group,
                up: s.up,
                last_success: s.last_success.map(unix_seconds),
                last_error: s.last_error.as_ref().map(|(_, e)| e.clone()),
                duration_seconds: s.last_duration.as_secs_f64(),
            }
        })
        .collect::<Vec<_>>();
    let busy: Vec<Named> = busy
        .iter()
        .map(|&g| Named {
            service: plan.groups[g].service,
            group: plan.groups[g].group,
        })
        .collect();
    let status = if collected.is_empty() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let mut reply = routes::json(&Collected { collected, busy });
    *reply.status_mut() = status;
    reply
}

/// The scheduled groups `query` names (`service`, and `group` within
/// it), all of them without a query.
fn choose(plan: &crate::plan::Plan, query: &str) -> Result<Vec<usize>, (StatusCode, String)> {
    let bad = |why: String| (StatusCode::BAD_REQUEST, why);
    let (mut service, mut group) = (None, None);
    for pair in super::service::pairs(query) {
        let (name, raw) = pair.map_err(bad)?;
        let value = super::service::decode(raw).map_err(|e| bad(format!("`{name}`: {e}\n")))?;
        match name.as_str() {
            "service" if service.is_none() => service = Some(value),
            "group" if group.is_none() => group = Some(value),
            _ => {
                return Err(bad(
                    "the query takes `service` and `group`, once each\n".to_owned()
                ));
            }
        }
    }
    if group.is_some() && service.is_none() {
        return Err((
            StatusCode::BAD_REQUEST,
            "`group` needs its `service`\n".to_owned(),
        ));
    }
    let chosen: Vec<usize> = (0..plan.groups.len())
        .filter(|&g| {
            let p = &plan.groups[g];
            service.as_deref().is_none_or(|s| s == p.service)
                && group.as_deref().is_none_or(|n| n == p.group)
        })
        .collect();
    if chosen.is_empty() {
        let per_request = service
            .as_deref()
            .is_some_and(|s| plan.probes.iter().any(|p| p.service == s));
        let why = if per_request {
            "that service is collected per request, at /metrics/<service>\n"
        } else {
            "no such scheduled service or group\n"
        };
        return Err((StatusCode::NOT_FOUND, why.to_owned()));
    }
    Ok(chosen)
}
