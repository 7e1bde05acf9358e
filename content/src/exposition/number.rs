//! Sample values as both exposition formats write them, for the parser
//! and for the strict checks of `le` and `quantile` labels.

/// A sample value: a decimal or exponent number, or `NaN`/`Inf` forms.
/// Underscores, hex, octal and binary forms are refused, as Go's and
/// Python's parsers refuse them.
pub(crate) fn parse_value(s: &str) -> Option<f64> {
    let digits = s.trim_start_matches(['+', '-']);
    if digits.len() > 1
        && digits.as_bytes()[0] == b'0'
        && matches!(
            digits.as_bytes()[1],
            b'x' | b'X' | b'o' | b'O' | b'b' | b'B'
        )
    {
        return None;
    }
    s.parse().ok()
}
