//! The line grammar of both formats, and the assembly of lines into
//! families. The rules beyond syntax that only strict mode enforces live in
//! `strict.rs`.

use std::borrow::Cow;
use std::collections::HashMap;

use super::number::parse_value;
use super::strict::{self, Groups};
use super::{
    Exemplar, Family, Format, MetricType, ParseError, Sample, Timestamp, is_legacy_label_name,
};

type Labels<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// The bytes of a bare metric name (`[a-zA-Z0-9_:]`), as a table: names
/// are most of an exposition's bytes, and one lookup per byte is the
/// cheapest test.
static NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b':';
        b += 1;
    }
    table
};

/// Parses a whole exposition in `format`; `strict` adds the semantic rules
/// of the reference parsers (see the module docs).
///
/// # Errors
/// The first problem, with its line.
pub fn parse(input: &[u8], format: Format, strict: bool) -> Result<Vec<Family<'_>>, ParseError> {
    let text = std::str::from_utf8(input).map_err(|e| ParseError {
        line: line_at(input, e.valid_up_to()),
        message: "not UTF-8".into(),
    })?;
    let body = match format {
        Format::OpenMetrics => before_eof(text)?,
        Format::Prometheus => {
            if strict && !text.is_empty() && !text.ends_with('\n') {
                return Err(ParseError {
                    line: text.split('\n').count(),
                    message: "no newline at the end of the input".into(),
                });
            }
            text.strip_suffix('\n').unwrap_or(text)
        }
    };
    let mut builder = Builder::new(format, strict);
    if body.is_empty() && format == Format::OpenMetrics {
        return Ok(Vec::new());
    }
    for (i, line) in lines(body).enumerate() {
        builder.line(line).map_err(|message| ParseError {
            line: i + 1,
            message,
        })?;
    }
    builder.finish().map_err(|message| ParseError {
        line: body.split('\n').count(),
        message,
    })
}

/// The lines of `text`, as `str::split('\n')` gives them, found with
/// `memchr`'s vectorized search (a scrape is mostly short lines).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
    let mut start = 0;
    ends.map(move |end| {
        // `\n` is ASCII, so both ends are character boundaries.
        let line = &text[start..end];
        start = end + 1;
        line
    })
}

fn line_at(input: &[u8], offset: usize) -> usize {
    1 + memchr::memchr_iter(b'\n', &input[..offset]).count()
}

/// The text before the final `# EOF` line (without its newline).
fn before_eof(text: &str) -> Result<&str, ParseError> {
    let end = text.strip_suffix('\n').unwrap_or(text);
    let lines = || text.split('\n').count();
    let Some(body) = end.strip_suffix("# EOF") else {
        let message = if text.contains("\n# EOF") || text.starts_with("# EOF") {
            "data after `# EOF`"
        } else {
            "the input does not end with `# EOF`"
        };
        return Err(ParseError {
            line: lines(),
            message: message.into(),
        });
    };
    if !body.is_empty() && !body.ends_with('\n') {
        return Err(ParseError {
            line: lines(),
            message: "the input does not end with `# EOF`".into(),
        });
    }
    let body = body.strip_suffix('\n').unwrap_or(body);
    if let Some(i) = body
        .split('\n')
        .position(|l| l == "# EOF" || l.starts_with("# EOF "))
    {
        return Err(ParseError {
            line: i + 2,
            message: "data after `# EOF`".into(),
        });
    }
    Ok(body)
}

/// Families as they are assembled, with what each already has.
struct Builder<'a> {
    format: Format,
    strict: bool,
    families: Vec<Family<'a>>,
    state: Vec<State>,
    current: Option<usize>,
    /// Family names and the sample names their types own → the family.
    owners: HashMap<Cow<'a, str>, usize>,
}

#[derive(Default)]
struct State {
    has_type: bool,
    /// Strict OpenMetrics: the grouping and timestamp checks.
    groups: Groups,
}

enum Meta {
    Help,
    Type,
    Unit,
}

impl<'a> Builder<'a> {
    fn new(format: Format, strict: bool) -> Self {
        Builder {
            format,
            strict,
            families: Vec::new(),
            state: Vec::new(),
            current: None,
            owners: HashMap::new(),
        }
    }

    fn strict_om(&self) -> bool {
        self.strict && self.format == Format::OpenMetrics
    }

    fn line(&mut self, line: &'a str) -> Result<(), String> {
        match self.format {
            Format::OpenMetrics => {
                if line.is_empty() {
                    return Err("empty line".into());
                }
                if let Some(rest) = line.strip_prefix('#') {
                    let (meta, rest) = if let Some(r) = rest.strip_prefix(" HELP ") {
                        (Meta::Help, r)
                    } else if let Some(r) = rest.strip_prefix(" TYPE ") {
                        (Meta::Type, r)
                    } else if let Some(r) = rest.strip_prefix(" UNIT ") {
                        (Meta::Unit, r)
                    } else {
                        return Err(format!("`{line}` is not a HELP, TYPE or UNIT line"));
                    };
                    let mut c = Cursor::new(rest, self.format);
                    let name = c.metric_name()?;
                    let text = c.rest().strip_prefix(' ').ok_or_else(|| {
                        format!("expected text after the metric name in `{line}`")
                    })?;
                    return self.metadata(meta, name, text);
                }
            }
            Format::Prometheus => {
                let trimmed = line.trim_start_matches([' ', '\t']);
                if trimmed.is_empty() {
                    return Ok(());
                }
                if let Some(rest) = trimmed.strip_prefix('#') {
                    let rest = rest.trim_start_matches([' ', '\t']);
                    let (meta, rest) = if let Some(r) = rest.strip_prefix("HELP") {
                        (Meta::Help, r)
                    } else if let Some(r) = rest.strip_prefix("TYPE") {
                        (Meta::Type, r)
                    } else {
                        return Ok(()); // a comment
                    };
                    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
                        return Ok(()); // `# HELPER`: a comment
                    }
                    let mut c = Cursor::new(rest.trim_start_matches([' ', '\t']), self.format);
                    let name = c.metric_name()?;
                    let after = c.rest();
                    if !after.is_empty() && !after.starts_with([' ', '\t']) {
                        return Err(format!("unexpected `{after}` after the metric name"));
                    }
                    let text = after.trim_start_matches([' ', '\t']);
                    let text = match meta {
                        Meta::Type => text.trim_end_matches([' ', '\t']),
                        _ => text,
                    };
                    return self.metadata(meta, name, text);
                }
            }
        }
        let mut c = Cursor::new(line, self.format);
        let sample = c.sample(self.strict)?;
        self.sample(sample)
    }

    fn family_named(&mut self, name: Cow<'a, str>) -> Result<usize, String> {
        if let Some(i) = self.current
            && self.families[i].name == name
        {
            return Ok(i);
        }
        if let Some(&i) = self.owners.get(&name) {
            if self.families[i].name == name && !self.strict_om() {
                self.current = Some(i);
                return Ok(i);
            }
            return Err(format!("`{name}` clashes with an earlier family"));
        }
        Ok(self.new_family(name))
    }

    fn new_family(&mut self, name: Cow<'a, str>) -> usize {
        let i = self.families.len();
        self.owners.insert(name.clone(), i);
        self.families.push(Family {
            name,
            kind: MetricType::Unknown,
            help: None,
            unit: None,
            format: self.format,
            samples: Vec::new(),
        });
        self.state.push(State::default());
        self.current = Some(i);
        i
    }

    fn metadata(&mut self, meta: Meta, name: Cow<'a, str>, text: &'a str) -> Result<(), String> {
        let i = self.family_named(name)?;
        let has_samples = !self.families[i].samples.is_empty();
        let (format, strict) = (self.format, self.strict);
        let family = &mut self.families[i];
        match meta {
            Meta::Help => {
                if family.help.is_some() {
                    if strict {
                        return Err(format!("a second HELP line for `{}`", family.name));
                    }
                    return Ok(()); // the first one stays
                }
                if has_samples && strict && format == Format::OpenMetrics {
                    return Err(format!("HELP for `{}` after its samples", family.name));
                }
                family.help = Some(unescape(text, format == Format::OpenMetrics));
            }
            Meta::Unit => {
                if family.unit.is_some() && strict {
                    return Err(format!("a second UNIT line for `{}`", family.name));
                }
                if has_samples && strict {
                    return Err(format!("UNIT for `{}` after its samples", family.name));
                }
                if !text.is_empty() && !family.name.ends_with(&format!("_{text}")) {
                    return Err(format!(
                        "unit `{text}` is not a suffix of the metric name `{}`",
                        family.name
                    ));
                }
                family.unit = Some(Cow::Borrowed(text));
            }
            Meta::Type => {
                let kind = MetricType::from_name(text, format)
                    .ok_or_else(|| format!("unknown metric type `{text}`"))?;
                if self.state[i].has_type {
                    if strict || kind != family.kind {
                        return Err(format!("a second TYPE line for `{}`", family.name));
                    }
                    return Ok(());
                }
                if has_samples {
                    return Err(format!("TYPE for `{}` after its samples", family.name));
                }
                family.kind = kind;
                self.state[i].has_type = true;
                let name = family.name.clone();
                for suffix in kind.suffixes(format).iter().filter(|s| !s.is_empty()) {
                    let owned: Cow<'a, str> = Cow::Owned(format!("{name}{suffix}"));
                    match self.owners.get(&owned) {
                        Some(&other) if other != i && self.strict_om() => {
                            return Err(format!("`{owned}` clashes with an earlier family"));
                        }
                        // Lenient: a family that already took this name keeps it.
                        Some(_) => {}
                        None => {
                            self.owners.insert(owned, i);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn sample(&mut self, sample: Sample<'a>) -> Result<(), String> {
        let i = match self.current {
            Some(i) if owns(&self.families[i], &sample.name) => i,
            _ => match self.owners.get(&sample.name) {
                Some(_) if self.strict_om() => {
                    return Err(format!(
                        "`{}` comes after other families: the samples of a family must be together",
                        sample.name
                    ));
                }
                Some(&i) => {
                    self.current = Some(i);
                    i
                }
                None => self.new_family(sample.name.clone()),
            },
        };
        let family = &self.families[i];
        if self.strict {
            match self.format {
                Format::OpenMetrics => {
                    strict::check_om_sample(family, &sample)?;
                    if !self.state[i].groups.admit(family, &sample)? {
                        return Ok(()); // a duplicate after timestamp truncation
                    }
                }
                Format::Prometheus => strict::check_text_sample(family, &sample)?,
            }
        }
        self.families[i].samples.push(sample);
        Ok(())
    }

    fn finish(self) -> Result<Vec<Family<'a>>, String> {
        if self.strict_om() {
            for family in &self.families {
                strict::check_family(family)?;
            }
        }
        Ok(self.families)
    }
}

/// Whether a sample named `name` belongs to `family`.
fn owns(family: &Family<'_>, name: &str) -> bool {
    name.strip_prefix(&*family.name)
        .is_some_and(|suffix| family.kind.suffixes(family.format).contains(&suffix))
}

/// Undoes `\\`, `\n` and (with `quote`) `\"`; any other backslash stays as
/// written. Label values and quoted names use all three; HELP text uses
/// `\"` only in OpenMetrics.
fn unescape(text: &str, quote: bool) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quote => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// A position in one line.
struct Cursor<'a> {
    line: &'a str,
    pos: usize,
    format: Format,
}

impl<'a> Cursor<'a> {
    fn new(line: &'a str, format: Format) -> Self {
        Cursor {
            line,
            pos: 0,
            format,
        }
    }

    fn rest(&self) -> &'a str {
        &self.line[self.pos..]
    }

    fn peek(&self) -> Option<u8> {
        self.line.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Text format: blanks between tokens are free.
    fn blanks(&mut self) -> bool {
        let start = self.pos;
        if self.format == Format::Prometheus {
            while matches!(self.peek(), Some(b' ' | b'\t')) {
                self.pos += 1;
            }
        }
        self.pos > start
    }

    fn shown(&self) -> String {
        let rest: String = self.rest().chars().take(16).collect();
        if rest.is_empty() {
            "the end of the line".into()
        } else {
            format!("`{}`", rest.escape_debug())
        }
    }

    fn word(&mut self, more: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        let rest = &self.line.as_bytes()[start..];
        self.pos += rest.iter().position(|&b| !more(b)).unwrap_or(rest.len());
        &self.line[start..self.pos]
    }

    /// A bare or quoted metric name (metadata lines).
    fn metric_name(&mut self) -> Result<Cow<'a, str>, String> {
        if self.peek() == Some(b'"') {
            return self.quoted(false, "metric name");
        }
        let name = self.word(|b| NAME_BYTES[usize::from(b)]);
        if name.is_empty() || name.as_bytes()[0].is_ascii_digit() {
            return Err(format!("expected a metric name, found {}", self.shown()));
        }
        Ok(Cow::Borrowed(name))
    }

    /// `"…"` with `\\`, `\"`, `\n` unescaped. Other escapes stay as
    /// written, except where `reject_unknown` (strict text format) makes
    /// them errors, as Go's expfmt does.
    fn quoted(&mut self, reject_unknown: bool, what: &str) -> Result<Cow<'a, str>, String> {
        if !self.eat(b'"') {
            return Err(format!(
                "expected `\"` to start the {what}, found {}",
                self.shown()
            ));
        }
        let start = self.pos;
        let bytes = self.line.as_bytes();
        loop {
            let Some(i) = memchr::memchr2(b'"', b'\\', &bytes[self.pos..]) else {
                return Err(format!("unterminated {what}"));
            };
            self.pos += i;
            if bytes[self.pos] == b'"' {
                break;
            }
            match bytes.get(self.pos + 1) {
                Some(b'\\' | b'"' | b'n') => {}
                Some(_) if reject_unknown => {
                    return Err(format!("invalid escape sequence in the {what}"));
                }
                Some(_) => {}
                None => return Err(format!("unterminated {what}")),
            }
            self.pos += 2;
        }
        let raw = &self.line[start..self.pos];
        self.pos += 1;
        Ok(unescape(raw, true))
    }

    fn sample(&mut self, strict: bool) -> Result<Sample<'a>, String> {
        let text = self.format == Format::Prometheus;
        let mut name = match self.peek() {
            Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':' => {
                Some(self.metric_name()?)
            }
            Some(b'{') => None,
            _ => return Err(format!("expected a metric name, found {}", self.shown())),
        };
        let mut spaced = self.blanks();
        let mut labels = Vec::new();
        if self.peek() == Some(b'{') {
            labels = self.label_set(&mut name, strict && text)?;
            // `a{b="c"}1`: the text parsers need no blank after `}`.
            spaced = self.blanks() || text;
        }
        let name = name.ok_or("a sample without a metric name")?;
        if let Some((n, _)) = labels.iter().find(|(n, _)| n == "__name__") {
            return Err(format!("label name `{n}` is reserved"));
        }
        if !spaced && !self.eat(b' ') {
            if self.peek().is_none() {
                return Err(format!("`{name}` has no value"));
            }
            return Err(format!(
                "expected a space and the value after `{name}`, found {}",
                self.shown()
            ));
        }
        let value = self.word(|b| b != b' ' && (b != b'\t' || !text));
        let value = parse_value(value).ok_or_else(|| format!("`{value}` is not a number"))?;
        let mut sample = Sample {
            name,
            labels,
            value,
            timestamp: None,
            exemplar: None,
        };
        if text {
            self.blanks();
            let ts = self.word(|b| b != b' ' && b != b'\t');
            if !ts.is_empty() {
                let ms: i64 = ts
                    .parse()
                    .map_err(|_| format!("`{ts}` is not an integer timestamp"))?;
                sample.timestamp = Some(Timestamp::from_millis(ms));
            }
            self.blanks();
            if self.peek().is_some() {
                return Err(format!("unexpected {} after the sample", self.shown()));
            }
            return Ok(sample);
        }
        // OpenMetrics: ` timestamp`, ` # {exemplar} value [timestamp]`.
        if self.rest().starts_with(" # ") || self.rest() == " #" {
            sample.exemplar = Some(Box::new(self.exemplar()?));
        } else if self.eat(b' ') {
            let ts = self.word(|b| b != b' ');
            sample.timestamp = Some(parse_timestamp(ts)?);
            if self.rest().starts_with(" # ") || self.rest() == " #" {
                sample.exemplar = Some(Box::new(self.exemplar()?));
            }
        }
        if self.peek().is_some() {
            return Err(format!("unexpected {} after the sample", self.shown()));
        }
        Ok(sample)
    }

    /// `{a="b",…}`, with the metric name possibly inside as a quoted string.
    fn label_set(
        &mut self,
        name: &mut Option<Cow<'a, str>>,
        strict_text: bool,
    ) -> Result<Labels<'a>, String> {
        let text = self.format == Format::Prometheus;
        self.eat(b'{');
        let mut labels: Labels<'a> = Vec::new();
        let mut first = true;
        loop {
            self.blanks();
            if self.eat(b'}') {
                break;
            }
            if first && text && self.peek() == Some(b',') {
                // `{,}`: an empty set the text parsers accept.
                self.pos += 1;
                self.blanks();
                if self.eat(b'}') {
                    break;
                }
                return Err(format!("expected `}}` after `{{,`, found {}", self.shown()));
            }
            if !first {
                if !self.eat(b',') {
                    return Err(format!("expected `,` or `}}`, found {}", self.shown()));
                }
                self.blanks();
                if !text {
                    // Writers of quoted names put a space after the comma.
                    self.eat(b' ');
                }
                if self.eat(b'}') {
                    if !text {
                        return Err("a comma before `}`".into());
                    }
                    break;
                }
            }
            first = false;
            let label = if self.peek() == Some(b'"') {
                let quoted = self.quoted(strict_text, "quoted name")?;
                self.blanks();
                if self.peek() != Some(b'=') {
                    if name.is_some() {
                        return Err("two metric names".into());
                    }
                    *name = Some(quoted);
                    continue;
                }
                quoted
            } else {
                let word = self.word(|b| b != b':' && NAME_BYTES[usize::from(b)]);
                if !is_legacy_label_name(word) {
                    return Err(format!("expected a label name, found {}", self.shown()));
                }
                Cow::Borrowed(word)
            };
            self.blanks();
            if !self.eat(b'=') {
                return Err(format!(
                    "expected `=` after label `{label}`, found {}",
                    self.shown()
                ));
            }
            self.blanks();
            let value = self.quoted(strict_text, "label value")?;
            if labels.iter().any(|(n, _)| *n == label) {
                return Err(format!("label `{label}` appears twice"));
            }
            labels.push((label, value));
        }
        Ok(labels)
    }

    fn exemplar(&mut self) -> Result<Exemplar<'a>, String> {
        self.pos += 3.min(self.rest().len());
        if self.peek() != Some(b'{') {
            return Err(format!(
                "expected `{{` to start the exemplar, found {}",
                self.shown()
            ));
        }
        let mut no_name = None;
        let labels = self.label_set(&mut no_name, false)?;
        if no_name.is_some() {
            return Err("an exemplar with a metric name".into());
        }
        let length: usize = labels
            .iter()
            .map(|(n, v)| n.chars().count() + v.chars().count())
            .sum();
        if length > 128 {
            return Err(format!(
                "exemplar labels of {length} characters (at most 128)"
            ));
        }
        if !self.eat(b' ') {
            return Err(format!(
                "expected a space and the value after the exemplar labels, found {}",
                self.shown()
            ));
        }
        let value = self.word(|b| b != b' ');
        let value = parse_value(value)
            .ok_or_else(|| format!("exemplar value `{value}` is not a number"))?;
        let timestamp = if self.eat(b' ') {
            Some(parse_timestamp(self.word(|b| b != b' '))?)
        } else {
            None
        };
        Ok(Exemplar {
            labels,
            value,
            timestamp,
        })
    }
}

/// OpenMetrics timestamp: seconds, exact to the nanosecond when written
/// as a decimal; finite.
fn parse_timestamp(s: &str) -> Result<Timestamp, String> {
    let bad = || format!("`{s}` is not a timestamp");
    let (negative, unsigned) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (whole, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if !whole.is_empty() && digits(whole) && digits(frac) && whole.len() <= 30 {
        let secs: i128 = whole.parse().map_err(|_| bad())?;
        let mut nanos: i128 = 0;
        for (i, b) in frac.bytes().take(9).enumerate() {
            nanos += i128::from(b - b'0') * 10i128.pow(8 - i as u32);
        }
        let total = secs * 1_000_000_000 + nanos;
        return Ok(Timestamp {
            nanos: if negative { -total } else { total },
        });
    }
    let f = parse_value(s).filter(|f| f.is_finite()).ok_or_else(bad)?;
    Ok(Timestamp {
        nanos: (f * 1e9) as i128,
    })
}
