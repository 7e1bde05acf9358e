//! The metric types a collector can declare (`type:` in a spec, the field
//! types of a derived `MetricGroup`): the one kind type of the spec, the
//! derive and the runtime. Its `# TYPE` words come from the exposition's
//! [`MetricType`], which also covers the types only a re-import carries.

use crate::exposition::MetricType;

/// A declarable metric type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A value that only goes up (resets on restart).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Labels describing the target; the value is always 1.
    Info,
    /// A value of unknown type.
    Untyped,
}

impl Kind {
    /// Keywords in `metrics.yaml`, in the order error messages list them.
    pub const NAMES: &'static [&'static str] = &["counter", "gauge", "info", "untyped"];

    /// Reads a `type:` keyword.
    pub fn from_keyword(s: &str) -> Option<Kind> {
        match s {
            "counter" => Some(Kind::Counter),
            "gauge" => Some(Kind::Gauge),
            "info" => Some(Kind::Info),
            "untyped" => Some(Kind::Untyped),
            _ => None,
        }
    }

    /// The keyword `metrics.yaml` writes it as (`counter`, `gauge`, …).
    pub fn keyword(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Info => "info",
            Kind::Untyped => "untyped",
        }
    }

    /// The exposition type of this kind.
    pub fn metric_type(self) -> MetricType {
        match self {
            Kind::Counter => MetricType::Counter,
            Kind::Gauge => MetricType::Gauge,
            Kind::Info => MetricType::Info,
            Kind::Untyped => MetricType::Unknown,
        }
    }

    /// The `# TYPE` word in the text format 0.0.4 (which has no `info`:
    /// Prometheus's own convention is a gauge named `*_info` with value 1).
    pub fn text_type(self) -> &'static str {
        self.metric_type().text_name()
    }

    /// The `# TYPE` word in OpenMetrics 1.0.
    pub fn openmetrics_type(self) -> &'static str {
        self.metric_type().openmetrics_name()
    }

    /// The OpenMetrics family name of the metric `name`: a counter's
    /// `_total` and an info's `_info` belong to its samples, not its family.
    pub fn openmetrics_family(self, name: &str) -> &str {
        let suffix = match self {
            Kind::Counter => "_total",
            Kind::Info => "_info",
            Kind::Gauge | Kind::Untyped => return name,
        };
        name.strip_suffix(suffix).unwrap_or(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_words_in_both_formats() {
        let words = |k: Kind| (k.text_type(), k.openmetrics_type());
        assert_eq!(words(Kind::Counter), ("counter", "counter"));
        assert_eq!(words(Kind::Gauge), ("gauge", "gauge"));
        assert_eq!(words(Kind::Info), ("gauge", "info"));
        assert_eq!(words(Kind::Untyped), ("untyped", "unknown"));
    }
}
