//! [`Family`]: one instrument per combination of closed label values, in
//! an array. Getting a series is an index computed from enum
//! discriminants: no hashing, no lock, no allocation, and nothing to
//! refuse, since every combination exists from the start (and is exposed
//! at 0 before its first update, as Prometheus's instrumentation practice
//! asks).

use std::fmt;
use std::marker::PhantomData;

use super::labels::LabelSet;

/// Instruments `M` labelled by the closed label set `L`.
pub struct Family<L: LabelSet, M> {
    series: Box<[M]>,
    labels: PhantomData<fn(L)>,
}

impl<L: LabelSet, M> Family<L, M> {
    /// Every combination of `L`, each made by `make`.
    pub fn new(make: impl FnMut() -> M) -> Family<L, M> {
        Family {
            series: std::iter::repeat_with(make).take(L::COUNT).collect(),
            labels: PhantomData,
        }
    }

    /// The instrument of `labels`.
    #[inline]
    pub fn get(&self, labels: L) -> &M {
        &self.series[labels.index()]
    }

    /// Every series in combination order, with its number (decode its
    /// label values with [`LabelSet::value`]).
    pub fn iter(&self) -> impl Iterator<Item = (usize, &M)> {
        self.series.iter().enumerate()
    }
}

impl<L: LabelSet, M: fmt::Debug> fmt::Debug for Family<L, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(i, m)| {
                let labels: Vec<&str> = (0..L::LEN).map(|l| L::value(i, l)).collect();
                (labels, m)
            }))
            .finish()
    }
}
