//! Closed world: a request chooses no command, file or URL, only values
//! for the arguments a service declares, each checked against its pattern
//! and passed as one argument, never through a shell.

use std::time::Duration;

use crate::embedded::{Served, parameters};
use crate::util::{assert_valid_exposition, get, request, value_of, wait_for};

#[test]
fn parameters_reach_commands_as_checked_arguments() {
    let served = Served::start(&parameters::PLAN);
    wait_for(Duration::from_secs(20), "/ready", || {
        (get(served.health, "/ready").status == 200).then_some(())
    });

    let ok = get(
        served.metrics,
        "/metrics/echo?word=hello+wide%20world&count=7",
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    let body = ok.text();
    assert_valid_exposition(body.as_bytes());
    assert_eq!(
        value_of(
            &body,
            r#"probe_argv_info{word="hello wide world",count="7"}"#
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(value_of(&body, "probe_number"), Some(7.0));
    // Spaces and all, the value is one argument ("$1"), not shell words.
    assert_eq!(value_of(&body, "probe_script_arguments"), Some(1.0));
    assert_eq!(
        value_of(&body, r#"pme_source_up{service="echo",group="argv"}"#),
        Some(1.0)
    );
    assert!(!body.contains("scheduled_one"), "{body}");

    // Per-request services are not in /metrics; a scheduled one has its own path.
    let all = get(served.metrics, "/metrics").text();
    assert!(
        all.contains("scheduled_one 1") && !all.contains("probe_"),
        "{all}"
    );
    let one = get(served.metrics, "/metrics/scheduled").text();
    assert!(
        one.contains("scheduled_one 1") && !one.contains("probe_"),
        "{one}"
    );

    let landing = get(served.metrics, "/").text();
    assert!(
        landing.contains("per request: <code>/metrics/echo?word=…&amp;count=…</code>"),
        "{landing}"
    );

    for (query, reason) in [
        // Shell metacharacters: refused by the pattern before anything runs.
        ("word=a;id&count=1", "does not match"),
        ("word=$(id)&count=1", "does not match"),
        ("word=%60id%60&count=1", "does not match"),
        ("word=a|b&count=1", "does not match"),
        ("word=a&count=1;reboot", "does not match"),
        // Path traversal: refused even where the pattern allows it.
        ("word=../../etc/passwd&count=1", "`..` path segments"),
        ("word=..&count=1", "`..` path segments"),
        // An option in disguise, control characters, repeats, unknowns.
        ("word=-rf&count=1", "may not start with `-`"),
        ("word=a%0Ab&count=1", "control characters"),
        ("word=a&count=1&count=2", "given twice"),
        ("word=a", "missing parameter `count`"),
        ("word=a&count=1&exec=id", "unknown parameter `exec`"),
    ] {
        let r = get(served.metrics, &format!("/metrics/echo?{query}"));
        assert_eq!(r.status, 400, "{query}: {}", r.text());
        assert!(r.text().contains(reason), "{query}: {}", r.text());
    }
    assert_eq!(get(served.metrics, "/metrics/scheduled?word=a").status, 400);
    assert_eq!(get(served.metrics, "/metrics/nope?word=a").status, 404);
    assert_eq!(get(served.metrics, "/metrics/../metrics").status, 404);
    assert_eq!(
        request(served.metrics, "POST", "/metrics/echo?word=a&count=1").status,
        405
    );
}
