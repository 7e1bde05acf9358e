//! Content negotiation as Prometheus does it
//! (<https://prometheus.io/docs/instrumenting/content_negotiation/>):
//! OpenMetrics text when the client ranks it at least as high as the text
//! format, text format 0.0.4 otherwise; gzip when `Accept-Encoding` allows.

use crate::encode::{Format, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};

/// `Content-Type` of OpenMetrics for a client that accepts only 0.0.1.
const OPENMETRICS_0_0_1_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=0.0.1; charset=utf-8";

/// What to answer: the format and its exact `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Choice {
    /// The exposition format.
    pub format: Format,
    /// The `Content-Type` header.
    pub content_type: &'static str,
}

/// The format for an `Accept` header (absent: the text format).
pub(crate) fn format(accept: Option<&str>) -> Choice {
    let text = Choice {
        format: Format::Prometheus,
        content_type: TEXT_CONTENT_TYPE,
    };
    let Some(accept) = accept else { return text };
    let mut best_text = 0.0_f32;
    let mut best_om = 0.0_f32;
    let mut om_1_0 = false;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let (mut q, mut version) = (1.0_f32, None);
        for param in parts {
            match param.split_once('=') {
                Some(("q", v)) => q = v.trim().parse().unwrap_or(0.0),
                Some(("version", v)) => version = Some(v.trim().to_owned()),
                _ => {}
            }
        }
        match media.as_str() {
            "application/openmetrics-text" if q > 0.0 => {
                if version.as_deref().is_none_or(|v| v == "1.0.0") {
                    om_1_0 = true;
                }
                best_om = best_om.max(q);
            }
            "text/plain" | "text/*" | "*/*" => best_text = best_text.max(q),
            _ => {}
        }
    }
    if best_om > 0.0 && best_om >= best_text {
        Choice {
            format: Format::OpenMetrics,
            content_type: if om_1_0 {
                OPENMETRICS_CONTENT_TYPE
            } else {
                OPENMETRICS_0_0_1_CONTENT_TYPE
            },
        }
    } else {
        text
    }
}

/// Whether `Accept-Encoding` allows gzip (`gzip` or `*` with q > 0).
pub(crate) fn gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding.is_some_and(|header| {
        header.split(',').any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && q > 0.0
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_like_prometheus() {
        // Prometheus 2.x with OpenMetrics first (its default).
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(format(Some(prometheus)).format, Format::OpenMetrics);
        assert_eq!(
            format(Some(prometheus)).content_type,
            OPENMETRICS_CONTENT_TYPE
        );
        // Prometheus 3 preferring the text format.
        let text_first = "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1";
        assert_eq!(format(Some(text_first)).format, Format::Prometheus);
        assert_eq!(
            format(Some("application/openmetrics-text; version=0.0.1")).content_type,
            OPENMETRICS_0_0_1_CONTENT_TYPE
        );
        for other in [
            None,
            Some(""),
            Some("*/*"),
            Some("text/html"),
            Some("application/openmetrics-text;q=0"),
        ] {
            assert_eq!(format(other).content_type, TEXT_CONTENT_TYPE, "{other:?}");
        }
    }

    #[test]
    fn gzip_when_allowed() {
        assert!(gzip(Some("gzip")));
        assert!(gzip(Some("deflate, gzip;q=0.5")));
        assert!(gzip(Some("*")));
        assert!(!gzip(Some("gzip;q=0")));
        assert!(!gzip(Some("identity")));
        assert!(!gzip(None));
    }
}
