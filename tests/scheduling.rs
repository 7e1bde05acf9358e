//! Each source is read exactly once per due cycle, shared by the groups
//! due; frequencies round up to multiples of the global tick.

use std::time::Duration;

use crate::embedded::{Served, exactly_once, once, owned};
use crate::util::{Dir, get, value_of, wait_for};

/// The counting command's file, as the spec names it below its directory.
const RUNS: &str = "exactly-once/runs";

fn reset(dir: &Dir) {
    std::fs::create_dir_all(dir.join("exactly-once")).unwrap();
    let _ = std::fs::remove_file(dir.join(RUNS));
}

fn runs(dir: &Dir) -> u64 {
    std::fs::read_to_string(dir.join(RUNS))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn series(group: &str) -> String {
    format!(r#"{{service="counting",group="{group}"}}"#)
}

#[test]
fn shared_source_is_read_once_per_cycle_and_periods_round_up() {
    let dir = Dir::new("exactly-once");
    let plan = owned(&exactly_once::PLAN, &dir, None);
    // `--once`: both groups are due, the shared command runs once.
    reset(&dir);
    let (body, ok) = once(plan);
    assert!(ok, "{body}");
    assert_eq!(
        runs(&dir),
        1,
        "one collection cycle must run the shared command once"
    );
    assert_eq!(value_of(&body, "runs_seen_every_tick"), Some(1.0));
    assert_eq!(value_of(&body, "runs_seen_every_third_tick"), Some(1.0));

    // Scheduled: tick 2s; the slow group's 5s becomes 3 ticks (6s).
    reset(&dir);
    let served = Served::start(plan);
    let collections = |body: &str| {
        value_of(
            body,
            &format!("pme_collections_total{}", series("every_tick")),
        )
    };
    wait_for(Duration::from_secs(30), "four cycles", || {
        collections(&get(served.metrics, "/metrics").text()).filter(|n| *n >= 4.0)
    });
    // Mid-tick: the reads of this cycle (a few ms) are published, the next has not begun.
    std::thread::sleep(Duration::from_millis(700));
    let body = get(served.metrics, "/metrics").text();
    drop(served);

    let ticks = collections(&body).unwrap();
    let fast = value_of(&body, "runs_seen_every_tick").unwrap();
    let slow = value_of(&body, "runs_seen_every_third_tick").unwrap();
    let slow_collections = value_of(
        &body,
        &format!("pme_collections_total{}", series("every_third_tick")),
    )
    .unwrap();
    // Exactly once: the command ran once per tick although two groups read
    // it on every third tick.
    assert_eq!(fast, ticks, "runs must equal cycles:\n{body}");
    // The slow group reads on ticks 0, 3, 6, …: it saw runs 1, 4, 7, …
    assert_eq!(
        (slow - 1.0) % 3.0,
        0.0,
        "slow group saw run {slow}:\n{body}"
    );
    assert_eq!(
        slow_collections,
        (ticks / 3.0).ceil(),
        "slow group collected {slow_collections} times in {ticks} ticks"
    );
    assert_eq!(
        value_of(
            &body,
            &format!(
                "pme_collection_interval_seconds{}",
                series("every_third_tick")
            )
        ),
        Some(6.0)
    );
    assert_eq!(
        value_of(
            &body,
            &format!("pme_collection_interval_seconds{}", series("every_tick"))
        ),
        Some(2.0)
    );
}

#[test]
fn groups_sharing_a_file_each_see_its_latest_content() {
    let root = Dir::new("shared-file");
    let dir = root.join("shared-file");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("value"), "1\n").unwrap();

    let served = Served::start(owned(&crate::embedded::shared_file::PLAN, &root, None));
    let scrape = || get(served.metrics, "/metrics").text();
    let collections = |body: &str, group: &str| {
        value_of(
            body,
            &format!("pme_collections_total{{service=\"files\",group=\"{group}\"}}"),
        )
    };
    wait_for(Duration::from_secs(10), "first collection", || {
        collections(&scrape(), "slow").filter(|n| *n >= 1.0)
    });
    let body = scrape();
    assert_eq!(value_of(&body, "value_slow"), Some(1.0));
    let late_up = r#"pme_source_up{service="files",group="late"}"#;
    assert_eq!(
        value_of(&body, late_up),
        Some(0.0),
        "the late file does not exist yet"
    );

    // Changed while only the fast group is due (ticks 1 and 2); the slow
    // group must still parse the new content on tick 3. The same size and
    // a possibly equal mtime make this the hard case for change detection.
    std::fs::write(dir.join("value"), "2\n").unwrap();
    std::fs::write(dir.join("late"), "7\n").unwrap();
    wait_for(
        Duration::from_secs(10),
        "the slow group's second collection",
        || collections(&scrape(), "slow").filter(|n| *n >= 2.0),
    );
    let body = scrape();
    assert_eq!(value_of(&body, "value_fast"), Some(2.0), "{body}");
    assert_eq!(
        value_of(&body, "value_slow"),
        Some(2.0),
        "the slow group missed the change:\n{body}"
    );
    assert_eq!(value_of(&body, "value_late"), Some(7.0));
    assert_eq!(
        value_of(&body, late_up),
        Some(1.0),
        "a source that recovers is up again"
    );
    drop(served);
}
