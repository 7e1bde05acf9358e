//! Where collected values go besides `/metrics`: a node_exporter textfile,
//! a Pushgateway, remote_write and OTLP. Each output runs after every completed collection
//! cycle, takes the same bytes a scrape gets (one catalog, the same names
//! everywhere), and records how it went in its own self-metrics; a failing
//! output never stops collection or serving.

pub(crate) mod delivery;
#[cfg(feature = "otlp-grpc")]
mod grpc;
pub(crate) mod otlp;
pub(crate) mod pushgateway;
pub(crate) mod remote_write;
pub(crate) mod textfile;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode};
use tokio::sync::watch;

use crate::config::Options;
use crate::encode::Format;
use crate::exposition::Exposition;
use crate::https::{Client, error_chain};
use crate::store::OutputStatus;
use delivery::Delivery;

/// An output the command line asks for.
#[derive(Debug)]
pub(crate) enum Output {
    /// `--textfile.directory`, `--textfile.name`.
    Textfile {
        /// The directory.
        dir: std::path::PathBuf,
        /// The file name without `.prom`.
        name: String,
    },
    /// `--push.gateway` and its options.
    Pushgateway(pushgateway::Pushgateway, Delivery),
    /// `--remote-write.url` and its options.
    RemoteWrite(remote_write::RemoteWrite, Delivery),
    /// `--otlp.endpoint` or the OTEL variables.
    Otlp(otlp::Otlp, Delivery),
}

/// The outputs `options` (and, for OTLP, the environment) ask for.
pub(crate) fn configured(options: &Options) -> Vec<Output> {
    let mut outputs = Vec::new();
    if let Some(dir) = &options.textfile_directory {
        outputs.push(Output::Textfile {
            dir: dir.clone(),
            name: options.textfile_name.clone(),
        });
    }
    if let Some(url) = &options.push_gateway {
        outputs.push(Output::Pushgateway(
            pushgateway::Pushgateway {
                url: url.clone(),
                job: options.push_job.clone(),
                labels: options.push_labels.clone(),
                method: if options.push_method == "post" {
                    Method::POST
                } else {
                    Method::PUT
                },
                interval: options.push_interval,
                delete_on_shutdown: options.push_delete_on_shutdown,
            },
            Delivery::from(&options.push_delivery),
        ));
    }
    if let Some(url) = &options.remote_write_url {
        outputs.push(Output::RemoteWrite(
            remote_write::RemoteWrite {
                url: url.clone(),
                labels: options.remote_write_labels.clone(),
                queue_samples: options.remote_write_queue_samples,
            },
            Delivery::from(&options.remote_write_delivery),
        ));
    }
    let env = |k: &str| std::env::var(k).ok();
    if let Some(config) = otlp_config(options, &env) {
        let how = match config.protocol {
            otlp::Protocol::Grpc => "OTLP/gRPC",
            otlp::Protocol::HttpProtobuf => "OTLP/HTTP",
        };
        let gzip = if config.gzip { ", gzip" } else { "" };
        tracing::info!("sending {how} to {}{gzip}", config.url);
        let flags = &options.otlp_delivery;
        let delivery = Delivery::from(flags).with_otel_env(flags, &env);
        outputs.push(Output::Otlp(config, delivery));
    }
    outputs
}

impl Output {
    /// The `output` label of its self-metrics.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Output::Textfile { .. } => "textfile",
            Output::Pushgateway(..) => "pushgateway",
            Output::RemoteWrite(..) => "remote_write",
            Output::Otlp(..) => "otlp",
        }
    }

    /// The output as `--once` runs it: a Pushgateway group is not deleted
    /// right after its one push (what a cron job pushes must stay).
    pub(crate) fn once(self) -> Output {
        match self {
            Output::Pushgateway(mut config, delivery) if config.delete_on_shutdown => {
                tracing::warn!("--push.delete-on-shutdown does nothing with --once");
                config.delete_on_shutdown = false;
                Output::Pushgateway(config, delivery)
            }
            other => other,
        }
    }

    /// Registers the output's self-metrics, then spawns the task that
    /// writes or sends after every cycle sent on `cycles` until `stop`.
    pub(crate) fn start(
        self,
        exposition: Arc<Exposition>,
        cycles: watch::Receiver<u64>,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let status = exposition.store.add_output(self.name());
        tokio::spawn(self.run(exposition, status, cycles, stop))
    }

    async fn run(
        self,
        exposition: Arc<Exposition>,
        status: Arc<OutputStatus>,
        cycles: watch::Receiver<u64>,
        stop: impl Future<Output = ()>,
    ) {
        match self {
            Output::Textfile { dir, name } => {
                textfile::run(dir, name, exposition, status, cycles, stop).await;
            }
            Output::Pushgateway(config, delivery) => {
                pushgateway::run(config, delivery, exposition, status, cycles, stop).await;
            }
            Output::RemoteWrite(config, delivery) => {
                remote_write::run(config, delivery, exposition, status, cycles, stop).await;
            }
            Output::Otlp(config, delivery) => {
                otlp::run(config, delivery, exposition, status, cycles, stop).await;
            }
        }
    }
}

/// Hands the text exposition to `write` after every cycle sent on
/// `cycles`, until `stop` resolves, and records each outcome (which also
/// refreshes the cached expositions, whose self-metrics it changes).
pub(crate) async fn after_each_cycle<W, F>(
    exposition: &Exposition,
    status: &OutputStatus,
    mut cycles: watch::Receiver<u64>,
    stop: impl Future<Output = ()>,
    mut write: W,
) where
    W: FnMut(Bytes) -> Option<F>,
    F: Future<Output = Result<(), String>>,
{
    tokio::pin!(stop);
    loop {
        tokio::select! {
            changed = cycles.changed() => if changed.is_err() { return },
            () = &mut stop => return,
        }
        let (body, _) = exposition.body(Format::Prometheus, false);
        // `None`: this output skips the cycle (e.g. its interval has not passed).
        if let Some(written) = write(body) {
            status.record(written.await);
            exposition.store.touch();
        }
    }
}

/// A pushing output's client and how it sends.
#[derive(Debug)]
pub(crate) struct Sender {
    client: Client,
    delivery: Delivery,
}

/// The pusher's sender, or the reason there is none (recorded as a failure).
fn client_or_record(status: &OutputStatus, delivery: Delivery) -> Option<Arc<Sender>> {
    sender_or_record(status, delivery, false)
}

/// The OTLP output `options` and `env` ask for, if any.
pub(crate) fn otlp_config(
    options: &Options,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<otlp::Otlp> {
    let flags = otlp::Flags {
        endpoint: options.otlp_endpoint.as_deref(),
        protocol: options.otlp_protocol.as_deref(),
        compression: options.otlp_compression.as_deref(),
    };
    otlp::Otlp::configured(flags, env)
}

/// The same, speaking HTTP/2 only when `http2_only`.
fn sender_or_record(
    status: &OutputStatus,
    delivery: Delivery,
    http2_only: bool,
) -> Option<Arc<Sender>> {
    match delivery.client(http2_only) {
        Ok(client) => Some(Arc::new(Sender { client, delivery })),
        Err(e) => {
            status.record(Err(e));
            None
        }
    }
}

/// Attempts per send, and the wait before the second.
pub(crate) const ATTEMPTS: u32 = 3;
pub(crate) const FIRST_WAIT: Duration = Duration::from_millis(250);

/// One request with bounded retries: connection errors, timeouts, 429 and
/// 5xx are tried again up to three attempts in all, waiting 250 ms then
/// 500 ms; any other answer outside 2xx is final (the request itself is
/// wrong, and sending it again would not help).
///
/// # Errors
/// The last attempt's failure.
pub(crate) async fn send(
    sender: &Sender,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Result<(), String> {
    send_or_say_why(sender, method, url, headers, body)
        .await
        .map_err(|(_, e)| e)
}

/// [`send`], with its failure's kind: `true` when sending again later may
/// succeed (no answer, 429, 5xx), `false` when the receiver refused the
/// request itself.
pub(crate) async fn send_or_say_why(
    sender: &Sender,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Result<(), (bool, String)> {
    let mut wait = FIRST_WAIT;
    let mut attempt = 1;
    loop {
        let mut request = Request::builder().method(method.clone()).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        for (name, value) in sender.delivery.headers().map_err(|e| (true, e))? {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(body.clone()))
            .map_err(|e| (false, format!("{url}: {e}")))?;
        let timeout = sender.delivery.timeout;
        let outcome = match tokio::time::timeout(timeout, sender.client.request(request)).await {
            Err(_) => Err((true, format!("{method} {url}: timed out after {timeout:?}"))),
            Ok(Err(e)) => Err((true, format!("{method} {url}: {}", error_chain(&e)))),
            Ok(Ok(response)) => {
                let status = response.status();
                if status.is_success() {
                    Ok(())
                } else {
                    let retry = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
                    Err((retry, format!("{method} {url} answered {status}")))
                }
            }
        };
        match outcome {
            Ok(()) => return Ok(()),
            Err((true, e)) if attempt < ATTEMPTS => {
                tracing::debug!("attempt {attempt} failed, retrying in {wait:?}: {e}");
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
            Err(failure) => return Err(failure),
        }
    }
}
