//! Routes as plain functions of a request: testable without sockets.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Body;
use hyper::header::{
    ACCEPT, ACCEPT_ENCODING, ALLOW, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HeaderName,
    HeaderValue, VARY,
};
use hyper::{Method, Request, Response, StatusCode};

use super::State;
use super::auth::Scope;
use super::{Endpoint, negotiate};
use crate::collect::Route;
use crate::health;
use crate::plan::Plan;

type Reply = Response<Full<Bytes>>;

/// The scope a request needs (see [`Scope`]); unknown paths need
/// `status:read`, so an unauthenticated client learns nothing from a 404.
pub(crate) fn scope<B>(endpoint: Endpoint, req: &Request<B>) -> Scope {
    match (endpoint, req.uri().path()) {
        (Endpoint::Metrics, "/metrics") => Scope::MetricsRead,
        // A reading can hold what the metrics leave out.
        (Endpoint::Metrics, path)
            if path.starts_with("/metrics/") && req.uri().query() == Some("debug") =>
        {
            Scope::Admin
        }
        (Endpoint::Metrics, path) if path.starts_with("/metrics/") => Scope::MetricsRead,
        (Endpoint::Metrics, path) if path.starts_with("/-/") => Scope::Admin,
        (Endpoint::Health, "/collect") => Scope::Admin,
        _ => Scope::StatusRead,
    }
}

/// The route a request path counts under in `pme_http_requests_total`: a
/// fixed set (the routes, the plan's services, `other`), so requests for
/// made-up paths cannot grow the label set.
pub(crate) fn route(endpoint: Endpoint, path: &str, plan: &Plan) -> Route {
    const METRICS_ROUTES: &[&str] = &["/metrics", "/", "/-/reload"];
    const HEALTH_ROUTES: &[&str] = &["/health", "/ready", "/status", "/collectors", "/collect"];
    let fixed = match endpoint {
        Endpoint::Metrics => METRICS_ROUTES,
        Endpoint::Health => HEALTH_ROUTES,
    };
    if let Some(known) = fixed.iter().find(|r| **r == path) {
        return Route::Fixed(known);
    }
    if let Endpoint::Metrics = endpoint
        && let Some(asked) = path.strip_prefix("/metrics/")
    {
        let mut services = plan
            .groups
            .iter()
            .map(|g| g.service)
            .chain(plan.probes.iter().map(|p| p.service));
        if let Some(service) = services.find(|s| *s == asked) {
            return Route::Service(service);
        }
    }
    Route::Fixed("other")
}

/// The metrics listener: `/metrics`, `/` and `POST /-/reload`.
pub(crate) fn metrics<B>(req: &Request<B>, state: &State) -> Reply {
    match req.uri().path() {
        "/-/reload" => only_post(req, || match state.web.reload() {
            Ok(()) => text(StatusCode::OK, "reloaded\n"),
            Err(e) => {
                tracing::error!("reload failed, the previous web configuration stays: {e}");
                text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "reload failed; the previous configuration stays (see the log)\n",
                )
            }
        }),
        "/metrics" => only_get(req, || {
            let choice = negotiate::format(header(req, ACCEPT));
            let gzip = negotiate::gzip(header(req, ACCEPT_ENCODING));
            let (body, zipped) = state.exposition.body(choice.format, gzip);
            exposition_reply(choice.content_type, body, zipped)
        }),
        "/" => only_get(req, || {
            reply(
                StatusCode::OK,
                "text/html; charset=utf-8",
                super::page::page(state),
            )
        }),
        _ => not_found(),
    }
}

/// The health listener: `/health` and `/ready`.
pub(crate) fn health<B>(req: &Request<B>, state: &State) -> Reply {
    match req.uri().path() {
        "/health" => only_get(req, || {
            let store = &state.exposition.store;
            let snapshots = store.all();
            json(&health::health(
                state.exposition.plan,
                &snapshots,
                &store.outputs(),
            ))
        }),
        "/status" => only_get(req, || {
            let store = &state.exposition.store;
            let snapshots = store.all();
            let doc = crate::health::status::status(
                state.exposition.plan,
                &snapshots,
                &store.outputs(),
                state.on_demand.context(),
                state.started,
                std::time::SystemTime::now(),
            );
            json(&doc)
        }),
        "/collectors" => only_get(req, || {
            let snapshots = state.exposition.store.all();
            json(&crate::health::status::collectors(
                state.exposition.plan,
                &snapshots,
            ))
        }),
        "/ready" => only_get(req, || {
            if health::ready(&state.exposition.store.all()) {
                reply(
                    StatusCode::OK,
                    "text/plain; charset=utf-8",
                    b"ready\n".to_vec(),
                )
            } else {
                reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain; charset=utf-8",
                    b"not ready: some groups have not been collected yet\n".to_vec(),
                )
            }
        }),
        _ => not_found(),
    }
}

/// `value` as pretty JSON.
pub(crate) fn json(value: &impl serde::Serialize) -> Reply {
    let body = serde_json::to_vec_pretty(value).unwrap_or_default();
    reply(StatusCode::OK, "application/json", body)
}

/// A request header as text, if present and readable.
pub(crate) fn header<B>(req: &Request<B>, name: HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// An exposition with its exact `Content-Type`; `Vary` tells caches the
/// answer depends on the request's `Accept` and `Accept-Encoding`.
pub(crate) fn exposition_reply(content_type: &'static str, body: Bytes, gzipped: bool) -> Reply {
    let mut r = Response::new(Full::new(body));
    let headers = r.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
    if gzipped {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    r
}

/// GET and HEAD only; HEAD gets the headers with an empty body.
fn only_get(req: &Request<impl Sized>, respond: impl FnOnce() -> Reply) -> Reply {
    match *req.method() {
        Method::GET | Method::HEAD => head_if(req, respond()),
        _ => method_not_allowed("GET, HEAD"),
    }
}

/// For a HEAD request, `full` without its body but with its length.
pub(crate) fn head_if(req: &Request<impl Sized>, full: Reply) -> Reply {
    if *req.method() != Method::HEAD {
        return full;
    }
    let length = full.body().size_hint().exact().unwrap_or(0);
    let (mut parts, _) = full.into_parts();
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(length));
    Response::from_parts(parts, Full::new(Bytes::new()))
}

/// 405 with the methods allowed.
pub(crate) fn method_not_allowed(allow: &'static str) -> Reply {
    let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    r.headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    r
}

/// POST only (actions, never triggered by a browser's GET).
fn only_post(req: &Request<impl Sized>, respond: impl FnOnce() -> Reply) -> Reply {
    if *req.method() == Method::POST {
        return respond();
    }
    method_not_allowed("POST")
}

/// A plain-text reply.
pub(crate) fn text(status: StatusCode, body: impl Into<String>) -> Reply {
    reply(
        status,
        "text/plain; charset=utf-8",
        body.into().into_bytes(),
    )
}

/// 404.
pub(crate) fn not_found() -> Reply {
    reply(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        b"not found\n".to_vec(),
    )
}

/// A reply with a body of `content_type`.
pub(crate) fn reply(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}
