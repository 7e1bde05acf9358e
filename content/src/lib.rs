//! Content parsers: a source's bytes → series, one module per
//! `content_type`.
//!
//! This crate is shared by the pme runtime (which runs the filters on every
//! reading) and by `pme-codegen` (which runs the same filters on the
//! `sample:` a spec carries, at build time), so a sample is checked by
//! exactly the code that will later read the real source. It also holds
//! the one Prometheus duration syntax, read by the spec and by pme's
//! runtime configuration alike, and the grammars both sides check: path
//! patterns ([`glob`]) and URL hosts ([`authority`]), and the shape of a
//! spec ([`spec`]: its keys and JSON Schema).

pub mod authority;
pub mod duration;
pub mod exposition;
pub mod glob;
pub mod json;
mod kind;
pub mod lock;
pub mod query;
pub mod spec;
pub mod text;
pub mod xml;

pub use kind::Kind;

/// One series: its dynamic label values and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Series<const N: usize> {
    /// Values of the dynamic labels, in declaration order.
    pub labels: [Box<str>; N],
    /// The sample value.
    pub value: f64,
}

/// One extracted series with its dynamic label values in a `Vec`, before
/// it takes the typed shape of a collector field.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Values of the dynamic labels, in declaration order.
    pub labels: Vec<Box<str>>,
    /// The sample value.
    pub value: f64,
}

/// `rows` if no two have the same labels (which would be two series of one
/// name and label set: invalid exposition). Sorting indices keeps this
/// O(n log n) and copies nothing.
///
/// # Errors
/// "`what` give the same labels […]".
pub fn unique(rows: Vec<Row>, what: &str) -> Result<Vec<Row>, String> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_unstable_by(|a, b| rows[*a].labels.cmp(&rows[*b].labels));
    if let Some(pair) = order
        .windows(2)
        .find(|w| rows[w[0]].labels == rows[w[1]].labels)
    {
        return Err(format!(
            "{what} give the same labels {:?}",
            rows[pair[0]].labels
        ));
    }
    Ok(rows)
}

/// Rows into series of a field with `N` dynamic labels.
///
/// # Errors
/// A row with another number of labels (the derive checks the count at
/// compile time, so this means a plan and a field disagree).
pub fn into_series<const N: usize>(rows: Vec<Row>) -> Result<Vec<Series<N>>, String> {
    rows.into_iter()
        .map(|row| {
            let count = row.labels.len();
            let labels = row
                .labels
                .try_into()
                .map_err(|_| format!("{count} label values for a field with {N}"))?;
            Ok(Series {
                labels,
                value: row.value,
            })
        })
        .collect()
}

/// Turns an extracted string into a sample value: through `value_map` when
/// the metric has one (an unmapped string is an error), else as a number.
///
/// # Errors
/// The string is not in the map, or (without a map) not a number.
pub fn to_value(raw: &[u8], value_map: &[(&str, f64)]) -> Result<f64, String> {
    if value_map.is_empty() {
        return text::parse_value(raw);
    }
    let key = std::str::from_utf8(raw).map(str::trim).unwrap_or("");
    value_map
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let known: Vec<String> = value_map.iter().map(|(k, _)| format!("`{k}`")).collect();
            let shown: String = String::from_utf8_lossy(raw).chars().take(64).collect();
            format!(
                "`{}` is not in value_map (expected one of {})",
                shown.trim(),
                known.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_strings_to_values() {
        let map = [("ok", 1.0), ("degraded", 0.5), ("down", 0.0)];
        assert_eq!(to_value(b"degraded\n", &map), Ok(0.5));
        let err = to_value(b"exploded", &map).unwrap_err();
        assert_eq!(
            err,
            "`exploded` is not in value_map (expected one of `ok`, `degraded`, `down`)"
        );
        assert_eq!(to_value(b"2.5", &[]), Ok(2.5), "no map: a number");
        assert!(to_value(b"2.5", &map).is_err(), "a map: only its strings");
    }
}
