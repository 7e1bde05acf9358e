//! Assertions on what pme exposes, for the tests of applications that use
//! it (and pme's own): read a series' value by its name and labels, in any
//! label order, from an exposition, an instrument set or a plan's
//! instruments.
//!
//! ```
//! use pme::instrument::{Counter, Family};
//!
//! #[derive(Clone, Copy, Debug, pme::LabelValue)]
//! enum Status { Ok, Error }
//!
//! #[derive(Debug, pme::Instruments)]
//! struct Metrics {
//!     /// Requests by outcome.
//!     #[counter(labels("status"))]
//!     requests_total: Family<Status, Counter>,
//! }
//!
//! let metrics = Metrics::default();
//! metrics.requests_total.get(Status::Error).inc_by(3.0);
//! pme::assert_series!(metrics, r#"requests_total{status="error"}"#, 3.0);
//! pme::assert_series!(metrics, r#"requests_total{status="ok"}"#, 0.0);
//! ```

use pme_content::exposition::{Format, parse};

use crate::instrument::Instruments;
use crate::plan::Plan;

/// Stops the clock of the instruments' body cache
/// ([`CACHE_TTL`](crate::instrument::CACHE_TTL)) at the start of the
/// current second, process-wide, so a test
/// decides when a served body expires: [`advance_clock`] moves it,
/// [`thaw_clock`] lets it run again. Tests that freeze it must not run
/// beside tests that rely on it running (serialize them, e.g. with a
/// `Mutex`).
pub fn freeze_clock() {
    crate::instrument::clock::freeze();
}

/// Moves a frozen clock forward.
pub fn advance_clock(by: std::time::Duration) {
    crate::instrument::clock::advance(by);
}

/// Lets the clock run from real time again.
pub fn thaw_clock() {
    crate::instrument::clock::thaw();
}

/// Something whose exposition (text format 0.0.4) a test reads.
pub trait Exposed {
    /// The exposition text.
    fn exposition(&self) -> String;
}

impl Exposed for str {
    fn exposition(&self) -> String {
        self.to_owned()
    }
}

impl Exposed for String {
    fn exposition(&self) -> String {
        self.clone()
    }
}

impl<T: Instruments> Exposed for T {
    fn exposition(&self) -> String {
        let mut out = Vec::new();
        self.encode(&mut out, Format::Prometheus);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// A plan's application instruments (its collected groups are not read).
impl Exposed for Plan {
    fn exposition(&self) -> String {
        let mut out = Vec::new();
        for i in self.instruments {
            (i.encode)(&mut out, Format::Prometheus);
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// One sample: its name, labels sorted by name, and value.
type Sample = (String, Vec<(String, String)>, f64);

fn samples(text: &str) -> Result<Vec<Sample>, String> {
    let families = parse(text.as_bytes(), Format::Prometheus, false)
        .map_err(|e| format!("line {}: {}", e.line, e.message))?;
    Ok(families
        .into_iter()
        .flat_map(|f| f.samples)
        .map(|s| {
            let mut labels: Vec<(String, String)> = s
                .labels
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            labels.sort();
            (s.name.into_owned(), labels, s.value)
        })
        .collect())
}

/// The value of the series written `series` (`name` or
/// `name{label="value",…}`, the whole label set in any order) in
/// `source`'s exposition; `None` when it has no such series.
///
/// # Panics
/// `series` is not a series selector, or the exposition does not parse.
pub fn value(source: &(impl Exposed + ?Sized), series: &str) -> Option<f64> {
    let wanted = wanted(series);
    let text = source.exposition();
    let all =
        samples(&text).unwrap_or_else(|e| panic!("the exposition does not parse: {e}\n{text}"));
    all.into_iter()
        .find(|(name, labels, _)| *name == wanted.0 && *labels == wanted.1)
        .map(|(_, _, v)| v)
}

fn wanted(series: &str) -> (String, Vec<(String, String)>) {
    let mut one = samples(&format!("{series} 0\n"))
        .unwrap_or_else(|e| panic!("`{series}` is not a series (`name{{label=\"value\"}}`): {e}"));
    match (one.pop(), one.is_empty()) {
        (Some((name, labels, _)), true) => (name, labels),
        _ => panic!("`{series}` is not one series"),
    }
}

/// Asserts that `source` exposes `series` with the value `expected` (NaN
/// matches NaN); otherwise panics with the series of the same name that
/// it does expose.
///
/// # Panics
/// When the series is missing or has another value.
#[track_caller]
pub fn assert_series(source: &(impl Exposed + ?Sized), series: &str, expected: f64) {
    let wanted = wanted(series);
    let text = source.exposition();
    let all =
        samples(&text).unwrap_or_else(|e| panic!("the exposition does not parse: {e}\n{text}"));
    let found = all
        .iter()
        .find(|(name, labels, _)| *name == wanted.0 && *labels == wanted.1);
    match found {
        Some((_, _, v)) if *v == expected || (v.is_nan() && expected.is_nan()) => {}
        Some((_, _, v)) => panic!("`{series}` is {v}, expected {expected}"),
        None => {
            let same_name: Vec<String> = text
                .lines()
                .filter(|l| l.starts_with(wanted.0.as_str()))
                .map(str::to_owned)
                .collect();
            panic!(
                "no series `{series}`; series of that name:\n{}",
                if same_name.is_empty() {
                    "(none)".to_owned()
                } else {
                    same_name.join("\n")
                }
            );
        }
    }
}

/// Asserts that a series has a value: `assert_series!(source, r#"name{a="b"}"#, 3.0)`,
/// where `source` is an exposition (`&str`, `String`), an instrument set
/// (`#[derive(pme::Instruments)]`) or a `Plan` (its instruments). See
/// [`testing`](crate::testing).
#[macro_export]
macro_rules! assert_series {
    ($source:expr, $series:expr, $value:expr $(,)?) => {
        $crate::testing::assert_series(&$source, $series, $value)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str =
        "# TYPE a_total counter\na_total{x=\"1\",y=\"2\"} 3\na_total{x=\"1\"} 4\nb NaN\n";

    #[test]
    fn finds_a_series_by_its_whole_label_set_in_any_order() {
        assert_eq!(value(BODY, r#"a_total{y="2",x="1"}"#), Some(3.0));
        assert_eq!(value(BODY, r#"a_total{x="1"}"#), Some(4.0));
        assert_eq!(value(BODY, r#"a_total{y="2"}"#), None);
        assert_eq!(value(BODY, "a_total"), None);
        assert_series(BODY, "b", f64::NAN);
    }

    #[test]
    #[should_panic(expected = "is 3, expected 5")]
    fn a_wrong_value_names_both() {
        assert_series(BODY, r#"a_total{x="1",y="2"}"#, 5.0);
    }

    #[test]
    #[should_panic(expected = "a_total{x=\"1\"} 4")]
    fn a_missing_series_lists_its_family() {
        assert_series(BODY, r#"a_total{x="9"}"#, 1.0);
    }
}
