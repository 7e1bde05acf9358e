//! The HTTP listeners: `/metrics` and the landing page on one address,
//! `/health` and `/ready` on another.
//!
//! Routing is a plain function of the request ([`routes`]). This module
//! accepts connections, applies the web configuration (TLS, the per-client
//! rate limit, authentication and scopes, extra headers) and limits, and
//! shuts down gracefully. A request goes: rate limit → credentials for the
//! route's scope → route.

pub(crate) mod auth;
mod collect;
mod debug;
pub(crate) mod embedded;
pub(crate) mod negotiate;
mod page;
pub(crate) mod ratelimit;
pub(crate) mod routes;
pub(crate) mod service;
pub(crate) mod tls;
pub(crate) mod webconfig;
mod yaml;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::collect::ServerStats;
use crate::exposition::Exposition;
use auth::Denied;
use webconfig::WebConfig;

/// How long a client may take to send its request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head (request line and headers) accepted.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Most headers a request may carry.
const MAX_HEADERS: usize = 64;

/// Which set of routes a listener serves.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Endpoint {
    /// `/metrics` and the landing page.
    Metrics,
    /// `/health` and `/ready`.
    Health,
}

/// The web configuration in force, its file (for reloads) and the
/// clients' rate-limit state.
#[derive(Debug, Default)]
pub(crate) struct Web {
    config: RwLock<Arc<WebConfig>>,
    path: Option<PathBuf>,
    limiter: ratelimit::Limiter,
}

impl Web {
    /// Loads `--web.config.file`, or an open plain-HTTP configuration.
    ///
    /// # Errors
    /// The file does not load.
    pub(crate) fn load(path: Option<PathBuf>) -> Result<Web, String> {
        let config = match &path {
            Some(p) => WebConfig::load(p)?,
            None => WebConfig::default(),
        };
        Ok(Web {
            config: RwLock::new(Arc::new(config)),
            path,
            limiter: ratelimit::Limiter::default(),
        })
    }

    /// The configuration in force.
    pub(crate) fn current(&self) -> Arc<WebConfig> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads the file again; on failure the previous configuration stays.
    ///
    /// # Errors
    /// The file does not load (the message names the problem, no secret).
    pub(crate) fn reload(&self) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let config = WebConfig::load(path)?;
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
        tracing::info!("reloaded {}", path.display());
        Ok(())
    }
}

/// What the listeners serve from; the application that runs them makes it.
#[derive(Debug)]
pub(crate) struct State {
    /// The plan's published exposition (snapshots and cached bodies).
    pub exposition: Arc<Exposition>,
    /// Where `/health` is served, for the landing page.
    pub health_addr: Option<SocketAddr>,
    /// TLS, credentials and limits of the listeners.
    pub web: Web,
    /// The services with parameters, and what collects them.
    pub probes: service::Probes,
    /// Request counters, for the `exporter` built-in.
    pub server: Arc<ServerStats>,
    /// The scheduler's state, for `POST /collect`.
    pub on_demand: crate::scheduler::Scheduler,
    /// When collecting began, for `/status`.
    pub started: std::time::SystemTime,
    /// When `POST /collect` last started a collection (one a second).
    pub last_collect: std::sync::Mutex<Option<Instant>>,
}

type Reply = Response<Full<Bytes>>;

/// Serves connections on `listener` until `shutdown` resolves, then lets
/// requests in flight finish (for at most 5 seconds).
///
/// At most `max_connections` are open at once (0: no limit). Beyond that,
/// new ones are not accepted: they wait in the kernel's listen queue until
/// one closes, so memory stays bounded whatever clients do.
pub(crate) async fn serve(
    listener: TcpListener,
    endpoint: Endpoint,
    state: Arc<State>,
    max_connections: usize,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(if max_connections == 0 {
        Semaphore::MAX_PERMITS
    } else {
        max_connections
    }));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // never closed
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let state = state.clone();
        let graceful = graceful.watcher();
        tokio::spawn(async move {
            let _slot = slot;
            // TLS or not is decided per connection, so a reload takes
            // effect for the next client.
            match state.web.current().tls.clone() {
                None => connection(stream, peer, endpoint, state, graceful).await,
                Some(tls) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            connection(stream, peer, endpoint, state, graceful).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

async fn connection<IO>(
    io: IO,
    peer: SocketAddr,
    endpoint: Endpoint,
    state: Arc<State>,
    graceful: Watcher,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req: Request<Incoming>| {
        let state = state.clone();
        async move {
            let started = Instant::now();
            let route = routes::route(endpoint, req.uri().path(), state.exposition.plan);
            let reply = respond(req, peer, endpoint, &state).await;
            state
                .server
                .record_request(route, reply.status().as_u16(), started.elapsed());
            Ok::<Reply, Infallible>(reply)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES.max(8192))
        .max_headers(MAX_HEADERS)
        .serve_connection(TokioIo::new(io), service);
    if let Err(e) = graceful.watch(conn).await {
        tracing::debug!(%peer, "connection ended: {e}");
    }
}

async fn respond<B>(req: Request<B>, peer: SocketAddr, endpoint: Endpoint, state: &State) -> Reply {
    let web = state.web.current();
    if let Some(limit) = web.rate_limit
        && let Err(wait) = state.web.limiter.check(peer.ip(), limit, Instant::now())
    {
        let mut r = routes::text(StatusCode::TOO_MANY_REQUESTS, "too many requests\n");
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        r.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
        return with_headers(r, &web);
    }
    if !web.auth.is_open() {
        let scope = routes::scope(endpoint, &req);
        let header = req
            .headers()
            .get(AUTHORIZATION)
            .map(|v| v.as_bytes().to_vec());
        let checker = web.clone();
        // bcrypt takes ~100 ms: off the async threads.
        let verdict =
            tokio::task::spawn_blocking(move || checker.auth.check(header.as_deref(), scope))
                .await
                .unwrap_or(Err(Denied::Unauthenticated));
        match verdict {
            Ok(()) => {}
            Err(Denied::Unauthenticated) => {
                let mut r = routes::text(StatusCode::UNAUTHORIZED, "unauthorized\n");
                if web.auth.has_users() {
                    r.headers_mut().append(
                        WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"pme\", charset=\"UTF-8\""),
                    );
                }
                r.headers_mut().append(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"pme\""),
                );
                return with_headers(r, &web);
            }
            Err(Denied::Forbidden) => {
                let r = routes::text(
                    StatusCode::FORBIDDEN,
                    "forbidden: the token lacks the scope\n",
                );
                return with_headers(r, &web);
            }
        }
    }
    let reply = match endpoint {
        Endpoint::Metrics => match req.uri().path().strip_prefix("/metrics/") {
            Some(service) => service::metrics(&req, service, state).await,
            None => routes::metrics(&req, state),
        },
        Endpoint::Health if req.uri().path() == "/collect" => collect::collect(&req, state).await,
        Endpoint::Health => routes::health(&req, state),
    };
    with_headers(reply, &web)
}

fn with_headers(mut reply: Reply, web: &WebConfig) -> Reply {
    for (name, value) in &web.headers {
        reply.headers_mut().insert(name.clone(), value.clone());
    }
    reply
}
