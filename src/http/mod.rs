//! The HTTP listeners: `/metrics` and the landing page on one address,
//! `/health` and `/ready` on another.
//!
//! Routing is a plain function of the request ([`routes`]); this module only
//! accepts connections, applies limits, and shuts down gracefully.

pub mod routes;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::app::Shared;

/// How long a client may take to send its request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Which set of routes a listener serves.
#[derive(Clone, Copy, Debug)]
pub enum Endpoint {
    /// `/metrics` and the landing page.
    Metrics,
    /// `/health` and `/ready`.
    Health,
}

/// Serves connections on `listener` until `shutdown` resolves, then lets
/// requests in flight finish (for at most 5 seconds).
pub async fn serve(
    listener: TcpListener,
    endpoint: Endpoint,
    shared: Arc<Shared>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
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
        let shared = shared.clone();
        let service = service_fn(move |req: Request<Incoming>| {
            let response = match endpoint {
                Endpoint::Metrics => routes::metrics(&req, &shared),
                Endpoint::Health => routes::health(&req, &shared),
            };
            async move { Ok::<Response<Full<Bytes>>, Infallible>(response) }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .max_buf_size(64 * 1024)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}
