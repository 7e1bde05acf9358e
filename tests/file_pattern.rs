//! A `file` source with a path pattern: every matching file is read on its
//! own, its series labelled with the captures; files that appear or vanish
//! come and go with their series; matches past `max_files` are counted,
//! not read; a bad file is that file's fallback and the group's error,
//! while the other files keep serving. Re-imported `.prom` files merge into
//! one family per name, as node_exporter's textfile collector's do.

use std::time::Duration;

use crate::embedded::{Served, file_pattern, owned};
use crate::util::{Dir, assert_valid_exposition, get, last_error, value_of, wait_for};

const WAIT: Duration = Duration::from_secs(10);

fn status(depth: i64) -> String {
    format!(r#"{{"queue": {{"depth": {depth}}}}}"#)
}

#[test]
fn a_pattern_reads_each_match_with_its_captures_as_labels() {
    let root = Dir::new("file-pattern");
    root.write("apps/web/status.json", &status(4));
    root.write("apps/db/status.json", &status(2));
    root.write("apps/.hidden/status.json", &status(99));
    root.write(
        "textfile/backup.prom",
        "# HELP batch_last_run_seconds When the job last ran.\n# TYPE batch_last_run_seconds gauge\nbatch_last_run_seconds 1700000000\n",
    );
    root.write("textfile/report.prom", "# HELP batch_last_run_seconds When the job last ran.\n# TYPE batch_last_run_seconds gauge\nbatch_last_run_seconds 1700000300\n");

    let served = Served::start(owned(&file_pattern::PLAN, &root, None));
    let scrape = || get(served.metrics, "/metrics").text();
    let health = || -> serde_json::Value {
        serde_json::from_str(&get(served.health, "/health").text()).unwrap()
    };
    // Both groups collect on their own; wait for the first result of each.
    let body = wait_for(WAIT, "both apps and both textfiles", || {
        let body = scrape();
        let apps = value_of(&body, r#"app_queue_depth{app="web"}"#);
        let textfiles = value_of(&body, r#"batch_last_run_seconds{job="report"}"#);
        apps.and(textfiles).map(|_| body)
    });
    assert_eq!(value_of(&body, r#"app_queue_depth{app="db"}"#), Some(2.0));
    assert_eq!(value_of(&body, r#"app_queue_depth{app="web"}"#), Some(4.0));
    assert!(
        !body.contains(".hidden"),
        "a capture does not match a dot name:\n{body}"
    );
    assert_eq!(
        value_of(&body, r#"pme_file_matches{service="apps",group="status"}"#),
        Some(2.0)
    );
    // Two files, one family: one header, both series.
    assert_eq!(
        body.matches("# TYPE batch_last_run_seconds gauge").count(),
        1,
        "{body}"
    );
    assert_eq!(
        value_of(&body, r#"batch_last_run_seconds{job="report"}"#),
        Some(1_700_000_300.0)
    );
    assert_eq!(
        value_of(&body, r#"batch_last_run_seconds{job="backup"}"#),
        Some(1_700_000_000.0)
    );
    assert_valid_exposition(body.as_bytes());

    // Two more apps: four matches against max_files 3. The first three in
    // path order are read (cache, db, web); `zz` is counted.
    root.write("apps/cache/status.json", &status(1));
    root.write("apps/zz/status.json", &status(7));
    let dropped = r#"pme_file_matches_dropped_total{service="apps",group="status"}"#;
    let body = wait_for(WAIT, "the match past max_files counted", || {
        let body = scrape();
        value_of(&body, dropped).filter(|n| *n >= 1.0).map(|_| body)
    });
    assert_eq!(
        value_of(&body, r#"app_queue_depth{app="cache"}"#),
        Some(1.0)
    );
    assert_eq!(
        value_of(&body, r#"app_queue_depth{app="zz"}"#),
        None,
        "{body}"
    );
    assert_eq!(
        value_of(&body, r#"pme_file_matches{service="apps",group="status"}"#),
        Some(3.0)
    );
    assert_eq!(
        value_of(&body, r#"pme_source_up{service="apps",group="status"}"#),
        Some(1.0),
        "a bound reached is counted, not a failure"
    );

    // A bad file: its series falls back to value_on_error, the group is
    // down with the file named, and the other files keep their values.
    std::fs::remove_dir_all(root.join("apps/zz")).unwrap();
    root.write("apps/db/status.json", "{not json");
    let body = wait_for(WAIT, "db's fallback", || {
        let body = scrape();
        value_of(&body, r#"app_queue_depth{app="db"}"#)
            .filter(|v| *v == -1.0)
            .map(|_| body)
    });
    assert_eq!(value_of(&body, r#"app_queue_depth{app="web"}"#), Some(4.0));
    assert_eq!(
        value_of(&body, r#"pme_source_up{service="apps",group="status"}"#),
        Some(0.0)
    );
    let error = last_error(&health(), "status");
    assert!(error.contains("apps/db/status.json: extract"), "{error}");
    // Larger than max_bytes: that file's read fails the same way.
    root.write("apps/cache/status.json", &" ".repeat(2000));
    wait_for(WAIT, "cache's fallback", || {
        value_of(&scrape(), r#"app_queue_depth{app="cache"}"#).filter(|v| *v == -1.0)
    });
    let error = last_error(&health(), "status");
    assert!(
        error.contains("apps/cache/status.json: read: content exceeds"),
        "{error}"
    );

    // A file that goes away takes its series with it; repaired, the group
    // is up again.
    std::fs::remove_dir_all(root.join("apps/web")).unwrap();
    std::fs::remove_dir_all(root.join("apps/cache")).unwrap();
    root.write("apps/db/status.json", &status(5));
    let body = wait_for(WAIT, "web gone, db repaired", || {
        let body = scrape();
        (value_of(&body, r#"app_queue_depth{app="db"}"#) == Some(5.0)).then_some(body)
    });
    assert_eq!(
        value_of(&body, r#"app_queue_depth{app="web"}"#),
        None,
        "{body}"
    );
    assert_eq!(
        value_of(&body, r#"pme_source_up{service="apps",group="status"}"#),
        Some(1.0)
    );
    assert_valid_exposition(body.as_bytes());
    drop(served);
}
