//! How a `#[derive(pme::Instruments)]` struct builds each field from its
//! attribute: the family name refusals are counted under, a histogram's
//! bounds, a free-text family's limits.

use std::sync::Arc;

use super::bounded::{BoundedFamily, Budget};
use super::family::Family;
use super::labels::LabelSet;
use super::value::{Counter, Gauge, Histogram};

/// What the attribute of one field says.
#[derive(Debug)]
pub struct BuildSpec {
    /// Family name.
    pub name: &'static str,
    /// Histogram bounds (unused by other instruments).
    pub bounds: &'static [f64],
    /// `max_series`, required by free-text families.
    pub max_series: Option<usize>,
    /// The registry's shared limit, if it has one.
    pub budget: Option<Arc<Budget>>,
}

/// An instrument or family that can be built from a [`BuildSpec`].
pub trait Build {
    /// Builds it.
    fn build(spec: &BuildSpec) -> Self;
}

impl Build for Counter {
    fn build(spec: &BuildSpec) -> Counter {
        Counter::named(spec.name)
    }
}

impl Build for Gauge {
    fn build(_: &BuildSpec) -> Gauge {
        Gauge::new()
    }
}

impl Build for Histogram {
    fn build(spec: &BuildSpec) -> Histogram {
        Histogram::named(spec.name, spec.bounds)
    }
}

impl<L: LabelSet, M: Build> Build for Family<L, M> {
    fn build(spec: &BuildSpec) -> Family<L, M> {
        Family::new(|| M::build(spec))
    }
}

impl<M: Build + Send + Sync + 'static, const N: usize> Build for BoundedFamily<M, N> {
    fn build(spec: &BuildSpec) -> BoundedFamily<M, N> {
        let (name, bounds) = (spec.name, spec.bounds);
        // The derive refuses a free-text family without `max_series` at
        // compile time; 0 would refuse every label set, never panic.
        BoundedFamily::new(
            name,
            spec.max_series.unwrap_or(0),
            spec.budget.clone(),
            move || {
                M::build(&BuildSpec {
                    name,
                    bounds,
                    max_series: None,
                    budget: None,
                })
            },
        )
    }
}
