//! The status page `/` in a real headless Chromium: with a group that
//! fails (an empty procfs) next to healthy ones and an output that cannot
//! send, the DOM Chromium built says which is which, without JavaScript.
//! A screenshot is kept under `target/tmp/` as an artifact.

use std::process::Command;

use crate::util::http_server::TestServer;
use crate::util::{Dir, Exporter, peer, wait_for};

/// Chromium, headless, with its profile in `profile`, on `url`, with
/// `what` (`--dump-dom`, `--screenshot=…`).
fn chromium(
    binary: &std::path::Path,
    profile: &Dir,
    what: &str,
    url: &str,
) -> std::process::Output {
    Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--window-size=1280,1000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(what)
        .arg(url)
        .output()
        .expect("run chromium")
}

#[test]
fn the_status_page_shows_failing_and_healthy_groups_in_a_browser() {
    let Some(browser) = peer("chromium", "chromium") else {
        return;
    };
    let procfs = Dir::new("page-empty-procfs");
    let receiver = TestServer::start();
    let pme = Exporter::start(&[
        &format!("--path.procfs={}", procfs.display()),
        &format!(
            "--remote-write.url=http://{}/api/v1/write",
            receiver.refused
        ),
    ]);
    let url = format!("http://{}/", pme.metrics);
    let profile = Dir::new("page-chromium-profile");
    // The page once every group has been collected and the output tried.
    let dom = wait_for(
        std::time::Duration::from_secs(30),
        "a complete page",
        || {
            let out = chromium(&browser, &profile, "--dump-dom", &url);
            let dom = String::from_utf8(out.stdout).ok()?;
            // The first send fails after the first collection.
            let complete = !dom.contains("data-state=\"pending\"")
                && dom.contains(r#"data-output="remote_write" data-state="down""#);
            complete.then_some(dom)
        },
    );
    assert!(
        dom.contains("<meta http-equiv=\"refresh\" content=\"5\">"),
        "the page refreshes itself: {dom}"
    );
    assert!(
        dom.contains(r#"data-service="node" data-group="load" data-state="down""#),
        "{dom}"
    );
    assert!(
        dom.contains(r#"data-service="pme" data-group="spec" data-state="up""#),
        "{dom}"
    );
    assert!(dom.contains("loadavg: No such file or directory"), "{dom}");
    assert!(
        dom.contains(r#"data-output="remote_write" data-state="down""#),
        "{dom}"
    );
    assert!(dom.contains("Connection refused"), "{dom}");
    let down = dom
        .lines()
        .filter(|l| l.contains("data-group=") && l.contains(r#"data-state="down""#))
        .count();
    assert!(
        dom.contains(&format!("groups, {down} down")),
        "the summary counts the {down} groups down: {dom}"
    );

    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    let _ = std::fs::remove_file(&shot);
    let out = chromium(
        &browser,
        &profile,
        &format!("--screenshot={}", shot.display()),
        &url,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    eprintln!("screenshot of the status page: {}", shot.display());
}
