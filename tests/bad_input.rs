//! Sources that hang, flood, vanish or return garbage: each group reports
//! its own error (self-metrics and /health), follows `value_on_error` or
//! keeps its last value, and nothing else is affected.

use std::time::Duration;

use crate::embedded::{Served, bad_input};
use crate::util::{assert_valid_exposition, get, value_of, wait_for};

fn series(service: &str, group: &str) -> String {
    format!(r#"{{service="{service}",group="{group}"}}"#)
}

#[test]
fn failing_sources_are_reported_and_contained() {
    let served = Served::start(&bad_input::PLAN);
    wait_for(Duration::from_secs(20), "/ready", || {
        (get(served.health, "/ready").status == 200).then_some(())
    });
    // Let the hanging command time out more than once.
    std::thread::sleep(Duration::from_millis(2500));

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

    // The timed-out commands were killed and reaped: at most the current
    // attempt is alive, and no zombie is left.
    let sleepers = children_named("sleep");
    assert!(
        sleepers.iter().filter(|(_, state)| *state != 'Z').count() <= 1,
        "{sleepers:?}"
    );
    assert!(
        sleepers.iter().all(|(_, state)| *state != 'Z'),
        "zombies: {sleepers:?}"
    );
    drop(served);
}

/// (pid, state) of this process's children whose command name is `name`.
fn children_named(name: &str) -> Vec<(u32, char)> {
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let mut rest = stat[close + 2..].split(' ');
        let state = rest.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid: u32 = rest.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if comm == name && ppid == me {
            found.push((pid, state));
        }
    }
    found
}
