//! Sources that hang, flood, vanish or return garbage: each group reports
//! its own error (self-metrics and /health), follows `value_on_error` or
//! keeps its last value, and nothing else is affected.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::embedded::{Served, bad_input, owned};
use crate::util::{Dir, assert_valid_exposition, get, value_of, wait_for};

fn series(service: &str, group: &str) -> String {
    format!(r#"{{service="{service}",group="{group}"}}"#)
}

#[test]
fn failing_sources_are_reported_and_contained() {
    let dir = Dir::new("bad-input");
    let served = Served::start(owned(&bad_input::PLAN, &dir, None));
    wait_for(Duration::from_secs(20), "/ready", || {
        (get(served.health, "/ready").status == 200).then_some(())
    });
    // Let the hanging command time out more than once, noting every
    // process of it: the shells by their marker, their children by parent.
    let marker = dir.join("hanging").display().to_string();
    let mut seen = BTreeSet::new();
    let until = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < until {
        seen.extend(processes_of(&marker));
        std::thread::sleep(Duration::from_millis(20));
    }

    let body = get(served.metrics, "/metrics").text();
    assert_valid_exposition(body.as_bytes());

    // The healthy service is untouched.
    assert_eq!(value_of(&body, "steady"), Some(42.0));
    assert_eq!(
        value_of(
            &body,
            &format!("pme_source_up{}", series("healthy", "steady"))
        ),
        Some(1.0)
    );
    assert_eq!(
        value_of(
            &body,
            &format!("pme_collection_errors_total{}", series("healthy", "steady"))
        ),
        Some(0.0)
    );

    for group in [
        "hanging",
        "flood",
        "missing_file",
        "no_match",
        "not_a_number",
        "failing",
    ] {
        let up = value_of(&body, &format!("pme_source_up{}", series("faulty", group)));
        assert_eq!(up, Some(0.0), "{group} should be down:\n{body}");
        let errors = value_of(
            &body,
            &format!("pme_collection_errors_total{}", series("faulty", group)),
        )
        .unwrap();
        assert!(errors >= 1.0, "{group} should count errors");
    }
    // value_on_error where the spec gives one; no series where it does not.
    assert_eq!(value_of(&body, "hanging"), Some(-1.0));
    assert!(value_of(&body, "missing_file").unwrap().is_nan());
    for silent in ["flood", "no_match", "not_a_number", "failing"] {
        assert_eq!(
            value_of(&body, silent),
            None,
            "{silent} has no value_on_error, so no value to show"
        );
    }

    // Over max_series: the first 10 kept, 40 dropped per collection and
    // counted; the bound is exported; the group is up.
    let exploding =
        |suffix: &str| value_of(&body, &format!("{suffix}{}", series("faulty", "exploding")));
    let kept: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("exploding{"))
        .collect();
    assert_eq!(kept.len(), 10, "{kept:?}");
    assert!(kept[0].starts_with(r#"exploding{key="k1"} 1"#), "{kept:?}");
    assert!(
        kept[9].starts_with(r#"exploding{key="k10"} 10"#),
        "{kept:?}"
    );
    assert_eq!(exploding("pme_source_up"), Some(1.0));
    assert_eq!(exploding("pme_group_max_series"), Some(10.0));
    let collections = exploding("pme_collections_total").unwrap();
    assert_eq!(
        exploding("pme_series_dropped_total"),
        Some(40.0 * collections),
        "40 dropped per collection:\n{body}"
    );

    let health: serde_json::Value =
        serde_json::from_slice(&get(served.health, "/health").body).unwrap();
    assert_eq!(health["status"], "degraded");
    let error_of = |group: &str| crate::util::last_error(&health, group);
    for (group, expected) in [
        ("hanging", "timed out after 500ms"),
        ("flood", "content exceeds the limit of 1048576 bytes"),
        ("missing_file", "No such file or directory"),
        ("no_match", "matched nothing"),
        ("not_a_number", "`abc` is not a number"),
        ("failing", "exit status: 3: broken"),
    ] {
        let error = error_of(group);
        assert!(
            error.contains(expected),
            "{group}: expected {expected:?} in {error:?}"
        );
    }
    assert_eq!(error_of("steady"), "");

    // Exit codes are kept: 3 for the failing command; none for a command
    // killed at its timeout or size limit.
    let exit_code = |group: &str| {
        value_of(
            &body,
            &format!("pme_command_exit_code{}", series("faulty", group)),
        )
    };
    assert_eq!(exit_code("failing"), Some(3.0));
    assert_eq!(exit_code("hanging"), None);
    assert_eq!(exit_code("flood"), None);
    assert_eq!(
        exit_code("missing_file"),
        None,
        "a file source has no exit code"
    );

    // The timed-out commands were killed with their children: of every
    // process seen, at most the current attempt (a shell and its `sleep`)
    // is alive. pme reaps the shells it started (none stays a zombie; a
    // killed `sleep` is reaped by whoever adopted it). A moment's grace
    // covers an attempt killed just now.
    let shells = seen.iter().filter(|p| p.marked).count();
    assert!(
        shells >= 2,
        "the command timed out more than once: {seen:?}"
    );
    let verdict = || {
        let states: Vec<(&Process, char)> = seen
            .iter()
            .filter_map(|p| Some((p, p.state_now()?)))
            .collect();
        let count = |marked: bool, zombie: bool| {
            states
                .iter()
                .filter(|(p, s)| p.marked == marked && (*s == 'Z') == zombie)
                .count()
        };
        let ok = count(true, true) == 0 && count(true, false) <= 1 && count(false, false) <= 1;
        (ok, format!("{states:?}"))
    };
    let until = Instant::now() + Duration::from_secs(3);
    let (mut ok, mut states) = verdict();
    while !ok && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
        (ok, states) = verdict();
    }
    assert!(ok, "killed attempts still alive, or unreaped: {states}");
    drop(served);
}

/// A process seen once, identified by pid and start time (so a reused pid
/// is not taken for it).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Process {
    pid: u32,
    start: u64,
    /// The shell carrying the marker, rather than its child.
    marked: bool,
}

impl Process {
    /// Its state (`R`, `S`, `Z`, …) if it still exists.
    fn state_now(&self) -> Option<char> {
        let (state, _, start) = stat(self.pid)?;
        (start == self.start).then_some(state)
    }
}

/// `(state, ppid, start time)` of `pid` from `/proc/PID/stat`.
fn stat(pid: u32) -> Option<(char, u32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ppid … field 22 is the start time.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
    Some((
        fields[0].chars().next()?,
        fields[1].parse().ok()?,
        fields[19].parse().ok()?,
    ))
}

/// The live processes whose command line holds `marker`, and their children.
fn processes_of(marker: &str) -> Vec<Process> {
    let pids: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    let marked: Vec<u32> = pids
        .iter()
        .copied()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|&b| b == 0).any(|arg| arg == marker.as_bytes()))
        })
        .collect();
    pids.iter()
        .filter_map(|&pid| {
            let (_, ppid, start) = stat(pid)?;
            let is_marked = marked.contains(&pid);
            (is_marked || marked.contains(&ppid)).then_some(Process {
                pid,
                start,
                marked: is_marked,
            })
        })
        .collect()
}
