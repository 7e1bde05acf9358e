//! Application instruments declared in a spec (`tests/specs/instruments.yaml`):
//! the generated handles update them, and `/metrics` serves them beside a
//! collected group, valid for promtool and client_python's strict
//! OpenMetrics parser, with closed label sets exposed from the start and
//! free-text label sets refused past `max_series`, counted.
//!
//! The instruments are process-wide statics, so the tests here take
//! [`LOCK`] and no other test file uses this spec.

use std::sync::Mutex;
use std::time::Duration;

use crate::embedded::{Served, instruments};
use crate::util::{get, promtool_accepts, value_of, wait_for};
use instruments::shop::{self, Outcome, Payment};

static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn scrape(served: &Served) -> String {
    get(served.metrics, "/metrics").text()
}

#[test]
fn handles_update_the_served_series_and_every_combination_exists_from_the_start() {
    let _guard = lock();
    let served = Served::start(&instruments::PLAN);
    let before = |body: &str, series: &str| {
        value_of(body, series).unwrap_or_else(|| panic!("{series} missing:\n{body}"))
    };
    let first = wait_for(Duration::from_secs(10), "the collected group", || {
        let body = scrape(&served);
        body.contains("shop_items_in_stock{region=\"eu\"} 42")
            .then_some(body)
    });
    // Every declared combination is there before any update, at its value.
    let card_ok = r#"shop_orders_total{region="eu",payment="card",outcome="ok"}"#;
    let invoice_5xx = r#"shop_orders_total{region="eu",payment="invoice",outcome="5xx"}"#;
    let (ok0, err0) = (before(&first, card_ok), before(&first, invoice_5xx));
    let bucket = r#"shop_checkout_duration_seconds_bucket{region="eu",payment="card",le="0.5"}"#;
    let count = r#"shop_checkout_duration_seconds_count{region="eu",payment="card"}"#;
    let (bucket0, count0) = (before(&first, bucket), before(&first, count));

    shop::orders_total(Payment::Card, Outcome::Ok).inc();
    shop::orders_total(Payment::Card, Outcome::Ok).inc_by(2.0);
    shop::orders_total(Payment::Invoice, Outcome::V5xx).inc();
    shop::checkout_duration_seconds(Payment::Card).observe(0.3);
    shop::checkout_duration_seconds(Payment::Card).observe(3.0);
    shop::carts_open().set(7.0);
    pme::instrument::flush();

    let body = scrape(&served);
    assert_eq!(before(&body, card_ok), ok0 + 3.0, "{body}");
    assert_eq!(before(&body, invoice_5xx), err0 + 1.0, "{body}");
    assert_eq!(before(&body, bucket), bucket0 + 1.0, "{body}");
    assert_eq!(before(&body, count), count0 + 2.0, "{body}");
    assert_eq!(
        before(&body, r#"shop_carts_open{region="eu"}"#),
        7.0,
        "{body}"
    );
    assert!(
        body.contains("# TYPE shop_checkout_duration_seconds histogram\n"),
        "{body}"
    );
    assert!(
        body.contains(
            r#"shop_checkout_duration_seconds_bucket{region="eu",payment="invoice",le="+Inf"} "#
        ),
        "{body}"
    );
    promtool_accepts(body.as_bytes());
}

#[test]
fn both_formats_carry_the_same_samples_for_the_strict_parser() {
    let _guard = lock();
    shop::tenant_orders_total(Payment::Card, "acme \"quoted\" \\ tenant").inc();
    shop::checkout_duration_seconds(Payment::Invoice).observe(0.05);
    let (text, openmetrics) = crate::embedded::once_in_both_formats(&instruments::PLAN);
    assert!(
        openmetrics.contains("# TYPE shop_orders counter\n"),
        "{openmetrics}"
    );
    promtool_accepts(text.as_bytes());
    let cases = vec![
        ("text".to_owned(), "text", text),
        ("om".to_owned(), "openmetrics", openmetrics),
    ];
    let Some(read) = crate::exposition_suites::python_reads(&cases) else {
        return;
    };
    let samples = |id: &str| -> Vec<String> {
        let result = &read[id];
        assert!(result.get("error").is_none(), "{id}: {result}");
        let mut all: Vec<String> = result["families"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["samples"].as_array().unwrap().clone())
            .map(|s| format!("{} {} {}", s["name"], s["labels"], s["value"]))
            .collect();
        all.sort();
        all
    };
    let text = samples("text");
    assert!(
        text.iter()
            .any(|s| s.contains("acme \\\"quoted\\\" \\\\ tenant")),
        "{text:#?}"
    );
    assert_eq!(text, samples("om"));
}

#[test]
fn free_text_label_sets_past_max_series_are_refused_and_counted() {
    let _guard = lock();
    let rejected = |body: &str| {
        value_of(
            body,
            r#"pme_cardinality_rejected_total{metric="shop_tenant_orders_total",reason="max_series"}"#,
        )
        .unwrap_or_else(|| panic!("no rejection counter:\n{body}"))
    };
    let (body, _) = crate::embedded::once(&instruments::PLAN);
    let refused_before = rejected(&body);
    // The limit is 3: whatever earlier tests created, at most 3 exist.
    for tenant in ["t1", "t2", "t3", "t4", "t5"] {
        shop::tenant_orders_total(Payment::Invoice, tenant).inc();
    }
    let (body, _) = crate::embedded::once(&instruments::PLAN);
    let series = body
        .lines()
        .filter(|l| l.starts_with("shop_tenant_orders_total{"))
        .count();
    assert_eq!(series, 3, "{body}");
    assert!(rejected(&body) >= refused_before + 2.0, "{body}");
    // A refused handle works, and its updates go nowhere visible.
    let refused = shop::tenant_orders_total(Payment::Invoice, "t6");
    refused.inc();
    let (after, _) = crate::embedded::once(&instruments::PLAN);
    assert!(!after.contains("tenant=\"t6\""), "{after}");
    // Over-long values are refused too, never cut short.
    let long = "x".repeat(pme::instrument::MAX_LABEL_VALUE_BYTES + 1);
    shop::tenant_orders_total(Payment::Card, &long).inc();
    let (after, _) = crate::embedded::once(&instruments::PLAN);
    assert!(!after.contains(&long[..100]), "a refused value was exposed");
    assert!(
        value_of(
            &after,
            r#"pme_cardinality_rejected_total{metric="shop_tenant_orders_total",reason="value_too_long"}"#
        )
        .is_some_and(|v| v >= 1.0),
        "{after}"
    );
}

#[test]
fn flush_shows_an_update_at_once_and_the_cache_expires_within_its_lifetime() {
    let _guard = lock();
    let served = Served::start(&instruments::PLAN);
    let series = r#"shop_flushed_total{region="eu"}"#;
    let read = || value_of(&scrape(&served), series).expect("the counter");
    let start = read();
    shop::flushed_total().inc();
    pme::instrument::flush();
    assert_eq!(read(), start + 1.0, "flush shows an update at once");
    // Without a flush the update shows within the cache's lifetime.
    shop::flushed_total().inc();
    wait_for(
        pme::instrument::CACHE_TTL * 3,
        "the update after the cache lifetime",
        || (read() == start + 2.0).then_some(()),
    );
}
