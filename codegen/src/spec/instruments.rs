//! `instruments:` of a service as written: application metrics the
//! application updates itself (counters, gauges, histograms), each with
//! its labels' declared values or `text`.
//!
//! ```yaml
//! instruments:
//!   requests_total:
//!     type: counter
//!     description: Requests served, by model and outcome.
//!     labels:
//!       model: [gpt4, claude]      # closed: a Rust enum
//!       tenant: text               # free text: needs max_series
//!     max_series: 1000
//! ```

use super::{Fields, Sp, entries, f64_of, str_of};
use crate::diagnostic::{Diagnostics, Pos};
use crate::yaml::{Key, Node, Value};

/// One instrument as written.
#[derive(Debug)]
pub(crate) struct Instrument {
    pub(crate) id: Sp<String>,
    pub(crate) name: Option<Sp<String>>,
    pub(crate) kind: Option<Sp<String>>,
    pub(crate) description: Option<Sp<String>>,
    pub(crate) labels: Vec<(Sp<String>, LabelValues)>,
    pub(crate) max_series: Option<Sp<u64>>,
    /// Where `buckets:` is, and its bounds.
    pub(crate) buckets: Option<(Pos, Vec<Sp<f64>>)>,
}

/// The values a label may take.
#[derive(Debug)]
pub(crate) enum LabelValues {
    /// A list: only these.
    Closed(Pos, Vec<Sp<String>>),
    /// `text`: any string, under `max_series`.
    Text,
}

/// Every entry of `instruments:`.
pub(crate) fn read(node: &Node, d: &mut Diagnostics) -> Vec<Instrument> {
    entries(node, "`instruments`", d)
        .iter()
        .map(|(k, v)| read_instrument(k, v, d))
        .collect()
}

fn read_instrument(key: &Key, node: &Node, d: &mut Diagnostics) -> Instrument {
    let mut instrument = Instrument {
        id: Sp {
            value: key.name.clone(),
            pos: key.pos,
        },
        name: None,
        kind: None,
        description: None,
        labels: Vec::new(),
        max_series: None,
        buckets: None,
    };
    let Some(mut f) = Fields::new(node, "an instrument", d) else {
        return instrument;
    };
    instrument.name = f.take("name").and_then(|n| str_of(n, d));
    instrument.kind = f.take("type").and_then(|n| str_of(n, d));
    instrument.description = f.take("description").and_then(|n| str_of(n, d));
    if let Some(labels) = f.take("labels") {
        for (k, v) in entries(labels, "`labels`", d) {
            let name = Sp {
                value: k.name.clone(),
                pos: k.pos,
            };
            if let Some(values) = label_values(v, d) {
                instrument.labels.push((name, values));
            }
        }
    }
    instrument.max_series = f.take("max_series").and_then(|n| count_of(n, d));
    instrument.buckets = f.take("buckets").map(|n| match &n.value {
        Value::Seq(items) => (n.pos, items.iter().filter_map(|i| f64_of(i, d)).collect()),
        _ => {
            d.error(
                n.pos,
                format!(
                    "`buckets` must be a list of upper bounds, found {}",
                    n.describe()
                ),
            );
            (n.pos, Vec::new())
        }
    });
    f.finish(super::keys::INSTRUMENT, d);
    instrument
}

fn label_values(node: &Node, d: &mut Diagnostics) -> Option<LabelValues> {
    match &node.value {
        Value::Seq(items) => Some(LabelValues::Closed(
            node.pos,
            items.iter().filter_map(|i| str_of(i, d)).collect(),
        )),
        Value::Scalar { text, .. } if text == "text" => Some(LabelValues::Text),
        _ => {
            d.error_help(
                node.pos,
                format!("a label's values must be a list or `text`, found {}", node.describe()),
                "list the values (`[ok, error]`, a Rust enum) or write `text` for free text (the instrument then needs `max_series`)",
            );
            None
        }
    }
}

/// A whole number above 0.
pub(super) fn count_of(node: &Node, d: &mut Diagnostics) -> Option<Sp<u64>> {
    if let Value::Scalar { text, .. } = &node.value
        && let Ok(n) = text.replace('_', "").parse::<u64>()
        && n > 0
    {
        return Some(Sp {
            value: n,
            pos: node.pos,
        });
    }
    d.error(
        node.pos,
        format!(
            "`max_series` must be a whole number above 0, found {}",
            node.describe()
        ),
    );
    None
}
