//! Instruments to exposition bytes: the same series lines as collected
//! families (precomputed pieces around escaped label values, then the
//! value), plus a histogram's `_bucket{le}`, `_sum` and `_count` lines.

use pme_content::exposition::{Format, series_head, value};

use super::bounded::BoundedFamily;
use super::family::Family;
use super::labels::LabelSet;
use super::value::{Counter, Gauge, Histogram};

/// What the derive precomputes for one instrument family.
#[derive(Debug)]
pub struct InstrumentDesc {
    /// Family name.
    pub name: &'static str,
    /// `# HELP` and `# TYPE` lines in the text format.
    pub header: &'static [u8],
    /// The same in OpenMetrics 1.0.
    pub openmetrics_header: &'static [u8],
    /// The bytes of a series line around its label values (`N + 1`
    /// pieces). For a histogram, of a `_bucket` line, whose last label is
    /// `le` (`N + 2` pieces).
    pub pieces: &'static [&'static [u8]],
    /// A histogram's `_sum` line pieces (`N + 1`); empty otherwise.
    pub sum_pieces: &'static [&'static [u8]],
    /// A histogram's `_count` line pieces (`N + 1`); empty otherwise.
    pub count_pieces: &'static [&'static [u8]],
    /// A histogram's `le` values, escaped: each bound, then `+Inf`.
    pub le: &'static [&'static [u8]],
}

/// The type an instrument is exposed as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstrumentKind {
    /// `counter`.
    Counter,
    /// `gauge`.
    Gauge,
    /// `histogram`.
    Histogram,
}

/// A field type of a `#[derive(pme::Instruments)]` struct: one instrument
/// or a family of them.
pub trait Instrument {
    /// The type it is exposed as.
    const KIND: InstrumentKind;
    /// How many label values each series carries.
    const LABELS: usize;
    /// Whether its labels are free text, which needs `max_series`.
    const BOUNDED: bool = false;

    /// Appends the family's series (not its header).
    fn encode_series(&self, desc: &InstrumentDesc, out: &mut Vec<u8>);
}

/// One series of one instrument.
pub trait Sample {
    /// The type it is exposed as.
    const KIND: InstrumentKind;

    /// Appends the series' line(s) with these label values.
    fn write(&self, desc: &InstrumentDesc, labels: &[&str], out: &mut Vec<u8>);
}

/// A one-line sample: the series head, the value, a newline.
fn scalar(out: &mut Vec<u8>, desc: &InstrumentDesc, labels: &[&str], v: f64) {
    series_head(out, desc.pieces, labels);
    value(out, v);
    out.push(b'\n');
}

impl Sample for Counter {
    const KIND: InstrumentKind = InstrumentKind::Counter;

    fn write(&self, desc: &InstrumentDesc, labels: &[&str], out: &mut Vec<u8>) {
        scalar(out, desc, labels, self.get());
    }
}

impl Sample for Gauge {
    const KIND: InstrumentKind = InstrumentKind::Gauge;

    fn write(&self, desc: &InstrumentDesc, labels: &[&str], out: &mut Vec<u8>) {
        scalar(out, desc, labels, self.get());
    }
}

impl Sample for Histogram {
    const KIND: InstrumentKind = InstrumentKind::Histogram;

    fn write(&self, desc: &InstrumentDesc, labels: &[&str], out: &mut Vec<u8>) {
        let (Some((last, head)), true) = (desc.pieces.split_last(), desc.pieces.len() >= 2) else {
            return;
        };
        let mut le = desc.le.iter();
        let mut count = 0;
        let sum = self.read(|cumulative| {
            series_head(out, head, labels);
            out.extend_from_slice(le.next().copied().unwrap_or(b"+Inf"));
            out.extend_from_slice(last);
            value(out, cumulative as f64);
            out.push(b'\n');
            count = cumulative;
        });
        series_head(out, desc.sum_pieces, labels);
        value(out, sum);
        out.push(b'\n');
        series_head(out, desc.count_pieces, labels);
        value(out, count as f64);
        out.push(b'\n');
    }
}

impl<S: Sample> Instrument for S {
    const KIND: InstrumentKind = S::KIND;
    const LABELS: usize = 0;

    fn encode_series(&self, desc: &InstrumentDesc, out: &mut Vec<u8>) {
        self.write(desc, &[], out);
    }
}

impl<L: LabelSet, M: Sample> Instrument for Family<L, M> {
    const KIND: InstrumentKind = M::KIND;
    const LABELS: usize = L::LEN;

    fn encode_series(&self, desc: &InstrumentDesc, out: &mut Vec<u8>) {
        let mut labels = [""; 4];
        for (i, m) in self.iter() {
            for (l, slot) in labels.iter_mut().enumerate().take(L::LEN) {
                *slot = L::value(i, l);
            }
            m.write(desc, &labels[..L::LEN], out);
        }
    }
}

impl<M: Sample, const N: usize> Instrument for BoundedFamily<M, N> {
    const KIND: InstrumentKind = M::KIND;
    const LABELS: usize = N;
    const BOUNDED: bool = true;

    fn encode_series(&self, desc: &InstrumentDesc, out: &mut Vec<u8>) {
        self.read(|entries| {
            for (key, m) in entries {
                let labels: [&str; N] = std::array::from_fn(|i| &*key[i]);
                m.write(desc, &labels, out);
            }
        });
    }
}

/// Appends one family: its header, then its series. A labelled family with
/// no series yet is left out, header included, as client_golang does.
pub fn instrument<I: Instrument>(out: &mut Vec<u8>, desc: &InstrumentDesc, i: &I, format: Format) {
    let start = out.len();
    out.extend_from_slice(match format {
        Format::Prometheus => desc.header,
        Format::OpenMetrics => desc.openmetrics_header,
    });
    let head = out.len();
    i.encode_series(desc, out);
    if out.len() == head {
        out.truncate(start);
    }
}
