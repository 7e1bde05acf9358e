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

/// Removes a `shop_tenant_orders_total` series when dropped, even when the
/// test fails, so the family's 3 places are free for the next test.
struct Removed([&'static str; 2]);

impl Removed {
    fn on_drop(labels: [&'static str; 2]) -> Removed {
        Removed(labels)
    }
}

impl Drop for Removed {
    fn drop(&mut self) {
        instruments::shop::INSTRUMENTS
            .tenant_orders_total
            .remove(self.0);
    }
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
    // The same through pme::testing, on the plan's instruments directly,
    // with the labels in another order than the exposition's.
    pme::assert_series!(instruments::PLAN, r#"shop_carts_open{region="eu"}"#, 7.0);
    pme::assert_series!(
        instruments::PLAN,
        r#"shop_orders_total{outcome="ok",payment="card",region="eu"}"#,
        ok0 + 3.0
    );
}

#[test]
fn both_formats_carry_the_same_samples_for_the_strict_parser() {
    let _guard = lock();
    let tenant = "acme \"quoted\" \\ tenant";
    // The family holds 3 series: take one, and give it back at the end so
    // the other tests see the family as they would alone.
    let _tenant = Removed::on_drop(["card", tenant]);
    shop::tenant_orders_total(Payment::Card, tenant).inc();
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
    // This spec's own families: the process-wide refusal counters and the
    // collection timings may change between the two bodies.
    let samples = |id: &str| -> Vec<String> {
        let result = &read[id];
        assert!(result.get("error").is_none(), "{id}: {result}");
        let mut all: Vec<String> = result["families"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["samples"].as_array().unwrap().clone())
            .filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with("shop_")))
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
    // The limit is 3, and the family starts empty: every test gives back
    // the series it takes.
    let tenants = ["t1", "t2", "t3", "t4", "t5"];
    let _taken = tenants.map(|t| Removed::on_drop(["invoice", t]));
    for tenant in tenants {
        shop::tenant_orders_total(Payment::Invoice, tenant).inc();
    }
    let (body, _) = crate::embedded::once(&instruments::PLAN);
    let series = body
        .lines()
        .filter(|l| l.starts_with("shop_tenant_orders_total{"))
        .count();
    assert_eq!(series, 3, "{body}");
    assert!(rejected(&body) >= refused_before + 2.0, "{body}");
    for t in ["t1", "t2", "t3"] {
        assert!(body.contains(&format!("tenant=\"{t}\"")), "{body}");
    }
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
fn a_served_body_is_reused_until_the_cache_lifetime_has_passed() {
    let _guard = lock();
    let served = Served::start(&instruments::PLAN);
    let series = r#"shop_flushed_total{region="eu"}"#;
    let read = || value_of(&scrape(&served), series).expect("the counter");
    // After the group's first collection, the body changes only with the
    // cache window (the next collection is a tick of 15 s away).
    wait_for(Duration::from_secs(10), "the collected group", || {
        scrape(&served)
            .contains("shop_items_in_stock{region=\"eu\"} 42")
            .then_some(())
    });
    pme::testing::freeze_clock();
    pme::instrument::flush();
    let start = read();
    shop::flushed_total().inc();
    // Same cache window: the same body, without the update.
    assert_eq!(read(), start);
    pme::testing::advance_clock(pme::instrument::CACHE_TTL / 2);
    assert_eq!(
        read(),
        start,
        "half the lifetime later, still the same body"
    );
    pme::testing::advance_clock(pme::instrument::CACHE_TTL);
    assert_eq!(read(), start + 1.0, "past the lifetime, a new body");
    pme::testing::thaw_clock();
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

/// The example of docs/library.md, "Without a spec", as written there.
mod derived {
    use pme::instrument::{BoundedFamily, Counter, Family, Gauge, Histogram};

    #[derive(Clone, Copy, Debug, pme::LabelValue)]
    pub enum Status {
        Ok,
        #[label("error")]
        Failed,
    }

    #[derive(Debug, pme::Instruments)]
    #[instruments(prefix = "shop", max_series = 10000)]
    pub struct Metrics {
        /// Orders placed, by outcome.
        #[counter(labels("status"))]
        pub orders_total: Family<Status, Counter>,
        /// Time to place an order.
        #[histogram(buckets(0.1, 0.5, 1, 5))]
        pub order_duration_seconds: Histogram,
        /// Carts open now.
        #[gauge]
        pub carts_open: Gauge,
        /// Orders per customer.
        #[counter(labels("customer"), max_series = 500)]
        pub customer_orders_total: BoundedFamily<Counter, 1>,
    }

    /// A registry budget smaller than its families' own limits.
    #[derive(Debug, pme::Instruments)]
    #[instruments(prefix = "budget_test", max_series = 3)]
    pub struct Budgeted {
        /// First family.
        #[counter(labels("key"), max_series = 10)]
        pub a_total: BoundedFamily<Counter, 1>,
        /// Second family.
        #[gauge(labels("key"), max_series = 10)]
        pub b: BoundedFamily<Gauge, 1>,
    }
}

#[test]
fn the_derive_of_the_library_docs_encodes_what_it_declares() {
    use pme::instrument::Instruments as _;
    let metrics = derived::Metrics::default();
    metrics.orders_total.get(derived::Status::Ok).inc();
    metrics.order_duration_seconds.observe(0.7);
    metrics.carts_open.set(2.0);
    metrics.customer_orders_total.with(["acme"]).inc();
    let mut body = Vec::new();
    metrics.encode(&mut body, pme::Format::Prometheus);
    let body = String::from_utf8(body).unwrap();
    let expected = "\
# HELP shop_orders_total Orders placed, by outcome.
# TYPE shop_orders_total counter
shop_orders_total{status=\"ok\"} 1
shop_orders_total{status=\"error\"} 0
# HELP shop_order_duration_seconds Time to place an order.
# TYPE shop_order_duration_seconds histogram
shop_order_duration_seconds_bucket{le=\"0.1\"} 0
shop_order_duration_seconds_bucket{le=\"0.5\"} 0
shop_order_duration_seconds_bucket{le=\"1\"} 1
shop_order_duration_seconds_bucket{le=\"5\"} 1
shop_order_duration_seconds_bucket{le=\"+Inf\"} 1
shop_order_duration_seconds_sum 0.7
shop_order_duration_seconds_count 1
# HELP shop_carts_open Carts open now.
# TYPE shop_carts_open gauge
shop_carts_open 2
# HELP shop_customer_orders_total Orders per customer.
# TYPE shop_customer_orders_total counter
shop_customer_orders_total{customer=\"acme\"} 1
";
    assert_eq!(body, expected);
    promtool_accepts(body.as_bytes());
    let mut om = Vec::new();
    metrics.encode(&mut om, pme::Format::OpenMetrics);
    let om = String::from_utf8(om).unwrap();
    assert!(
        om.starts_with(
            "# TYPE shop_orders counter\n# HELP shop_orders Orders placed, by outcome.\n"
        ),
        "{om}"
    );
}

#[test]
fn a_registry_budget_is_shared_by_its_families() {
    let budgeted = derived::Budgeted::default();
    budgeted.a_total.with(["1"]).inc();
    budgeted.a_total.with(["2"]).inc();
    budgeted.b.with(["1"]).set(1.0);
    // The fourth series is past the struct's budget of 3, not the family's 10.
    budgeted.b.with(["2"]).set(1.0);
    assert_eq!((budgeted.a_total.len(), budgeted.b.len()), (2, 1));
    assert!(budgeted.b.remove(["1"]));
    budgeted.a_total.with(["3"]).inc();
    assert_eq!(budgeted.a_total.len(), 3);
    pme::assert_series!(budgeted, r#"budget_test_a_total{key="3"}"#, 1.0);
    assert_eq!(
        pme::testing::value(&budgeted, r#"budget_test_b{key="2"}"#),
        None
    );
}
