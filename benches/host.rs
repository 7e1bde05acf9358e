//! `cargo bench --bench host`: one full collection cycle of the built-in
//! host collectors (memory, filesystem, processes, load, cpu, network) on
//! this machine, against node_exporter scraped for the same collectors in
//! the same run.
//!
//! pme's cycle is what its scheduler does each tick: every collector reads
//! the system and encodes its families (both formats, as the scheduler
//! does). node_exporter collects when scraped, so its figure is the scrape:
//! an HTTP GET of `/metrics` over loopback, collection and encoding
//! included. Its own `node_scrape_collector_duration_seconds` (collection
//! alone) is printed too.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pme::Format;
use pme::collect::builtin::{Cpu, Filesystem, Load, Memory, Network, Processes};
use pme::collect::{Collect, Context, FromOptions, Paths};

mod common;
use common::median_secs;

const COLLECTORS: [&str; 6] = [
    "memory",
    "filesystem",
    "processes",
    "load",
    "cpu",
    "network",
];
/// node_exporter's collector for each of [`COLLECTORS`].
const NODE_EXPORTER_NAMES: [&str; 6] = [
    "meminfo",
    "filesystem",
    "processes",
    "loadavg",
    "cpu",
    "netdev",
];

/// A built-in collector with its default options, as the default spec
/// makes it.
fn made<T: Collect + FromOptions + 'static>() -> Box<dyn Collect> {
    Box::new(T::from_options(T::Options::default()).unwrap())
}

fn main() {
    let context = Context::new(Paths::default());
    let mut collectors: [Box<dyn Collect>; 6] = [
        made::<Memory>(),
        made::<Filesystem>(),
        made::<Processes>(),
        made::<Load>(),
        made::<Cpu>(),
        made::<Network>(),
    ];
    let mut out = Vec::with_capacity(64 * 1024);
    let mut cycle = |out: &mut Vec<u8>| {
        out.clear();
        for c in &mut collectors {
            c.collect(&context).unwrap();
            c.encode(out, Format::Prometheus);
            c.encode(out, Format::OpenMetrics);
        }
    };
    cycle(&mut out);
    let series = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty() && l[0] != b'#')
        .count()
        / 2;
    let ours = median_secs(21, 50, || cycle(&mut out));
    println!(
        "pme host cycle ({series} series):        {:>9.1} µs",
        ours * 1e6
    );

    let Some(node_exporter) = which("prometheus-node-exporter").or_else(|| which("node_exporter"))
    else {
        println!(
            "node_exporter not installed: peer skipped (apt-get install prometheus-node-exporter)"
        );
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = Command::new(node_exporter)
        .args([
            format!("--web.listen-address={addr}"),
            "--web.disable-exporter-metrics".into(),
            "--collector.disable-defaults".into(),
            "--collector.meminfo".into(),
            "--collector.filesystem".into(),
            "--collector.processes".into(),
            "--collector.loadavg".into(),
            "--collector.cpu".into(),
            "--collector.netdev".into(),
            "--collector.netdev.device-exclude=^$".into(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while scrape(addr).is_none() {
        assert!(Instant::now() < deadline, "node_exporter did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut bodies = Vec::new();
    let theirs = median_secs(21, 10, || bodies.push(scrape(addr).unwrap()));
    let _ = child.kill();
    let _ = child.wait();
    let body = bodies.last().unwrap();
    let their_series = body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("node_scrape_"))
        .count();
    println!(
        "node_exporter scrape ({their_series} series):  {:>9.1} µs",
        theirs * 1e6
    );
    println!(
        "node_exporter scrape / pme cycle:       {:>9.1}x",
        theirs / ours
    );

    // Collector by collector: pme's collect + encode, node_exporter's own
    // `node_scrape_collector_duration_seconds` (collection alone), medians.
    println!("per collector (pme µs, node_exporter µs, ratio):");
    for (i, (name, theirs_name)) in COLLECTORS.iter().zip(NODE_EXPORTER_NAMES).enumerate() {
        let mut buf = Vec::new();
        let ours = median_secs(21, 50, || {
            buf.clear();
            collectors[i].collect(&context).unwrap();
            collectors[i].encode(&mut buf, Format::Prometheus);
        });
        let series =
            format!("node_scrape_collector_duration_seconds{{collector=\"{theirs_name}\"}} ");
        let mut samples: Vec<f64> = bodies
            .iter()
            .filter_map(|b| {
                b.lines()
                    .find_map(|l| l.strip_prefix(&series)?.parse().ok())
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        let theirs = samples[samples.len() / 2];
        println!(
            "  {name:<11} {:>8.1} {:>8.1} {:>6.1}x",
            ours * 1e6,
            theirs * 1e6,
            theirs / ours
        );
    }
}

/// One GET of `/metrics`, the body if it answered 200.
fn scrape(addr: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    // HTTP/1.0: no chunked encoding to undo.
    (head.split(' ').nth(1) == Some("200")).then(|| body.to_owned())
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| std::path::Path::new(dir).join(program))
        .find(|p| p.is_file())
}
