//! Configuring the real binary from its environment: every flag has a
//! `PME_*` variable, other exporters' variables are read as aliases, and
//! a flag beats a variable, which beats an alias, which beats a default.
//! Log lines are logfmt or JSON, never with colour codes.

use std::process::Output;

use crate::util::{Dir, Exporter, family_value, get, pme_command};

fn once(env: &[(&str, &str)], flags: &[&str]) -> Output {
    pme_command()
        .arg("--once")
        .args(flags)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn variables_configure_pme_and_flags_win() {
    let dir = Dir::new("environment");
    let d = dir.display();

    // A PME_* variable for a flag.
    let out = once(&[("PME_TEXTFILE_DIRECTORY", &d)], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = std::fs::read_to_string(dir.join("pme.prom")).unwrap();
    assert!(family_value(&written, "node_load1").is_some(), "{written}");

    // An alias: seed-style PROMETHEUS_FILE names the textfile.
    let file = format!("{d}/metrics.prom");
    let out = once(
        &[("EXPORT_FORMAT", "prometheus"), ("PROMETHEUS_FILE", &file)],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.join("metrics.prom").is_file());

    // Flag > PME_* > alias.
    let out = once(
        &[
            ("PME_TEXTFILE_DIRECTORY", &d),
            ("PME_TEXTFILE_NAME", "from-variable"),
            ("PROMETHEUS_FILE", "/nonexistent/alias.prom"),
        ],
        &["--textfile.name=from-flag"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.join("from-flag.prom").is_file());
    assert!(!dir.join("from-variable.prom").exists());

    // ENABLED_COLLECTORS (and PME_COLLECTORS_ENABLED) choose groups.
    let out = once(&[("ENABLED_COLLECTORS", "node/load, kernel")], &[]);
    let metrics = String::from_utf8(out.stdout).unwrap();
    assert!(family_value(&metrics, "node_load1").is_some(), "{metrics}");
    assert!(metrics.contains("pme_system_kernel_info"), "{metrics}");
    assert!(!metrics.contains("node_memory_"), "{metrics}");
    assert_eq!(metrics.matches("\npme_source_up{").count(), 2, "{metrics}");

    // What pme cannot honour stops it, naming the variable.
    for (env, reason) in [
        (
            ("ENABLED_COLLECTORS", "nonesuch"),
            "`nonesuch` is no service or group",
        ),
        (
            ("COLLECTION_INTERVAL", "7"),
            "compiled in from the spec (15s",
        ),
        (
            ("METRICS_PORT", "http"),
            "METRICS_PORT=`http` is not a port",
        ),
        (("EXPORT_FORMAT", "otlp"), "needs an endpoint"),
        (("LOG_LEVEL", "loud"), "LOG_LEVEL=`loud` is not a level"),
        (("PME_LOG_FORMAT", "xml"), "invalid value 'xml'"),
    ] {
        let out = once(&[env], &[]);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(reason), "{env:?}: {}", stderr(&out));
    }
    let out = once(&[("COLLECTION_INTERVAL", "15")], &[]);
    assert!(out.status.success(), "the compiled tick itself is accepted");

    // A flag beats an alias while serving too.
    let pme = Exporter::start_with_env(&[("METRICS_PORT", "1")], &[]);
    assert_eq!(get(pme.metrics, "/metrics").status, 200);
}

#[test]
fn log_lines_are_logfmt_or_json_without_colour() {
    let out = once(&[], &[]);
    let text = stderr(&out);
    assert!(!text.contains('\u{1b}'), "{text}");
    for line in text.lines() {
        assert!(
            line.starts_with("ts=") && line.contains(" level="),
            "{line}"
        );
    }
    assert!(
        text.contains(r#"level=info msg="host environment" environment="#),
        "the environment detected is logged at start: {text}"
    );
    // The alias sets the level: nothing below an error is written.
    let quiet = stderr(&once(&[("LOG_LEVEL", "ERROR")], &[]));
    assert!(quiet.is_empty(), "{quiet}");

    let out = once(&[("PME_LOG_FORMAT", "json")], &[]);
    let text = stderr(&out);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        for key in ["ts", "level", "msg"] {
            assert!(line[key].is_string(), "{key} in {line}");
        }
    }
    let environment = lines
        .iter()
        .find(|l| l["msg"] == "host environment")
        .expect("the environment detected is logged");
    assert!(environment["environment"].is_string(), "{environment}");

    // A failing group: one line with its service, group and reason.
    let procfs = Dir::new("environment-empty-procfs");
    let out = once(
        &[("PME_LOG_FORMAT", "json")],
        &[&format!("--path.procfs={}", procfs.display())],
    );
    let failures: Vec<serde_json::Value> = stderr(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["msg"] == "collection failed" && l["group"] == "load")
        .collect();
    assert_eq!(failures.len(), 1, "{}", stderr(&out));
    assert_eq!(failures[0]["service"], "node");
    assert_eq!(failures[0]["level"], "warn");
    assert!(
        failures[0]["reason"].as_str().unwrap().contains("loadavg"),
        "{}",
        failures[0]
    );
}
