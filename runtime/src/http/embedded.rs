//! [`MetricsService`]: pme's `/metrics` as a service an application mounts
//! in its own server (hyper, axum, anything tower). A request goes through
//! the same pipeline as on pme's own listener: rate limit, credentials,
//! route, negotiation, the cached body.

use std::convert::Infallible;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};

use super::{Endpoint, State, respond, routes};

/// Answers `/metrics` and `/metrics/<service>` (and pme's landing page at
/// `/`) for an embedded spec; made by [`crate::embed`].
///
/// The rate limit of `--web.config.file` is per client address: put the
/// client's `SocketAddr` in the request's extensions to give each its
/// own; without one, all requests share one allowance.
#[derive(Clone, Debug)]
pub struct MetricsService {
    state: Arc<State>,
}

impl MetricsService {
    pub(crate) fn new(state: Arc<State>) -> MetricsService {
        MetricsService { state }
    }

    /// Answers one request. The body of the request is not read.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Full<Bytes>> {
        let started = Instant::now();
        // Only the head is read; dropping the body now keeps the future
        // `Send` whatever body type the server uses.
        let (head, _body) = req.into_parts();
        let req = Request::from_parts(head, ());
        let peer = req
            .extensions()
            .get::<SocketAddr>()
            .copied()
            .unwrap_or(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)));
        let route = routes::route(
            Endpoint::Metrics,
            req.uri().path(),
            self.state.exposition.plan,
        );
        let reply = respond(req, peer, Endpoint::Metrics, &self.state).await;
        self.state
            .server
            .record_request(route, reply.status().as_u16(), started.elapsed());
        reply
    }
}

type Reply = Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

impl<B: Send + 'static> tower_service::Service<Request<B>> for MetricsService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Reply;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Reply {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(req).await) })
    }
}

impl<B: Send + 'static> hyper::service::Service<Request<B>> for MetricsService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Reply;

    fn call(&self, req: Request<B>) -> Reply {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(req).await) })
    }
}
