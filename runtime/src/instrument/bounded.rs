//! [`BoundedFamily`]: instruments labelled by free text, with a limit on
//! how many series may exist (ADR-001 of the in-application metrics
//! design: refuse, warn, count).
//!
//! A new label set past the family's `max_series`, or past the
//! registry's shared [`Budget`], is refused: its updates go to a detached
//! instrument that is never exposed, and the refusal is counted in
//! `pme_cardinality_rejected_total{metric,reason}` and logged (the first
//! time, then at most once a minute per family). Values longer than
//! [`MAX_LABEL_VALUE_BYTES`] are refused the same way, never cut short:
//! a truncated value would silently merge series.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};

use hashbrown::HashTable;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use super::rejections::{self, Reason};

/// The longest label value a [`BoundedFamily`] accepts, in bytes.
pub const MAX_LABEL_VALUE_BYTES: usize = 256;

/// A limit on series shared by every bounded family of one registry.
#[derive(Debug)]
pub struct Budget {
    max: usize,
    used: AtomicUsize,
}

impl Budget {
    /// At most `max` series in all the families that share it.
    pub fn new(max: usize) -> Arc<Budget> {
        Arc::new(Budget {
            max,
            used: AtomicUsize::new(0),
        })
    }

    /// Takes one series from the budget, or says it is spent.
    fn take(&self) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                (used < self.max).then_some(used + 1)
            })
            .is_ok()
    }

    fn give_back(&self) {
        self.used.fetch_sub(1, Ordering::Relaxed);
    }

    /// Series in use.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
}

/// Instruments `M` labelled by `N` free-text values, at most `max_series`
/// of them.
pub struct BoundedFamily<M, const N: usize> {
    name: &'static str,
    max_series: usize,
    budget: Option<Arc<Budget>>,
    make: Box<dyn Fn() -> M + Send + Sync>,
    series: RwLock<Series<M, N>>,
    /// Where refused updates go.
    detached: Arc<M>,
}

/// The series in creation order (the exposition's order), and an index
/// of their positions by the hash of their label values (hashbrown's
/// `HashTable`, which stores only the position: 4 bytes and a control
/// byte per series), so a lookup hashes the borrowed values and
/// allocates nothing.
struct Series<M, const N: usize> {
    hasher: RandomState,
    index: HashTable<u32>,
    entries: Vec<([Box<str>; N], Arc<M>)>,
}

/// The hash of one label set, borrowed or stored.
fn hash_of<S: AsRef<str>>(hasher: &RandomState, labels: &[S]) -> u64 {
    let mut h = hasher.build_hasher();
    for v in labels {
        v.as_ref().hash(&mut h);
    }
    h.finish()
}

impl<M, const N: usize> Series<M, N> {
    /// The position of `labels`, and their hash.
    fn find(&self, labels: &[&str; N]) -> (Option<usize>, u64) {
        let hash = hash_of(&self.hasher, labels);
        let found = self.index.find(hash, |&i| {
            let key = &self.entries[i as usize].0;
            key.iter().zip(labels).all(|(k, v)| **k == **v)
        });
        (found.map(|&i| i as usize), hash)
    }

    /// Adds a series whose labels hash to `hash`.
    fn insert(&mut self, hash: u64, key: [Box<str>; N], instrument: Arc<M>) {
        let Series {
            hasher,
            index,
            entries,
        } = self;
        index.insert_unique(hash, entries.len() as u32, |&i| {
            hash_of(hasher, &entries[i as usize].0)
        });
        entries.push((key, instrument));
    }

    /// Removes the series at `i`, whose labels hash to `hash`.
    fn remove(&mut self, i: usize, hash: u64) {
        if let Ok(slot) = self.index.find_entry(hash, |&j| j as usize == i) {
            slot.remove();
        }
        self.entries.remove(i);
        for slot in self.index.iter_mut().filter(|slot| **slot as usize > i) {
            *slot -= 1;
        }
    }
}

impl<M, const N: usize> BoundedFamily<M, N> {
    /// An empty family named `name` (the family name refusals are counted
    /// under) that holds at most `max_series` series, and takes each from
    /// `budget` when given; `make` creates an instrument.
    pub fn new(
        name: &'static str,
        max_series: usize,
        budget: Option<Arc<Budget>>,
        make: impl Fn() -> M + Send + Sync + 'static,
    ) -> BoundedFamily<M, N> {
        rejections::register(name);
        BoundedFamily {
            name,
            max_series,
            budget,
            detached: Arc::new(make()),
            make: Box::new(make),
            series: RwLock::new(Series {
                hasher: RandomState::new(),
                index: HashTable::new(),
                entries: Vec::new(),
            }),
        }
    }

    /// The instrument of `labels`, created if new and allowed; past a
    /// limit, a detached one whose updates are never exposed. Keep the
    /// handle for a hot path: updating it takes no lookup.
    pub fn with(&self, labels: [&str; N]) -> Arc<M> {
        self.try_with(labels)
            .unwrap_or_else(|_| self.detached.clone())
    }

    /// The instrument of `labels`, created if new and allowed; past a
    /// limit, the refusal (counted and logged as with [`with`](Self::with)).
    ///
    /// # Errors
    /// The label set was refused, and why.
    pub fn try_with(&self, labels: [&str; N]) -> Result<Arc<M>, Reason> {
        if labels.iter().any(|v| v.len() > MAX_LABEL_VALUE_BYTES) {
            rejections::refused(self.name, Reason::ValueTooLong);
            return Err(Reason::ValueTooLong);
        }
        {
            let series = self.series.read().unwrap_or_else(|p| p.into_inner());
            if let (Some(i), _) = series.find(&labels) {
                return Ok(series.entries[i].1.clone());
            }
        }
        let mut series = self.series.write().unwrap_or_else(|p| p.into_inner());
        let (found, hash) = series.find(&labels);
        if let Some(i) = found {
            return Ok(series.entries[i].1.clone());
        }
        if series.entries.len() >= self.max_series {
            rejections::refused(self.name, Reason::MaxSeries);
            return Err(Reason::MaxSeries);
        }
        if let Some(budget) = &self.budget
            && !budget.take()
        {
            rejections::refused(self.name, Reason::RegistryMaxSeries);
            return Err(Reason::RegistryMaxSeries);
        }
        let instrument = Arc::new((self.make)());
        series.insert(hash, labels.map(Box::from), instrument.clone());
        Ok(instrument)
    }

    /// Removes the series of `labels`, freeing its place under the
    /// limits; handles already taken keep working but are no longer
    /// exposed. Returns whether it existed.
    pub fn remove(&self, labels: [&str; N]) -> bool {
        let mut series = self.series.write().unwrap_or_else(|p| p.into_inner());
        let (Some(i), hash) = series.find(&labels) else {
            return false;
        };
        series.remove(i, hash);
        if let Some(budget) = &self.budget {
            budget.give_back();
        }
        true
    }

    /// How many series exist.
    pub fn len(&self) -> usize {
        self.read(|entries| entries.len())
    }

    /// Whether no series exists yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most series this family holds.
    pub fn max_series(&self) -> usize {
        self.max_series
    }

    /// Calls `f` with every series in creation order, under a read lock
    /// (updates go on; only a new series waits).
    pub fn read<T>(&self, f: impl FnOnce(&[([Box<str>; N], Arc<M>)]) -> T) -> T {
        let series = self.series.read().unwrap_or_else(|p| p.into_inner());
        f(&series.entries)
    }
}

impl<M, const N: usize> Drop for BoundedFamily<M, N> {
    fn drop(&mut self) {
        if let Some(budget) = &self.budget {
            let series = self.series.get_mut().unwrap_or_else(|p| p.into_inner());
            for _ in &series.entries {
                budget.give_back();
            }
        }
    }
}

impl<M: fmt::Debug, const N: usize> fmt::Debug for BoundedFamily<M, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedFamily")
            .field("name", &self.name)
            .field("max_series", &self.max_series)
            .field("series", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::super::Counter;
    use super::*;

    #[test]
    fn refuses_past_max_series_and_counts_it() {
        let name = "test_bounded_max_total";
        let family = BoundedFamily::<Counter, 1>::new(name, 2, None, Counter::new);
        family.with(["a"]).inc();
        family.with(["b"]).inc();
        family.with(["a"]).inc();
        // A third label set is refused: its updates go nowhere visible.
        family.with(["c"]).inc();
        assert_eq!(family.len(), 2);
        let values: Vec<(String, f64)> =
            family.read(|e| e.iter().map(|(k, c)| (k[0].to_string(), c.get())).collect());
        assert_eq!(values, [("a".into(), 2.0), ("b".into(), 1.0)]);
        assert_eq!(rejections::refused_count(name, Reason::MaxSeries), 1);
        // Removing one makes room again.
        assert!(family.remove(["a"]));
        assert!(!family.remove(["a"]));
        family.with(["c"]).inc();
        assert_eq!(family.len(), 2);
        assert_eq!(family.with(["c"]).get(), 1.0);
    }

    #[test]
    fn refuses_over_long_values_instead_of_cutting_them() {
        let name = "test_bounded_long_total";
        let family = BoundedFamily::<Counter, 2>::new(name, 10, None, Counter::new);
        let long = "x".repeat(MAX_LABEL_VALUE_BYTES + 1);
        family.with(["ok", &long]).inc();
        family.with(["ok", &long[..MAX_LABEL_VALUE_BYTES]]).inc();
        assert_eq!(family.len(), 1);
        assert_eq!(rejections::refused_count(name, Reason::ValueTooLong), 1);
    }

    #[test]
    fn a_budget_is_shared_by_families_and_given_back() {
        let budget = Budget::new(3);
        let a = BoundedFamily::<Counter, 1>::new(
            "test_budget_a_total",
            10,
            Some(budget.clone()),
            Counter::new,
        );
        let b = BoundedFamily::<Counter, 1>::new(
            "test_budget_b_total",
            10,
            Some(budget.clone()),
            Counter::new,
        );
        a.with(["1"]);
        a.with(["2"]);
        b.with(["1"]);
        b.with(["2"]);
        assert_eq!((a.len(), b.len(), budget.used()), (2, 1, 3));
        assert_eq!(
            rejections::refused_count("test_budget_b_total", Reason::RegistryMaxSeries),
            1
        );
        drop(a);
        assert_eq!(budget.used(), 1);
        b.with(["2"]);
        assert_eq!(b.len(), 2);
    }

    #[test]
    fn lookups_stay_cheap_at_a_hundred_thousand_series() {
        // Correctness at scale; the cost per lookup is in `cargo bench`.
        let family = BoundedFamily::<Counter, 1>::new(
            "test_bounded_large_total",
            100_000,
            None,
            Counter::new,
        );
        let keys: Vec<String> = (0..100_000).map(|i| format!("tenant-{i}")).collect();
        for k in &keys {
            family.with([k]).inc();
        }
        for k in keys.iter().step_by(7) {
            family.with([k]).inc();
        }
        assert_eq!(family.len(), 100_000);
        assert_eq!(family.with(["tenant-7"]).get(), 2.0);
        assert_eq!(family.with(["tenant-8"]).get(), 1.0);
        assert_eq!(
            rejections::refused_count("test_bounded_large_total", Reason::MaxSeries),
            0
        );
    }
}
