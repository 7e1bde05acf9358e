//! The sidecar pattern: statsd and DogStatsD lines over UDP or a Unix
//! datagram socket update the spec's declared instruments, and nothing
//! else. A line names an instrument (its family name or id, `.` read as
//! `_`); its tags must be exactly the instrument's labels, each closed
//! label's value one of those declared and each free-text one within the
//! family's limit. Everything else is refused and counted by reason in
//! `pme_statsd_refused_total{reason}`; no series is ever created from a
//! name the spec does not declare.
//!
//! Mapping: `c` adds `value / rate`; `g` sets, or adds when signed
//! (`+3`, `-1`); `ms` observes `value / 1000` seconds, `h` and `d`
//! observe the value, each `round(1 / rate)` times.

mod line;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use pme_content::exposition::Format;
use tokio::net::{UdpSocket, UnixDatagram};

use crate::instrument::{Mismatch, Update};
use crate::metric::{Counter, MetricGroup, Series};
use crate::plan::Plan;
use line::{Refusal, Type};

/// Largest datagram read; longer ones are cut by the kernel.
const MAX_DATAGRAM: usize = 64 * 1024;
/// A sampled observation stands for at most this many.
const MAX_REPEAT: u32 = 1000;

static ENABLED: AtomicBool = AtomicBool::new(false);
static ACCEPTED: AtomicU64 = AtomicU64::new(0);
static REFUSED: [AtomicU64; Refusal::ALL.len()] = [const { AtomicU64::new(0) }; Refusal::ALL.len()];

/// A bound listener.
#[derive(Debug)]
pub(crate) enum Socket {
    /// `--statsd.listen-udp`.
    Udp(UdpSocket),
    /// `--statsd.listen-unixgram`.
    Unix(UnixDatagram),
}

impl Socket {
    async fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Socket::Udp(s) => s.recv(buf).await,
            Socket::Unix(s) => s.recv(buf).await,
        }
    }
}

/// Serves datagrams from `socket` until `stop` resolves.
pub(crate) async fn serve(
    socket: Socket,
    plan: &'static Plan,
    stop: impl std::future::Future<Output = ()>,
) {
    ENABLED.store(true, Ordering::Relaxed);
    let mut buf = vec![0u8; MAX_DATAGRAM];
    tokio::pin!(stop);
    loop {
        tokio::select! {
            received = socket.recv(&mut buf) => match received {
                Ok(n) => datagram(&buf[..n], plan),
                Err(e) => tracing::debug!("statsd receive failed: {e}"),
            },
            () = &mut stop => return,
        }
    }
}

/// Binds a Unix datagram socket at `path` (replacing a stale socket file
/// there, never another kind of file).
///
/// # Errors
/// The path is taken by something else, or cannot be bound.
pub(crate) fn bind_unix(path: &Path) -> std::io::Result<UnixDatagram> {
    use std::os::unix::fs::FileTypeExt;
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    UnixDatagram::bind(path)
}

/// Applies every line of one datagram to `plan`'s instruments, counting
/// each line as applied or refused.
pub fn datagram(bytes: &[u8], plan: &Plan) {
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let outcome = std::str::from_utf8(line)
            .map_err(|_| Refusal::Malformed)
            .and_then(|line| apply(line, plan));
        match outcome {
            Ok(()) => ACCEPTED.fetch_add(1, Ordering::Relaxed),
            Err(reason) => REFUSED[reason as usize].fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// Applies one line to the declared instrument it names.
fn apply(text: &str, plan: &Plan) -> Result<(), Refusal> {
    let line = line::parse(text)?;
    // statsd names nest with `.` (a client's `prefix: 'app.'`); families use `_`.
    let name = if line.name.contains('.') {
        std::borrow::Cow::Owned(line.name.replace('.', "_"))
    } else {
        std::borrow::Cow::Borrowed(line.name)
    };
    let target = plan
        .instruments
        .iter()
        .find_map(|i| (i.find)(&name))
        .ok_or(Refusal::UnknownMetric)?;
    if line.tags.len() != target.labels.len() {
        return Err(Refusal::Labels);
    }
    let values = target
        .labels
        .iter()
        .map(|label| line.tags.iter().find(|(k, _)| k == label).map(|(_, v)| *v))
        .collect::<Option<Vec<&str>>>()
        .ok_or(Refusal::Labels)?;
    let times = ((1.0 / line.rate).round() as u32).clamp(1, MAX_REPEAT);
    for &v in &line.values {
        let update = match line.kind {
            Type::Counter => Update::Add(v / line.rate),
            Type::Gauge if line.delta => Update::Add(v),
            Type::Gauge => Update::Set(v),
            Type::Timer => Update::Observe(v / 1000.0, times),
            Type::Histogram => Update::Observe(v, times),
        };
        target.family.apply(&values, update).map_err(|m| match m {
            Mismatch::Type => Refusal::TypeMismatch,
            Mismatch::LabelValue => Refusal::LabelValue,
        })?;
    }
    Ok(())
}

#[derive(Debug, Default, crate::MetricGroup)]
struct StatsdMetrics {
    #[metric(
        name = "pme_statsd_lines_total",
        help = "statsd lines applied to a declared instrument."
    )]
    accepted: Counter,
    #[metric(
        name = "pme_statsd_refused_total",
        help = "statsd lines refused, by reason: malformed, unknown metric, labels that are not the instrument's, and so on.",
        labels("reason")
    )]
    refused: Counter<1>,
}

/// Appends the listener's self-metrics, when a listener runs.
pub(crate) fn encode(out: &mut Vec<u8>, format: Format) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let mut metrics = StatsdMetrics::default();
    metrics.accepted.replace(vec![Series {
        labels: [],
        value: ACCEPTED.load(Ordering::Relaxed) as f64,
    }]);
    metrics.refused.replace(
        Refusal::ALL
            .iter()
            .map(|r| Series {
                labels: [r.as_str().into()],
                value: REFUSED[*r as usize].load(Ordering::Relaxed) as f64,
            })
            .collect(),
    );
    metrics.encode(out, format);
}
