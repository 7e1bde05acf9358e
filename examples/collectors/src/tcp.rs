//! `TcpConnect`: whether a TCP peer accepts a connection, and how long the
//! handshake took, like blackbox_exporter's `tcp_connect` module.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use pme::Gauge;
use pme::collect::{CollectAsync, Context, ExtractErrors, FromOptions};

/// One TCP connect per collection.
#[derive(Debug, pme::MetricGroup)]
pub struct TcpConnect {
    #[metric(
        name = "probe_tcp_up",
        help = "1 if the peer accepted the connection, else 0."
    )]
    up: Gauge,
    #[metric(
        name = "probe_tcp_connect_seconds",
        help = "How long the TCP handshake took."
    )]
    seconds: Gauge,
    address: SocketAddr,
    timeout: Duration,
}

/// `options:` of a `TcpConnect` entry.
#[derive(Debug)]
pub struct TcpConnectOptions {
    /// `host:port` to connect to, an IP address (no name lookup).
    pub address: String,
    /// Give up after this many milliseconds (default 1000); the group's
    /// own `timeout:` still bounds the whole collection.
    pub timeout_ms: u64,
}

impl Default for TcpConnectOptions {
    fn default() -> Self {
        TcpConnectOptions {
            address: String::new(),
            timeout_ms: 1000,
        }
    }
}

impl FromOptions for TcpConnect {
    type Options = TcpConnectOptions;

    fn from_options(options: TcpConnectOptions) -> Result<TcpConnect, String> {
        let address = options.address.parse().map_err(|_| {
            format!(
                "`address` must be an IP address and port, like 127.0.0.1:9100; found `{}`",
                options.address
            )
        })?;
        Ok(TcpConnect {
            up: Gauge::default(),
            seconds: Gauge::default(),
            address,
            timeout: Duration::from_millis(options.timeout_ms),
        })
    }
}

impl CollectAsync for TcpConnect {
    async fn collect(&mut self, _: &Context) -> Result<(), ExtractErrors> {
        let started = Instant::now();
        let connected =
            tokio::time::timeout(self.timeout, tokio::net::TcpStream::connect(self.address)).await;
        let elapsed = started.elapsed().as_secs_f64();
        // A refused or slow peer is a reading (up 0), not a failure of
        // the collector: the probe's answer is the metric.
        let up = matches!(connected, Ok(Ok(_)));
        self.up.set([], f64::from(u8::from(up)));
        self.seconds.set([], elapsed);
        Ok(())
    }
}
