//! `cargo bench --bench reimport`: the Prometheus/OpenMetrics re-import
//! parser in MB/s on large real expositions.
//!
//! Inputs: a scrape of the real node_exporter (Debian
//! `prometheus-node-exporter`, started here on a loopback port the kernel
//! picks, for one scrape, when installed) and a Prometheus server's own scrape
//! (`tests/conformance/prometheus-textparse/testdata/alltypes.237mfs.prom.txt`),
//! each repeated ×100 into one document, as a big target would serve.
//! Measured: the lenient parse pme runs on every reading; the whole
//! reading cycle (parse, route through an import of every family, write
//! the text format); and the strict parse of one copy. The peer, in the
//! same run: the `prometheus-parse` crate (the most used Rust parser of the
//! text format), given the lines as its API takes them.

use std::hint::black_box;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod common;
use common::{listening_port, median_secs};

use pme::__private::parsers::exposition::{Format, Import, parse, route, write_text};

const COPIES: usize = 100;
const ROUNDS: usize = 11;

static ALL: [Import; 1] = [Import {
    select: r#"{__name__=~".+"}"#,
    compiled: OnceLock::new(),
    rename: None,
    prefix: "",
    labels: &[("instance", "bench")],
    honor_labels: false,
    relabel: &[],
    value_on_error: None,
    max_series: None,
}];

/// One scrape of a node_exporter started for the purpose, or `None`.
fn node_exporter_scrape() -> Option<String> {
    let mut child = Command::new("prometheus-node-exporter")
        .arg("--web.listen-address=127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let Some(port) = listening_port(child.id()) else {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    };
    let addr = format!("127.0.0.1:{port}");
    let addr = addr.as_str();
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        if let Ok(mut s) = std::net::TcpStream::connect(addr) {
            s.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
                .ok();
            let mut response = String::new();
            s.read_to_string(&mut response).ok();
            if let Some((_, body)) = response.split_once("\r\n\r\n") {
                break Some(body.to_owned());
            }
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    body
}

fn report(input: &str, what: &str, bytes: usize, secs: f64) {
    println!(
        "{input:<26} {what:<34} {:>8.1} MB/s  ({:.2} ms for {:.1} MB)",
        bytes as f64 / secs / 1e6,
        secs * 1e3,
        bytes as f64 / 1e6
    );
}

fn main() {
    let mut inputs = Vec::new();
    match node_exporter_scrape() {
        Some(body) => inputs.push(("node_exporter scrape", body)),
        None => println!("skipping node_exporter: `prometheus-node-exporter` not installed"),
    }
    let alltypes = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/prometheus-textparse/testdata/alltypes.237mfs.prom.txt"
    );
    match std::fs::read_to_string(alltypes) {
        // The file ends with a `# EOF` line the text format ignores.
        Ok(text) => inputs.push((
            "Prometheus alltypes",
            text.trim_end().trim_end_matches("# EOF").to_owned(),
        )),
        Err(e) => println!("skipping {alltypes}: {e}"),
    }
    for (name, one) in &inputs {
        let big = one.repeat(COPIES);
        let samples: usize = parse(big.as_bytes(), Format::Prometheus, false)
            .unwrap()
            .iter()
            .map(|f| f.samples.len())
            .sum();
        println!(
            "{name}: {} bytes, {} samples per copy; ×{COPIES}",
            one.len(),
            samples / COPIES
        );
        let lenient = median_secs(ROUNDS, 1, || {
            black_box(parse(black_box(big.as_bytes()), Format::Prometheus, false).unwrap());
        });
        report(name, "lenient parse", big.len(), lenient);
        let peer = median_secs(ROUNDS, 1, || {
            let lines = black_box(&big).lines().map(|l| Ok(l.to_owned()));
            black_box(prometheus_parse::Scrape::parse(lines).unwrap());
        });
        report(name, "prometheus-parse crate", big.len(), peer);
        let mut out = Vec::with_capacity(big.len() * 2);
        let cycle = median_secs(ROUNDS, 1, || {
            out.clear();
            let families = parse(black_box(big.as_bytes()), Format::Prometheus, false).unwrap();
            let (served, _) = route(families, &ALL, &[]);
            write_text(&mut out, served.iter().map(|(_, family)| family));
            black_box(&out);
        });
        report(name, "parse + import all + write text", big.len(), cycle);
        let strict = median_secs(ROUNDS, COPIES, || {
            black_box(parse(black_box(one.as_bytes()), Format::Prometheus, true).unwrap());
        });
        report(name, "strict parse (one copy)", one.len(), strict);
    }
}
