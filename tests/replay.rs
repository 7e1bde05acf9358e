//! `pme --replay`: no source is read; each group with a `sample:` serves
//! what the sample yields (exactly its `expect:` lines), on its schedule,
//! at `/metrics` and through the outputs; other groups are left out.

use std::path::Path;
use std::time::Duration;

use crate::util::{Dir, Exporter, get, pme_stdout, value_of, wait_for};

/// Every `expect:` line of the default spec, as (series, value).
fn expected_series() -> Vec<(String, f64)> {
    let spec = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("metrics.yaml"))
        .unwrap();
    let mut out = Vec::new();
    let mut in_expect = false;
    for line in spec.lines() {
        let trimmed = line.trim();
        if trimmed == "expect:" {
            in_expect = true;
            continue;
        }
        match trimmed.strip_prefix("- ") {
            Some(item) if in_expect => {
                let item = item.trim_matches('\'');
                let (series, value) = item.rsplit_once(' ').unwrap();
                out.push((series.to_owned(), value.parse().unwrap()));
            }
            _ => in_expect = false,
        }
    }
    out
}

fn assert_serves_the_samples(body: &str) {
    let expected = expected_series();
    assert!(expected.len() >= 6, "{expected:?}");
    for (series, value) in &expected {
        assert_eq!(value_of(body, series), Some(*value), "{series} in:\n{body}");
    }
    // Built-in collectors and commands without a sample read their
    // sources, so they are left out; the spec's static value stays.
    for absent in [
        "node_load1 ",
        "pme_system_kernel_info",
        "process_cpu_seconds_total",
    ] {
        assert!(!body.contains(absent), "{absent} in:\n{body}");
    }
    assert!(
        body.contains(r#"pme_spec_info{spec="default"} 1"#),
        "{body}"
    );
    for group in ["file_handles", "sockets", "writeback"] {
        let up = format!(r#"pme_source_up{{service="system",group="{group}"}}"#);
        assert_eq!(value_of(body, &up), Some(1.0), "{up}");
    }
}

#[test]
fn replay_once_prints_what_the_samples_yield() {
    assert_serves_the_samples(&pme_stdout(&["--replay", "--once"]));
}

/// Served and written through an output on the schedule, as a real run.
#[test]
fn replay_serves_and_writes_through_outputs() {
    let dir = Dir::new("replay");
    let textfile = format!("--textfile.directory={}", dir.display());
    let pme = Exporter::start(&["--replay", &textfile]);
    let file = dir.join("pme.prom");
    let written = wait_for(Duration::from_secs(20), "pme.prom", || {
        std::fs::read_to_string(&file)
            .ok()
            .filter(|t| t.contains("pme_system_dirty_bytes"))
    });
    assert_serves_the_samples(&written);
    let body = get(pme.metrics, "/metrics").text();
    assert_serves_the_samples(&body);
}
