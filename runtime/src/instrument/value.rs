//! The three instruments an application updates: [`Counter`], [`Gauge`]
//! and [`Histogram`]. Each is a few atomics; an update is one atomic
//! read-modify-write and never takes a lock or allocates.

use std::sync::atomic::{AtomicU64, Ordering};

use super::rejections;

/// An `f64` in an `AtomicU64`, updated by compare-and-swap.
#[derive(Debug, Default)]
struct AtomicF64(AtomicU64);

impl AtomicF64 {
    const fn zero() -> AtomicF64 {
        AtomicF64(AtomicU64::new(0))
    }

    fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }

    fn add(&self, delta: f64) {
        let mut current = self.0.load(Ordering::Relaxed);
        loop {
            let next = (f64::from_bits(current) + delta).to_bits();
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }
}

/// A value that only goes up, from 0 when the process starts.
///
/// An increment that is negative or NaN would break that promise; it is
/// refused, and counted in `pme_instrument_invalid_updates_total`.
#[derive(Debug, Default)]
pub struct Counter {
    /// Whole increments: one atomic add each (most counters count things).
    whole: AtomicU64,
    /// Increments with a fraction (seconds, ratios).
    fraction: AtomicF64,
    /// The family name refused updates are counted under.
    name: Option<&'static str>,
}

/// Below this, every whole number is exact in an `f64` and in the sum.
const EXACT: f64 = 9_007_199_254_740_992.0;

impl Counter {
    /// A counter at 0.
    pub const fn new() -> Counter {
        Counter {
            whole: AtomicU64::new(0),
            fraction: AtomicF64::zero(),
            name: None,
        }
    }

    /// A counter at 0 whose refused updates are counted under `name`.
    pub const fn named(name: &'static str) -> Counter {
        Counter {
            name: Some(name),
            ..Counter::new()
        }
    }

    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.whole.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `delta`, which must be ≥ 0 and not NaN.
    #[inline]
    pub fn inc_by(&self, delta: f64) {
        if delta.is_nan() || delta < 0.0 {
            rejections::invalid_update(self.name);
        } else if delta.fract() == 0.0 && delta < EXACT {
            self.whole.fetch_add(delta as u64, Ordering::Relaxed);
        } else {
            self.fraction.add(delta);
        }
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.whole.load(Ordering::Relaxed) as f64 + self.fraction.get()
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge {
    value: AtomicF64,
}

impl Gauge {
    /// A gauge at 0.
    pub const fn new() -> Gauge {
        Gauge {
            value: AtomicF64::zero(),
        }
    }

    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        self.value.set(v);
    }

    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.value.add(1.0);
    }

    /// Subtracts 1.
    #[inline]
    pub fn dec(&self) {
        self.value.add(-1.0);
    }

    /// Adds `delta` (negative to go down).
    #[inline]
    pub fn add(&self, delta: f64) {
        self.value.add(delta);
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.value.get()
    }
}

pub use pme_content::exposition::DEFAULT_BUCKETS;

/// Observations counted into buckets by upper bound, with their sum.
///
/// Each observation increments one bucket (the first whose bound is ≥ the
/// value, or the implicit `+Inf` one); the exposition adds them up into
/// Prometheus's cumulative `_bucket{le}` series, and `_count` is that sum,
/// so `_count` always equals the `+Inf` bucket. A NaN observation is
/// refused and counted in `pme_instrument_invalid_updates_total`.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// One per bound, then `+Inf`.
    buckets: Box<[AtomicU64]>,
    sum: AtomicF64,
    name: Option<&'static str>,
}

impl Histogram {
    /// An empty histogram over `bounds`, which must be finite and strictly
    /// increasing (the spec and the derive check it at build time).
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicF64::zero(),
            name: None,
        }
    }

    /// The same, counting refused observations under `name`.
    pub fn named(name: &'static str, bounds: &'static [f64]) -> Histogram {
        Histogram {
            name: Some(name),
            ..Histogram::new(bounds)
        }
    }

    /// Counts one observation of `v`.
    #[inline]
    pub fn observe(&self, v: f64) {
        if v.is_nan() {
            rejections::invalid_update(self.name);
            return;
        }
        // Bounds are few (a dozen); a linear scan beats a binary search.
        let bucket = self
            .bounds
            .iter()
            .position(|&b| v <= b)
            .unwrap_or(self.bounds.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum.add(v);
    }

    /// The upper bounds, without `+Inf`.
    pub fn bounds(&self) -> &'static [f64] {
        self.bounds
    }

    /// Cumulative counts per bound and then `+Inf` (the `_bucket` values),
    /// passed to `each` in order; returns the sum of the observations.
    pub fn read(&self, mut each: impl FnMut(u64)) -> f64 {
        let mut total = 0u64;
        for bucket in self.buckets.iter() {
            total += bucket.load(Ordering::Relaxed);
            each(total);
        }
        self.sum.get()
    }

    /// How many observations were counted.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The sum of the observations.
    pub fn sum(&self) -> f64 {
        self.sum.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_only_go_up() {
        let c = Counter::named("test_value_counter_total");
        c.inc();
        c.inc_by(2.5);
        c.inc_by(-1.0);
        c.inc_by(f64::NAN);
        assert_eq!(c.get(), 3.5);
        assert_eq!(rejections::invalid_count("test_value_counter_total"), 2);
    }

    #[test]
    fn gauges_go_both_ways() {
        let g = Gauge::new();
        g.set(10.0);
        g.inc();
        g.dec();
        g.dec();
        g.add(-0.5);
        assert_eq!(g.get(), 8.5);
    }

    #[test]
    fn histograms_bucket_by_upper_bound() {
        static BOUNDS: [f64; 3] = [0.1, 1.0, 10.0];
        let h = Histogram::named("test_value_histogram_seconds", &BOUNDS);
        for v in [0.05, 0.1, 0.5, 1.0, 20.0, f64::INFINITY, f64::NAN] {
            h.observe(v);
        }
        let mut cumulative = Vec::new();
        let sum = h.read(|n| cumulative.push(n));
        // le=0.1 holds 0.05 and 0.1 (bounds are inclusive); +Inf holds all.
        assert_eq!(cumulative, [2, 4, 4, 6]);
        assert_eq!(h.count(), 6);
        assert_eq!(sum, f64::INFINITY);
        assert_eq!(rejections::invalid_count("test_value_histogram_seconds"), 1);
    }

    #[test]
    fn concurrent_updates_are_all_counted() {
        let c = Counter::new();
        let h = Histogram::new(DEFAULT_BUCKETS);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for i in 0..10_000 {
                        c.inc();
                        h.observe(f64::from(i % 20));
                    }
                });
            }
        });
        assert_eq!(c.get(), 40_000.0);
        assert_eq!(h.count(), 40_000);
        assert_eq!(h.sum(), 4.0 * 500.0 * 190.0);
    }
}
