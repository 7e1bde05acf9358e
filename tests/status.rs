//! The status API on the real binary's health listener: `/status`,
//! `/collectors` and `/health` under `status:read`, `POST /collect` under
//! `admin` and at most once a second. The JSON shapes (keys and value
//! types, not the values) are snapshots: a change to them is a change to
//! what operators' tools read.

use std::time::Duration;

use crate::util::{Dir, Exporter, request_with, wait_for};

const STATUS_TOKEN: &str = "pme-test-status-4b1f0e";
const ADMIN_TOKEN: &str = "pme-test-admin-77c2d9";

/// The keys and value types of `value`: objects keep their keys, arrays
/// show their first element, scalars their type.
fn shape(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => Value::Array(items.first().map(shape).into_iter().collect()),
        Value::String(_) => "string".into(),
        Value::Number(_) => "number".into(),
        Value::Bool(_) => "bool".into(),
        Value::Null => "null".into(),
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap()
}

#[test]
fn status_collectors_and_collect_on_demand() {
    let dir = Dir::new("status-api");
    dir.write("status.token", STATUS_TOKEN);
    dir.write("admin.token", ADMIN_TOKEN);
    let config = dir.write(
        "web.yml",
        "bearer_tokens:\n\
         \x20 - {name: dashboard, token_file: status.token, scopes: ['status:read']}\n\
         \x20 - {name: operator, token_file: admin.token, scopes: [admin]}\n",
    );
    let pme = Exporter::start(&[
        &format!("--web.config.file={}", config.display()),
        &format!("--textfile.directory={}", dir.display()),
    ]);
    let status_auth = format!("Bearer {STATUS_TOKEN}");
    let admin_auth = format!("Bearer {ADMIN_TOKEN}");
    let call = |method: &str, path: &str, auth: &str| {
        request_with(pme.health, method, path, &[("Authorization", auth)])
    };
    let get_json = |path: &str| -> serde_json::Value {
        let r = call("GET", path, &status_auth);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        serde_json::from_slice(&r.body).unwrap()
    };

    // Every group collected once and every output written once: the
    // document is complete.
    let status = wait_for(Duration::from_secs(20), "every group collected", || {
        let s = get_json("/status");
        let collected = s["groups"]
            .as_array()?
            .iter()
            .all(|g| g["state"] != "pending");
        let written = s["outputs"]
            .as_array()?
            .iter()
            .all(|o| !o["last_success"].is_null());
        (collected && written).then_some(s)
    });
    assert_eq!(status["spec"], "metrics.yaml");
    assert_eq!(status["spec_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(status["tick_seconds"], 15.0);
    let kind = status["environment"]["kind"].as_str().unwrap();
    assert!(["host", "lxc", "proxmox"].contains(&kind), "{kind}");
    let load = status["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["service"] == "node" && g["group"] == "load")
        .expect("node/load in /status")
        .clone();
    assert_eq!(load["state"], "up");
    let started = status["started"].as_f64().unwrap();
    let next_due = load["next_due"].as_f64().unwrap();
    assert!(
        next_due > started
            && next_due <= started + status["uptime_seconds"].as_f64().unwrap() + 15.0
    );
    insta::assert_snapshot!("status", pretty(&shape(&status)));

    let collectors = get_json("/collectors");
    let load_collector = collectors
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["group"] == "load")
        .unwrap();
    assert_eq!(load_collector["source"], "collector");
    assert!(
        load_collector["families"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "node_load1" && f["type"] == "gauge"),
        "{load_collector}"
    );
    insta::assert_snapshot!("collectors", pretty(&shape(&collectors)));

    let health = get_json("/health");
    assert_eq!(health["exporter_healthy"], true);
    assert_eq!(health["outputs"][0]["name"], "textfile");
    insta::assert_snapshot!("health", pretty(&shape(&health)));

    // POST /collect: admin only, one a second, answered when done.
    let before = load["collections"].as_u64().unwrap();
    assert_eq!(
        call("POST", "/collect?service=node&group=load", &status_auth).status,
        403
    );
    let r = call("POST", "/collect?service=node&group=load", &admin_auth);
    assert_eq!(r.status, 200, "{}", r.text());
    let collected: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(collected["collected"][0]["group"], "load");
    assert_eq!(collected["collected"][0]["up"], true);
    insta::assert_snapshot!("collect", pretty(&shape(&collected)));
    let again = call("POST", "/collect?service=node&group=load", &admin_auth);
    assert_eq!(again.status, 429, "{}", again.text());
    let after = get_json("/status")["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == "load")
        .unwrap()["collections"]
        .as_u64()
        .unwrap();
    assert_eq!(
        after,
        before + 1,
        "one collection on demand, between the 15 s ticks"
    );

    // ?debug on the real binary's `system` service (commands, a file, a
    // static value): each group read now, admin only.
    let debug = request_with(
        pme.metrics,
        "GET",
        "/metrics/system?debug",
        &[("Authorization", &admin_auth)],
    );
    assert_eq!(debug.status, 200, "{}", debug.text());
    let doc: serde_json::Value = serde_json::from_slice(&debug.body).unwrap();
    let groups = doc["groups"].as_array().unwrap();
    assert!(
        groups
            .iter()
            .all(|g| g["outcome"] == "read" && g["metrics"].is_string()),
        "{doc}"
    );
    assert!(
        groups
            .iter()
            .any(|g| g["exit_code"] == 0 && g["reading"].is_string()),
        "a command's reading: {doc}"
    );
    let as_status_reader = request_with(
        pme.metrics,
        "GET",
        "/metrics/system?debug",
        &[("Authorization", &status_auth)],
    );
    assert_eq!(as_status_reader.status, 403);

    // Bad requests are 4xx with the reason, and nothing is collected.
    std::thread::sleep(Duration::from_millis(1100));
    for (method, path, status) in [
        ("POST", "/collect?service=nonesuch", 404),
        ("POST", "/collect?group=load", 400),
        ("POST", "/collect?service=node&service=pme", 400),
        ("GET", "/collect", 405),
        ("POST", "/status", 405),
    ] {
        let r = call(method, path, &admin_auth);
        assert_eq!(r.status, status, "{method} {path}: {}", r.text());
    }
    assert_eq!(
        request_with(pme.health, "GET", "/status", &[]).status,
        401,
        "no credentials"
    );
}

/// `?debug` on a scheduled service, in-process: admin only; each group's
/// reading, exit code, error (with the failed command's stderr) and the
/// metrics it yields.
#[test]
fn debug_shows_each_reading_to_an_admin() {
    use crate::embedded::{Served, debug};
    let dir = Dir::new("status-debug");
    dir.write("status.token", STATUS_TOKEN);
    dir.write("admin.token", ADMIN_TOKEN);
    let config = dir.write(
        "web.yml",
        "bearer_tokens:\n\
         \x20 - {name: dashboard, token_file: status.token, scopes: ['status:read', 'metrics:read']}\n\
         \x20 - {name: operator, token_file: admin.token, scopes: [admin]}\n",
    );
    let served = Served::start_with(
        &debug::PLAN,
        &[&format!("--web.config.file={}", config.display())],
    );
    let call = |auth: &str| {
        request_with(
            served.metrics,
            "GET",
            "/metrics/app?debug",
            &[("Authorization", auth)],
        )
    };
    assert_eq!(
        request_with(served.metrics, "GET", "/metrics/app?debug", &[]).status,
        401
    );
    let reader = call(&format!("Bearer {STATUS_TOKEN}"));
    assert_eq!(reader.status, 403, "metrics:read does not see readings");
    // Not while a scheduled collection reads (?debug never reads a source
    // twice at once: that group says `busy`).
    let doc: serde_json::Value = wait_for(
        Duration::from_secs(10),
        "a debug call with no read running",
        || {
            let r = call(&format!("Bearer {ADMIN_TOKEN}"));
            assert_eq!(r.status, 200, "{}", r.text());
            let doc: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            let busy = doc["groups"]
                .as_array()?
                .iter()
                .any(|g| g["outcome"] == "busy");
            (!busy).then_some(doc)
        },
    );
    assert_eq!(doc["service"], "app");
    let group = |id: &str| {
        doc["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == id)
            .unwrap_or_else(|| panic!("{id} in {doc}"))
            .clone()
    };
    let queue = group("queue");
    assert_eq!(queue["outcome"], "read");
    assert_eq!(queue["exit_code"], 0);
    assert!(
        queue["reading"]
            .as_str()
            .unwrap()
            .contains("secret-token-in-the-reading")
    );
    assert!(
        queue["metrics"]
            .as_str()
            .unwrap()
            .contains("app_queue_depth 7"),
        "{queue}"
    );
    assert!(
        queue["source"]
            .as_str()
            .unwrap()
            .starts_with("command: printf")
    );
    let broken = group("broken");
    assert_eq!(broken["exit_code"], 3);
    assert!(
        broken["error"]
            .as_str()
            .unwrap()
            .contains("cannot reach the database"),
        "{broken}"
    );
    assert!(
        broken["metrics"]
            .as_str()
            .unwrap()
            .contains("app_broken -1"),
        "{broken}"
    );
    insta::assert_snapshot!("debug", pretty(&shape(&doc)));
    // The scheduled metrics never carry the reading.
    let metrics = request_with(
        served.metrics,
        "GET",
        "/metrics/app",
        &[("Authorization", &format!("Bearer {STATUS_TOKEN}"))],
    );
    assert!(
        !metrics.text().contains("secret-token"),
        "{}",
        metrics.text()
    );
}
