//! Application metrics: instruments the application updates itself, as
//! opposed to groups pme collects from a source.
//!
//! - [`Counter`], [`Gauge`] and [`Histogram`] are a few atomics each; an
//!   update never locks or allocates.
//! - A label with declared values is an enum ([`LabelValue`]); a
//!   [`Family`] holds every combination in an array, so
//!   `family.get((Model::Large, Status::Ok))` is an index, and a value
//!   outside the set does not compile.
//! - A free-text label needs a limit: a [`BoundedFamily`] refuses new
//!   label sets past `max_series` (and past a registry-wide [`Budget`]),
//!   counting each refusal in `pme_cardinality_rejected_total`.
//! - `#[derive(pme::Instruments)]` on a struct of them precomputes every
//!   header and series prefix as bytes and implements [`Instruments`],
//!   which encodes the whole set in both formats.
//!
//! ```
//! use pme::instrument::{Counter, Family, Histogram, Instruments as _};
//!
//! #[derive(Clone, Copy, Debug, pme::LabelValue)]
//! enum Status {
//!     Ok,
//!     #[label("error")]
//!     Failed,
//! }
//!
//! #[derive(Debug, pme::Instruments)]
//! #[instruments(prefix = "shop")]
//! struct Metrics {
//!     /// Orders placed, by outcome.
//!     #[counter(labels("status"))]
//!     orders_total: Family<Status, Counter>,
//!     /// Time to place an order.
//!     #[histogram(buckets(0.1, 0.5, 1.0))]
//!     order_duration_seconds: Histogram,
//! }
//!
//! let metrics = Metrics::default();
//! metrics.orders_total.get(Status::Ok).inc();
//! metrics.order_duration_seconds.observe(0.3);
//! let mut out = Vec::new();
//! metrics.encode(&mut out, pme::Format::Prometheus);
//! let text = String::from_utf8(out).unwrap();
//! assert!(text.contains("shop_orders_total{status=\"ok\"} 1\n"));
//! assert!(text.contains("shop_orders_total{status=\"error\"} 0\n"));
//! assert!(text.contains("shop_order_duration_seconds_bucket{le=\"0.5\"} 1\n"));
//! ```

mod bounded;
pub(crate) mod build;
pub(crate) mod clock;
mod dynamic;
pub(crate) mod encode;
mod family;
mod labels;
pub(crate) mod rejections;
mod value;

pub use bounded::{BoundedFamily, Budget, MAX_LABEL_VALUE_BYTES};
pub use dynamic::{Apply, Mismatch, Target, Update};
pub use family::Family;
pub use labels::{LabelSet, LabelValue};
pub use rejections::Reason;
pub use value::{Counter, DEFAULT_BUCKETS, Gauge, Histogram};

use pme_content::exposition::Format;

/// A set of instruments that encodes itself: implemented by
/// `#[derive(pme::Instruments)]` and by the code generated for a spec's
/// `instruments:`.
pub trait Instruments: Send + Sync + 'static {
    /// Appends every family of the set, header and series.
    fn encode(&self, out: &mut Vec<u8>, format: Format);

    /// The family named `name`: its family name (`shop_orders_total`) or
    /// its field name (`orders_total`). The derive implements it.
    fn find(&self, name: &str) -> Option<Target<'_>> {
        let _ = name;
        None
    }
}

/// How long an exposition that includes instruments is reused: scrapes
/// within it share one body (ADR-002 of the in-application metrics design;
/// client libraries encode on every scrape instead). [`flush`] ends it
/// early.
pub const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

static FLUSHES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Makes the next scrape encode the instruments afresh, whatever
/// [`CACHE_TTL`] says: call it after an update that must be seen at once.
pub fn flush() {
    FLUSHES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Changes when [`CACHE_TTL`] has passed or [`flush`] was called: the
/// exposition cache rebuilds a body when it changes.
pub(crate) fn cache_epoch() -> u64 {
    let windows = clock::now().as_nanos() / CACHE_TTL.as_nanos();
    (windows as u64).wrapping_add(FLUSHES.load(std::sync::atomic::Ordering::Relaxed) << 40)
}
