//! `content_type: text`: a regex filter per family.
//!
//! Filters run on bytes, so content that is not UTF-8 can still be matched;
//! a captured label value must be UTF-8, and a value must be a number, or
//! the family fails for that reading.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use regex::bytes::{Captures, Regex};

use crate::{Row, Series};

/// A compiled filter with its build-time extraction plan.
#[derive(Debug)]
pub struct TextFilter {
    /// The regex (validated at build time).
    pub pattern: &'static str,
    /// `pattern`, compiled on first use; one regex per distinct pattern in
    /// the process, shared by every filter that has it.
    pub compiled: OnceLock<&'static Regex>,
    /// Capture index of the value; `None` for info metrics (value 1).
    pub value: Option<usize>,
    /// One template per dynamic label.
    pub labels: &'static [&'static [Part]],
    /// Every match is a series, instead of the first match only.
    pub match_all: bool,
    /// Factor applied to every extracted value (1 for none).
    pub scale: f64,
    /// Strings and the numbers they stand for (empty: values are numbers).
    pub value_map: &'static [(&'static str, f64)],
}

impl TextFilter {
    fn regex(&self) -> &Regex {
        self.compiled.get_or_init(|| shared(self.pattern))
    }
}

/// `pattern` compiled once per process: filters with the same pattern (one
/// regex read into several families, as `match: all` families of one
/// source often are) share one regex and its search caches. A compiled
/// regex is tens of KiB, so 100 copies of one were most of the heap of a
/// 10 000-series spec. Patterns come from the spec, so the set is bounded.
fn shared(pattern: &'static str) -> &'static Regex {
    static COMPILED: Mutex<BTreeMap<&'static str, &'static Regex>> = Mutex::new(BTreeMap::new());
    let mut compiled = COMPILED.lock().unwrap_or_else(PoisonError::into_inner);
    compiled
        .entry(pattern)
        .or_insert_with(|| Box::leak(Box::new(compile(pattern))))
}

/// One piece of a label value template.
#[derive(Debug)]
pub enum Part {
    /// Literal text.
    Literal(&'static str),
    /// A capture group's text.
    Capture(usize),
}

/// Compiles a filter pattern checked by `pme-codegen` at build time.
///
/// # Panics
/// Only if the pattern did not come through pme-codegen's validation.
pub fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).expect("filter validated by pme-codegen at build time")
}

/// Applies `filter` to `input`.
///
/// # Errors
/// No match (in first-match mode), a value that is not a number, a label
/// value that is not UTF-8, or two matches with the same labels.
pub fn extract<const N: usize>(
    filter: &TextFilter,
    input: &[u8],
) -> Result<Vec<Series<N>>, String> {
    crate::into_series(extract_rows(filter, input)?)
}

/// [`extract`] with labels in a `Vec`, for callers that do not know `N`
/// (the build-time sample checks).
///
/// # Errors
/// As [`extract`].
pub fn extract_rows(filter: &TextFilter, input: &[u8]) -> Result<Vec<Row>, String> {
    if filter.match_all {
        let mut rows: Vec<Row> = Vec::new();
        for caps in filter.regex().captures_iter(input) {
            rows.push(one_row(filter, &caps)?);
        }
        crate::unique(rows, "two matches")
    } else {
        let caps = filter
            .regex()
            .captures(input)
            .ok_or_else(|| format!("filter `{}` matched nothing", filter.pattern))?;
        Ok(vec![one_row(filter, &caps)?])
    }
}

/// No filter: the whole content (trimmed) is the value, or 1 for info.
///
/// # Errors
/// The content is not a number.
pub fn whole<const N: usize>(
    input: &[u8],
    info: bool,
    scale: f64,
    value_map: &[(&str, f64)],
) -> Result<Vec<Series<N>>, String> {
    crate::into_series(whole_rows(input, info, scale, value_map)?)
}

/// [`whole`] as rows.
///
/// # Errors
/// As [`whole`].
pub fn whole_rows(
    input: &[u8],
    info: bool,
    scale: f64,
    value_map: &[(&str, f64)],
) -> Result<Vec<Row>, String> {
    let value = if info {
        1.0
    } else {
        crate::to_value(input, value_map)? * scale
    };
    Ok(vec![Row {
        labels: Vec::new(),
        value,
    }])
}

fn one_row(filter: &TextFilter, caps: &Captures<'_>) -> Result<Row, String> {
    let value = match filter.value {
        Some(i) => {
            crate::to_value(
                caps.get(i).map_or(&b""[..], |m| m.as_bytes()),
                filter.value_map,
            )? * filter.scale
        }
        None => 1.0,
    };
    let mut labels = Vec::with_capacity(filter.labels.len());
    for template in filter.labels {
        let mut text = String::new();
        for part in *template {
            match part {
                Part::Literal(s) => text.push_str(s),
                Part::Capture(i) => {
                    let bytes = caps.get(*i).map_or(&b""[..], |m| m.as_bytes());
                    let s = std::str::from_utf8(bytes).map_err(|_| {
                        format!(
                            "label value {:?} is not valid UTF-8",
                            String::from_utf8_lossy(bytes)
                        )
                    })?;
                    text.push_str(s);
                }
            }
        }
        labels.push(text.into_boxed_str());
    }
    Ok(Row { labels, value })
}

/// Reads a number: decimal or exponent notation, `NaN`, `+Inf`, `-Inf`
/// (surrounding whitespace ignored).
///
/// # Errors
/// Anything else, quoted in the message.
pub fn parse_value(bytes: &[u8]) -> Result<f64, String> {
    let text = std::str::from_utf8(bytes).map(str::trim).unwrap_or("");
    let parsed = match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        // Rust also reads `inf`, `nan` and `infinity` in any case; only
        // plain numbers go through it.
        t if t
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
            && !t.is_empty() =>
        {
            t.parse().ok()
        }
        _ => None,
    };
    parsed.ok_or_else(|| {
        let shown: String = String::from_utf8_lossy(bytes).chars().take(64).collect();
        format!("`{}` is not a number", shown.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(
        pattern: &'static str,
        value: Option<usize>,
        labels: &'static [&'static [Part]],
        match_all: bool,
    ) -> TextFilter {
        TextFilter {
            pattern,
            compiled: OnceLock::new(),
            value,
            labels,
            match_all,
            scale: 1.0,
            value_map: &[],
        }
    }

    #[test]
    fn parses_values() {
        assert_eq!(parse_value(b" 42\n"), Ok(42.0));
        assert_eq!(parse_value(b"-1.5e3"), Ok(-1500.0));
        assert_eq!(parse_value(b"+Inf"), Ok(f64::INFINITY));
        assert!(parse_value(b"NaN").unwrap().is_nan());
        for bad in [&b""[..], b"abc", b"1,5", b"inf", b"0x10", b"\xff"] {
            assert!(parse_value(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn first_match_gives_one_series() {
        let f = filter(r"MemTotal:\s+(\d+)", Some(1), &[], false);
        let s = extract::<0>(&f, b"MemFree: 1\nMemTotal:   2048 kB\n").unwrap();
        assert_eq!(
            s,
            vec![Series {
                labels: [],
                value: 2048.0
            }]
        );
        assert!(
            extract::<0>(&f, b"nothing")
                .unwrap_err()
                .contains("matched nothing")
        );
    }

    #[test]
    fn match_all_gives_a_series_per_match() {
        static LABELS: &[&[Part]] = &[&[Part::Literal("/dev/"), Part::Capture(1)]];
        let f = filter(r"(?m)^(?P<d>\w+) (\d+)$", Some(2), LABELS, true);
        let s = extract::<1>(&f, b"sda 1\nsdb 2\n").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(&*s[1].labels[0], "/dev/sdb");
        assert!(
            extract::<1>(&f, b"sda 1\nsda 2\n")
                .unwrap_err()
                .contains("same labels")
        );
    }

    #[test]
    fn label_values_must_be_utf8() {
        static LABELS: &[&[Part]] = &[&[Part::Capture(1)]];
        let f = filter(r"(?-u)(\S+) (\d+)", Some(2), LABELS, false);
        assert!(
            extract::<1>(&f, b"\xff\xfe 1")
                .unwrap_err()
                .contains("UTF-8")
        );
    }
}
