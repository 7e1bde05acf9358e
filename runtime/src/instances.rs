//! Several instances of one collector in one exposition. Each instance's
//! series carry the labels the spec gives it ([`Labeller`]), and the
//! instances' families are merged ([`merge`]) so that each family has one
//! header with all its series after it, as both text formats require.
//!
//! Both work on bytes pme's own encoder wrote, once per collection (the
//! labels) or once per body built (the merge), never per scrape: a line is
//! either a comment (`# HELP`, `# TYPE`) or a series,
//! `name{labels} value` or `name value`, and no label value holds a raw
//! newline or an unescaped `"`.

use pme_content::exposition::label_value;

/// Adds an instance's labels to every series line of its bodies.
#[derive(Debug, Default)]
pub(crate) struct Labeller {
    /// `a="x",b="y"`, escaped; empty for an instance without labels.
    joined: Vec<u8>,
    /// `a="`, for each label, to find a collector that sets one itself.
    names: Vec<Vec<u8>>,
}

impl Labeller {
    /// The labels, in the spec's order.
    pub(crate) fn new(labels: &[(&str, &str)]) -> Labeller {
        let mut joined = Vec::new();
        let mut names = Vec::with_capacity(labels.len());
        for (i, (name, value)) in labels.iter().enumerate() {
            if i > 0 {
                joined.push(b',');
            }
            joined.extend_from_slice(name.as_bytes());
            joined.extend_from_slice(b"=\"");
            label_value(&mut joined, value);
            joined.push(b'"');
            names.push(format!("{name}=\"").into_bytes());
        }
        Labeller { joined, names }
    }

    /// `body` with the labels first in each series line; `body` itself
    /// when there are none.
    ///
    /// # Errors
    /// A series that already has one of the labels: the collector sets it
    /// itself, and two values for one name would be an invalid series.
    pub(crate) fn apply(&self, body: &[u8]) -> Result<Vec<u8>, String> {
        if self.joined.is_empty() {
            return Ok(body.to_vec());
        }
        let mut out = Vec::with_capacity(body.len() + body.len() / 2);
        for line in body.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b"#") {
                out.extend_from_slice(line);
                continue;
            }
            let Some(at) = line.iter().position(|&b| b == b'{' || b == b' ') else {
                out.extend_from_slice(line);
                continue;
            };
            let (name, rest) = line.split_at(at);
            out.extend_from_slice(name);
            out.push(b'{');
            out.extend_from_slice(&self.joined);
            if let Some(own) = rest.strip_prefix(b"{") {
                self.check(name, own)?;
                out.push(b',');
                out.extend_from_slice(own);
            } else {
                out.push(b'}');
                out.extend_from_slice(rest);
            }
        }
        Ok(out)
    }

    /// `own` (a series' labels after `{`) sets none of the instance's.
    fn check(&self, series: &[u8], own: &[u8]) -> Result<(), String> {
        for name in &self.names {
            let at_start = own.starts_with(name);
            let later = own
                .windows(name.len() + 1)
                .any(|w| w[0] == b',' && &w[1..] == name.as_slice());
            if at_start || later {
                return Err(format!(
                    "`{}` sets label `{}` itself; the spec's `labels:` may not give it too",
                    String::from_utf8_lossy(series),
                    String::from_utf8_lossy(&name[..name.len() - 2]),
                ));
            }
        }
        Ok(())
    }
}

/// One family of an encoded body: its comment lines and its series lines.
struct Chunk<'a> {
    name: &'a [u8],
    header: &'a [u8],
    series: &'a [u8],
}

/// Appends the families of `bodies` (instances of one collector, so the
/// same families in the same order, some perhaps empty and left out) to
/// `out`: each family's header once, from the first body that has it, then
/// its series from every body in turn.
pub(crate) fn merge(bodies: &[&[u8]], out: &mut Vec<u8>) {
    let chunked: Vec<Vec<Chunk<'_>>> = bodies.iter().map(|b| chunks(b)).collect();
    let mut names: Vec<&[u8]> = Vec::new();
    for chunk in chunked.iter().flatten() {
        if !names.contains(&chunk.name) {
            names.push(chunk.name);
        }
    }
    for name in names {
        let mut found = chunked.iter().flatten().filter(|c| c.name == name);
        if let Some(first) = found.next() {
            out.extend_from_slice(first.header);
            out.extend_from_slice(first.series);
        }
        for other in found {
            out.extend_from_slice(other.series);
        }
    }
}

/// `body` cut into families: a run of comment lines starts one.
fn chunks(body: &[u8]) -> Vec<Chunk<'_>> {
    let mut out: Vec<Chunk<'_>> = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let header_start = at;
        let mut name: &[u8] = b"";
        while at < body.len() && body[at] == b'#' {
            let end = line_end(body, at);
            if name.is_empty() || body[at..].starts_with(b"# TYPE ") {
                name = family_name(&body[at..end]);
            }
            at = end;
        }
        let series_start = at;
        while at < body.len() && body[at] != b'#' {
            at = line_end(body, at);
        }
        out.push(Chunk {
            name,
            header: &body[header_start..series_start],
            series: &body[series_start..at],
        });
    }
    out
}

/// Where the line starting at `from` ends, past its newline.
fn line_end(body: &[u8], from: usize) -> usize {
    body[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(body.len(), |i| from + i + 1)
}

/// The family a `# HELP name …` or `# TYPE name …` line is about.
fn family_name(line: &[u8]) -> &[u8] {
    let mut words = line.splitn(4, |&b| b == b' ');
    words.nth(2).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_go_first_in_every_series_line() {
        let body = b"# HELP a A.\n# TYPE a gauge\na 1\na{x=\"1\"} 2\n";
        let labelled = Labeller::new(&[("ns", "h\"o\nst")]).apply(body).unwrap();
        assert_eq!(
            String::from_utf8(labelled).unwrap(),
            "# HELP a A.\n# TYPE a gauge\na{ns=\"h\\\"o\\nst\"} 1\na{ns=\"h\\\"o\\nst\",x=\"1\"} 2\n"
        );
    }

    #[test]
    fn a_label_the_collector_sets_is_refused() {
        let labeller = Labeller::new(&[("x", "1")]);
        assert!(labeller.apply(b"a{y=\"2\",x=\"3\"} 1\n").is_err());
        assert!(labeller.apply(b"a{x=\"3\"} 1\n").is_err());
        // A value that merely contains the text is not the label.
        assert!(labeller.apply(b"a{y=\",x=\\\"\"} 1\n").is_ok());
    }

    #[test]
    fn merged_families_have_one_header_and_every_instance_series() {
        let one = b"# HELP a A.\n# TYPE a gauge\na{i=\"1\"} 1\n# HELP b B.\n# TYPE b gauge\nb{i=\"1\"} 1\n";
        let two = b"# HELP b B.\n# TYPE b gauge\nb{i=\"2\"} 2\n";
        let mut out = Vec::new();
        merge(&[one, two], &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# HELP a A.\n# TYPE a gauge\na{i=\"1\"} 1\n# HELP b B.\n# TYPE b gauge\nb{i=\"1\"} 1\nb{i=\"2\"} 2\n"
        );
    }

    #[test]
    fn openmetrics_type_before_help_is_one_family() {
        let one = b"# TYPE a counter\n# HELP a A.\na_total{i=\"1\"} 1\n";
        let two = b"# TYPE a counter\n# HELP a A.\na_total{i=\"2\"} 2\n";
        let mut out = Vec::new();
        merge(&[one, two], &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# TYPE a counter\n# HELP a A.\na_total{i=\"1\"} 1\na_total{i=\"2\"} 2\n"
        );
    }
}
