//! Metric values as collectors hold them, and the static description the
//! derive macro writes for each family.
//!
//! A collector is a struct whose fields are [`Gauge`], [`Counter`],
//! [`Untyped`] or [`Info`]; `N` is the number of label values each series
//! carries at run time (labels fixed in the spec are part of
//! [`MetricDesc::prefix`] instead and cost nothing per series).

use std::fmt;
use std::ops::{Deref, DerefMut};

/// What the derive macro precomputes for one family: the bytes of its
/// header and of every series line around the dynamic label values.
#[derive(Debug)]
pub struct MetricDesc {
    /// Family name.
    pub name: &'static str,
    /// `# HELP` and `# TYPE` lines, escaped, newline-terminated.
    pub header: &'static [u8],
    /// The same in OpenMetrics 1.0 (family names without `_total` or
    /// `_info`, `info` and `unknown` types, `"` escaped in HELP).
    pub openmetrics_header: &'static [u8],
    /// The bytes of a series line around its `N` dynamic label values,
    /// `N + 1` pieces: `name{const="v",label="`, then `",next="` between
    /// values, then `"} ` (`name ` when there are no labels). See
    /// `pme_codegen::names::SeriesShape`.
    pub pieces: &'static [&'static [u8]],
    /// Set on every known series when a reading fails; `None` keeps the
    /// last good values.
    pub value_on_error: Option<f64>,
    /// The most series a reading keeps (the spec's `max_series`): the
    /// first ones; the rest are dropped and counted.
    pub max_series: Option<usize>,
}

pub use pme_content::{Kind, Series};

/// The series of one family.
#[derive(Clone, Debug)]
pub struct Family<const N: usize> {
    series: Vec<Series<N>>,
    /// Series readings yielded past `max_series`, since start.
    dropped: u64,
}

impl<const N: usize> Default for Family<N> {
    fn default() -> Self {
        Family {
            series: Vec::new(),
            dropped: 0,
        }
    }
}

impl<const N: usize> Family<N> {
    /// The current series.
    pub fn series(&self) -> &[Series<N>] {
        &self.series
    }

    /// Replaces every series with a new reading.
    pub fn replace(&mut self, series: Vec<Series<N>>) {
        self.series = series;
    }

    /// Series dropped over `max_series`, summed over readings since start.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Sets the series with these label values, adding it if new.
    pub fn set(&mut self, labels: [&str; N], value: f64) {
        match self
            .series
            .iter_mut()
            .find(|s| s.labels.iter().map(|l| &**l).eq(labels))
        {
            Some(s) => s.value = value,
            None => self.series.push(Series {
                labels: labels.map(Box::from),
                value,
            }),
        }
    }

    /// A reading failed: with `value_on_error`, every known series (or the
    /// single unlabelled one) takes that value; without it, the last good
    /// values stay, as the spec says.
    pub fn fail(&mut self, value_on_error: Option<f64>) {
        let Some(v) = value_on_error else { return };
        if self.series.is_empty() && N == 0 {
            self.series.push(Series {
                labels: std::array::from_fn(|_| Box::from("")),
                value: v,
            });
        }
        for s in &mut self.series {
            s.value = v;
        }
    }

    /// Applies one extraction result, falling back as [`Family::fail`] does.
    ///
    /// # Errors
    /// The extraction error, named after the family.
    pub fn apply(
        &mut self,
        result: Result<Vec<Series<N>>, String>,
        desc: &MetricDesc,
    ) -> Result<(), ExtractError> {
        match result {
            Ok(mut series) => {
                if let Some(max) = desc.max_series
                    && series.len() > max
                {
                    self.dropped += (series.len() - max) as u64;
                    series.truncate(max);
                }
                self.replace(series);
                Ok(())
            }
            Err(message) => {
                self.fail(desc.value_on_error);
                Err(ExtractError {
                    metric: desc.name,
                    message,
                })
            }
        }
    }
}

/// A typed metric field: a [`Family`] plus its kind.
pub trait Metric {
    /// The metric type.
    const KIND: Kind;
    /// Number of dynamic labels.
    const LABELS: usize;
}

macro_rules! metric_types {
    ($($(#[$doc:meta])* $name:ident => $kind:ident,)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug, Default)]
        pub struct $name<const N: usize = 0>(pub Family<N>);

        impl<const N: usize> Metric for $name<N> {
            const KIND: Kind = Kind::$kind;
            const LABELS: usize = N;
        }

        impl<const N: usize> Deref for $name<N> {
            type Target = Family<N>;
            fn deref(&self) -> &Family<N> {
                &self.0
            }
        }

        impl<const N: usize> DerefMut for $name<N> {
            fn deref_mut(&mut self) -> &mut Family<N> {
                &mut self.0
            }
        }
    )*};
}

metric_types! {
    /// A counter: a value that only goes up.
    Counter => Counter,
    /// A gauge: a value that goes up and down.
    Gauge => Gauge,
    /// An info metric: labels describing the target, value 1.
    Info => Info,
    /// A value whose type is not known.
    Untyped => Untyped,
}

/// One family that could not be extracted from a reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtractError {
    /// Family name.
    pub metric: &'static str,
    /// What went wrong.
    pub message: String,
}

/// Every family that failed in one reading (the others were updated).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtractErrors(pub Vec<ExtractError>);

impl ExtractErrors {
    /// The whole reading could not be parsed (e.g. invalid JSON), so no
    /// family could be extracted.
    pub fn reading(message: String) -> ExtractErrors {
        ExtractErrors(vec![ExtractError {
            metric: "",
            message,
        }])
    }

    /// Keeps `result` if it is an error.
    pub fn record(&mut self, result: Result<(), ExtractError>) {
        if let Err(e) = result {
            self.0.push(e);
        }
    }

    /// `Ok` when nothing was recorded.
    ///
    /// # Errors
    /// `self` when any family failed.
    pub fn into_result(self) -> Result<(), ExtractErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for ExtractErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            if e.metric.is_empty() {
                f.write_str(&e.message)?;
            } else {
                write!(f, "{}: {}", e.metric, e.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ExtractErrors {}

/// A set of families collected from one source: implemented by
/// `#[derive(pme::MetricGroup)]` for generated and hand-written collectors.
pub trait MetricGroup: Send + Sync + fmt::Debug + 'static {
    /// Extracts every family from one reading of the source. Families that
    /// fail fall back to `value_on_error` or keep their last values.
    ///
    /// # Errors
    /// The families that could not be extracted.
    fn extract(&mut self, input: &[u8]) -> Result<(), ExtractErrors>;

    /// The source could not be read: every family falls back.
    fn fail(&mut self);

    /// Appends the exposition text of every family.
    fn encode(&self, out: &mut Vec<u8>, format: pme_content::exposition::Format);

    /// The names of the families the group declares; empty for a group
    /// that re-imports a Prometheus source, whose families come from it.
    fn families(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// Each family the group declares with its type keyword (`counter`,
    /// `gauge`, `info`, `untyped`), in the order of [`MetricGroup::families`].
    fn family_types(&self) -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }

    /// Series dropped over the spec's `max_series` since start, all
    /// families together (`pme_series_dropped_total`).
    fn series_dropped(&self) -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static DESC: MetricDesc = MetricDesc {
        name: "x",
        header: b"",
        openmetrics_header: b"",
        pieces: &[b"x "],
        value_on_error: Some(-1.0),
        max_series: Some(2),
    };

    #[test]
    fn a_reading_over_max_series_keeps_the_first_and_counts_the_rest() {
        let mut f = Family::<1>::default();
        let reading = |n: usize| {
            (0..n)
                .map(|i| Series {
                    labels: [i.to_string().into()],
                    value: i as f64,
                })
                .collect()
        };
        f.apply(Ok(reading(5)), &DESC).unwrap();
        let kept: Vec<&str> = f.series().iter().map(|s| &*s.labels[0]).collect();
        assert_eq!(kept, ["0", "1"]);
        assert_eq!(f.dropped(), 3);
        f.apply(Ok(reading(2)), &DESC).unwrap();
        assert_eq!((f.series().len(), f.dropped()), (2, 3));
    }

    #[test]
    fn failing_without_value_on_error_keeps_last_values() {
        let mut f = Family::<1>::default();
        f.set(["a"], 3.0);
        f.fail(None);
        assert_eq!(f.series()[0].value, 3.0);
    }

    #[test]
    fn failing_with_value_on_error_sets_known_series() {
        let mut f = Family::<1>::default();
        f.set(["a"], 3.0);
        f.set(["b"], 4.0);
        let err = f.apply(Err("boom".into()), &DESC).unwrap_err();
        assert_eq!(
            err,
            ExtractError {
                metric: "x",
                message: "boom".into()
            }
        );
        assert!(f.series().iter().all(|s| s.value == -1.0));
        assert_eq!(f.series().len(), 2);
    }

    #[test]
    fn failing_unlabelled_family_creates_its_series() {
        let mut f = Family::<0>::default();
        f.fail(Some(0.0));
        assert_eq!(
            f.series(),
            &[Series {
                labels: [],
                value: 0.0
            }]
        );
    }
}
