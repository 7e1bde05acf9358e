//! The start-time figure of `bench/all.sh`: milliseconds from spawning pme
//! to the first `200` of `/ready` (every group collected once, so
//! `/metrics` is complete), median over N starts. A compiled probe, so
//! the figure is pme's start and not an interpreter's polling loop.
//!
//! `cargo run --release --example start_probe -- N BINARY [ARG…]`

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one start may take before the probe gives up on it.
const LIMIT: Duration = Duration::from_secs(10);

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(n), Some(binary)) = (
        args.next().and_then(|n| n.parse::<usize>().ok()),
        args.next(),
    ) else {
        eprintln!("usage: start_probe N BINARY [ARG…]");
        std::process::exit(2);
    };
    let rest: Vec<String> = args.collect();
    let mut times: Vec<f64> = (0..n).map(|_| start_once(&binary, &rest)).collect();
    times.sort_by(f64::total_cmp);
    let median = match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => times[n / 2],
        _ => (times[n / 2 - 1] + times[n / 2]) / 2.0,
    };
    println!("{median:.1}");
}

/// One start: spawn, poll `/ready` until it answers 200, stop the child.
fn start_once(binary: &str, rest: &[String]) -> f64 {
    let (web, health) = (free_port(), free_port());
    let began = Instant::now();
    let mut child = Command::new(binary)
        .args(rest)
        .arg(format!("--web.listen-address=127.0.0.1:{web}"))
        .arg(format!("--health.listen-address=127.0.0.1:{health}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {binary}: {e}"));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, health));
    let elapsed = loop {
        if status(addr) == Some(200) {
            break began.elapsed();
        }
        if began.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("{binary} was not ready within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_micros(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    elapsed.as_secs_f64() * 1000.0
}

/// A loopback port the kernel has just handed out and released.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    listener.local_addr().expect("its address").port()
}

/// The status code of `GET /ready`, or `None` while nothing answers.
fn status(addr: SocketAddr) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(100)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    stream
        .write_all(b"GET /ready HTTP/1.0\r\nHost: probe\r\n\r\n")
        .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let line = response.split(|&b| b == b'\r').next()?;
    std::str::from_utf8(line)
        .ok()?
        .split(' ')
        .nth(1)?
        .parse()
        .ok()
}
