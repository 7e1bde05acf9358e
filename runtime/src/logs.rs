//! pme's log lines on stderr: `logfmt` (as Prometheus' own programs
//! write them) or one JSON object per line, never with colour codes, so
//! journald, a file or a log shipper reads them as they are.
//!
//! Every line has `ts` (RFC 3339, UTC), `level` and `msg`, then the
//! event's fields (`service`, `group`, `output`, …) in the order the code
//! gives them.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `--log.format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `ts=… level=info msg="…" key=value`.
    Logfmt,
    /// `{"ts":"…","level":"info","msg":"…","key":"value"}`.
    Json,
}

/// Sends the process's log lines to stderr in `format`, at `level` (a
/// level or a tracing filter; a bad one falls back to `info`, said in the
/// first line).
pub(crate) fn init(format: Format, level: &str) {
    let (filter, bad) = match tracing_subscriber::EnvFilter::try_new(level) {
        Ok(f) => (f, None),
        Err(e) => (tracing_subscriber::EnvFilter::new("info"), Some(e)),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(Lines { format })
        .init();
    if let Some(e) = bad {
        tracing::warn!("--log.level `{level}` is not a level or filter ({e}); logging at info");
    }
}

/// The event formatter.
#[derive(Debug, Clone, Copy)]
struct Lines {
    format: Format,
}

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut ts = String::with_capacity(32);
        SystemTime.format_time(&mut Writer::new(&mut ts))?;
        let level = event.metadata().level().as_str().to_ascii_lowercase();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let pairs = [
            ("ts", ts.as_str()),
            ("level", &level),
            ("msg", &fields.message),
        ]
        .into_iter()
        .chain(fields.pairs.iter().map(|(k, v)| (*k, v.as_str())));
        let line = match self.format {
            Format::Logfmt => logfmt(pairs),
            Format::Json => json(pairs),
        };
        writer.write_str(&line)?;
        writer.write_char('\n')
    }
}

/// An event's message and other fields, as text.
#[derive(Default)]
struct Fields {
    message: String,
    pairs: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}"));
    }
}

impl Fields {
    fn put(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.message = value;
        } else {
            self.pairs.push((field.name(), value));
        }
    }
}

/// `key=value` pairs, a value quoted when it is empty or holds a space,
/// `"` or `=`, with `\"`, `\\` and `\n` escaped.
fn logfmt<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::with_capacity(128);
    for (i, (key, value)) in pairs.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(key);
        out.push('=');
        let quote = value.is_empty()
            || value
                .chars()
                .any(|c| c.is_whitespace() || c == '"' || c == '=' || c.is_control());
        if !quote {
            out.push_str(value);
            continue;
        }
        out.push('"');
        for c in value.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c if c.is_control() => {
                    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out
}

/// One JSON object, every value a string.
fn json<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let object: serde_json::Map<String, serde_json::Value> = pairs
        .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v.to_owned())))
        .collect();
    serde_json::Value::Object(object).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logfmt_quotes_what_would_split_a_value() {
        let line = logfmt(
            [
                ("level", "warn"),
                ("msg", "collection failed: \"x\" = 1\nnext"),
                ("service", "host"),
                ("empty", ""),
            ]
            .into_iter(),
        );
        assert_eq!(
            line,
            r#"level=warn msg="collection failed: \"x\" = 1\nnext" service=host empty="""#
        );
    }

    #[test]
    fn json_is_one_object_per_line() {
        let line = json([("msg", "a\nb"), ("group", "load")].into_iter());
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["msg"], "a\nb");
        assert_eq!(v["group"], "load");
    }
}
