//! The exact exposition of a spec that uses every text feature.

use crate::embedded::{features, once};
use crate::util::{assert_valid_exposition, python_parse};

const ENV: &str = r#"env="test \"quoted\" \\ slash""#;

#[test]
fn features_spec_gives_exact_exposition() {
    let (body, all_ok) = once(&features::PLAN);
    assert!(all_ok, "every group should succeed:\n{body}");
    let families = body.split("# HELP pme_source_up").next().unwrap();
    let expected = format!(
        r#"# HELP app_queue_depth Items waiting per queue.\nSecond line with a \\ backslash.
# TYPE app_queue_depth gauge
app_queue_depth{{{ENV},queue="alpha",path="/q/alpha"}} 5
app_queue_depth{{{ENV},queue="beta",path="/q/beta"}} 7
# HELP app_build_info Version of the app.
# TYPE app_build_info gauge
app_build_info{{{ENV},version="1.2.3"}} 1
# HELP app_temperature_celsius Temperature.
# TYPE app_temperature_celsius gauge
app_temperature_celsius{{{ENV}}} -3.5
# HELP app_state Service state (1 ok, 0.5 degraded, 0 down).
# TYPE app_state gauge
app_state{{{ENV}}} 0.5
# HELP app_uptime_seconds_total Seconds since start.
# TYPE app_uptime_seconds_total counter
app_uptime_seconds_total{{{ENV}}} 12345
# HELP app_answer The answer.
# TYPE app_answer untyped
app_answer{{{ENV}}} 42
# HELP app_argv_info Arguments passed without a shell.
# TYPE app_argv_info gauge
app_argv_info{{{ENV},args="a b c"}} 1
"#
    );
    assert_eq!(families, expected, "got:\n{families}");
    assert_valid_exposition(body.as_bytes());
}

#[test]
fn python_parser_reads_the_same_values() {
    let (body, _) = once(&features::PLAN);
    let Some(samples) = python_parse(body.as_bytes()) else {
        return;
    };
    let find = |name: &str, label: (&str, &str)| {
        samples
            .iter()
            .find(|s| s.name == name && s.labels.get(label.0).map(String::as_str) == Some(label.1))
            .unwrap_or_else(|| panic!("{name} {label:?} missing"))
    };
    assert_eq!(find("app_queue_depth", ("queue", "beta")).value(), 7.0);
    assert_eq!(
        find(
            "app_temperature_celsius",
            ("env", "test \"quoted\" \\ slash")
        )
        .value(),
        -3.5
    );
    assert_eq!(
        find(
            "app_uptime_seconds_total",
            ("env", "test \"quoted\" \\ slash")
        )
        .kind,
        "counter"
    );
    assert_eq!(find("app_argv_info", ("args", "a b c")).value(), 1.0);
}
