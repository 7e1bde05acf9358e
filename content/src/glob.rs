//! The path pattern of a `file` source that reads many files:
//! `/var/lib/app/{app}/status.json`, `/sys/class/hwmon/hwmon{chip}/temp{sensor}_input`.
//!
//! Within one path segment, `{name}` matches one or more characters other
//! than `/`, and their text becomes the label `name` on every series read
//! from that file. Every part of the path that varies is such a capture,
//! so two files never give the same series; a bare `*` or `?` is refused
//! for that reason. A segment that starts with a capture does not match a
//! name starting with `.` (as a shell's `*` does not). A capture is as short
//! as it can be while the rest of its segment still matches.
//!
//! Read by the spec's validator (which reports a bad pattern at its line)
//! and by the runtime (which walks the matches), so both agree on one
//! grammar.

use regex::Regex;

/// A parsed pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    segments: Vec<Segment>,
    captures: Vec<String>,
}

/// One `/`-separated part of a pattern.
#[derive(Debug, Clone)]
pub enum Segment {
    /// Taken as it is.
    Literal(String),
    /// Matched against each directory entry.
    Wild(Wild),
}

/// A segment with pattern characters.
#[derive(Debug, Clone)]
pub struct Wild {
    regex: Regex,
    /// Whether it starts with a capture, which then does not match a
    /// leading `.`.
    hides_dot_names: bool,
    /// For each capture group of `regex`, in order, its index in
    /// [`Pattern::captures`].
    captures: Vec<usize>,
}

impl Wild {
    /// Whether `name` matches; each capture's text goes into
    /// `captured[index]`.
    pub fn matches(&self, name: &str, captured: &mut [String]) -> bool {
        if self.hides_dot_names && name.starts_with('.') {
            return false;
        }
        let Some(found) = self.regex.captures(name) else {
            return false;
        };
        for (group, &index) in self.captures.iter().enumerate() {
            if let (Some(m), Some(slot)) = (found.get(group + 1), captured.get_mut(index)) {
                m.as_str().clone_into(slot);
            }
        }
        true
    }
}

/// Whether `path` has pattern characters, which make a `file` source read
/// every match.
pub fn is_pattern(path: &str) -> bool {
    path.contains(['*', '?', '{', '['])
}

impl Pattern {
    /// Parses an absolute path pattern.
    ///
    /// # Errors
    /// A message for a relative path, `[…]` classes or `**` (not
    /// supported), a capture that is not closed or not a label name, a
    /// name captured twice, or two wildcards with nothing between them.
    pub fn parse(path: &str) -> Result<Pattern, String> {
        let Some(rest) = path.strip_prefix('/') else {
            return Err(format!("`{path}` is not an absolute path"));
        };
        let mut captures = Vec::new();
        let mut segments = Vec::new();
        for text in rest.split('/') {
            segments.push(segment(text, &mut captures)?);
        }
        Ok(Pattern { segments, captures })
    }

    /// The segments after the root `/`.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The captured names, in the order they appear.
    pub fn captures(&self) -> &[String] {
        &self.captures
    }

    /// The deepest directory with no pattern characters above it (`/` at
    /// least): every match lies below it.
    pub fn base(&self) -> String {
        let mut base = String::new();
        for s in &self.segments[..self.segments.len().saturating_sub(1)] {
            match s {
                Segment::Literal(text) => {
                    base.push('/');
                    base.push_str(text);
                }
                Segment::Wild(_) => break,
            }
        }
        if base.is_empty() {
            base.push('/');
        }
        base
    }
}

/// Parses one segment, adding its capture names to `captures`.
fn segment(text: &str, captures: &mut Vec<String>) -> Result<Segment, String> {
    if !is_pattern(text) {
        return Ok(Segment::Literal(text.to_owned()));
    }
    if text.contains('[') {
        return Err(format!(
            "`{text}`: character classes `[…]` are not supported; use `*`, `?` or `{{name}}`"
        ));
    }
    if text.contains("**") {
        return Err(format!(
            "`{text}`: `**` is not supported; a pattern matches within one directory level, so write one segment per level"
        ));
    }
    let mut regex = String::from("^");
    let mut indexes = Vec::new();
    // Whether the previous piece is a capture.
    let mut after_capture = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match c {
            '*' | '?' => {
                return Err(format!(
                    "`{text}`: name what `{c}` stands for, as `{{name}}`: each part of a path that varies becomes a label, so two files never give the same series"
                ));
            }
            '{' => {
                let close = rest
                    .find('}')
                    .ok_or_else(|| format!("`{text}`: `{{` is not closed by `}}`"))?;
                let name = &rest[1..close];
                if !is_label_name(name) {
                    return Err(format!(
                        "`{text}`: `{{{name}}}` must name a label: a letter or `_`, then letters, digits or `_`"
                    ));
                }
                if captures.iter().any(|c| c == name) {
                    return Err(format!("`{text}`: `{{{name}}}` is captured twice"));
                }
                if after_capture {
                    return Err(format!(
                        "`{text}`: two captures in a row cannot tell where one ends; put text between them"
                    ));
                }
                indexes.push(captures.len());
                captures.push(name.to_owned());
                regex.push_str("([^/]+?)");
                rest = &rest[close + 1..];
                after_capture = true;
            }
            _ => {
                let len = rest.find(['{', '*', '?']).unwrap_or(rest.len());
                regex.push_str(&regex::escape(&rest[..len]));
                rest = &rest[len..];
                after_capture = false;
            }
        }
    }
    regex.push('$');
    let regex = Regex::new(&regex).map_err(|e| format!("`{text}`: {e}"))?;
    Ok(Segment::Wild(Wild {
        regex,
        hides_dot_names: text.starts_with('{'),
        captures: indexes,
    }))
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`.
fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wild(p: &Pattern, i: usize) -> &Wild {
        match &p.segments()[i] {
            Segment::Wild(w) => w,
            Segment::Literal(l) => panic!("segment {i} is the literal {l}"),
        }
    }

    #[test]
    fn captures_take_the_text_up_to_the_rest_of_the_segment() {
        let p = Pattern::parse("/sys/class/hwmon/hwmon{chip}/temp{sensor}_input").unwrap();
        assert_eq!(p.captures(), ["chip", "sensor"]);
        assert_eq!(p.base(), "/sys/class/hwmon");
        let mut got = vec![String::new(), String::new()];
        assert!(wild(&p, 3).matches("hwmon12", &mut got));
        assert!(!wild(&p, 3).matches("hwmon1/x", &mut got));
        assert!(wild(&p, 4).matches("temp3_input", &mut got));
        assert_eq!(got, ["12", "3"]);
        assert!(wild(&p, 4).matches("temp1_input_input", &mut got));
        assert_eq!(got[1], "1_input", "the rest must match to the end");
        assert!(
            !wild(&p, 4).matches("temp_input", &mut got),
            "a capture is never empty"
        );
        assert!(!wild(&p, 4).matches("temp3_max", &mut got));
        let p = Pattern::parse("/{a}-{b}").unwrap();
        let mut got = vec![String::new(), String::new()];
        assert!(wild(&p, 0).matches("x-y-z", &mut got));
        assert_eq!(
            got,
            ["x", "y-z"],
            "the first capture is as short as it can be"
        );
    }

    #[test]
    fn leading_captures_skip_dot_names_and_literal_text_is_literal() {
        let p = Pattern::parse("/d/{app}/s{n}.json").unwrap();
        let mut got = vec![String::new(), String::new()];
        assert!(!wild(&p, 1).matches(".hidden", &mut got));
        assert!(wild(&p, 1).matches("web", &mut got));
        assert!(
            wild(&p, 2).matches("s.1.json", &mut got),
            "only a leading dot is hidden"
        );
        assert_eq!(got, ["web", ".1"]);
        assert!(!wild(&p, 2).matches("s1xjson", &mut got), "`.` is literal");
        assert_eq!(Pattern::parse("/{a}/x").unwrap().base(), "/");
    }

    #[test]
    fn bad_patterns_say_why() {
        for (path, why) in [
            ("rel/*", "absolute"),
            ("/a/[ab]", "character classes"),
            ("/a/**/b", "`**`"),
            ("/a/{x", "not closed"),
            ("/a/{1x}", "must name a label"),
            ("/a/{x}/{x}", "captured twice"),
            ("/a/{x}{y}", "two captures in a row"),
            ("/a/*.json", "name what `*` stands for"),
            ("/a/x?", "name what `?` stands for"),
        ] {
            let e = Pattern::parse(path).unwrap_err();
            assert!(e.contains(why), "{path}: {e}");
        }
        assert!(Pattern::parse("/a/{x}-{y}").is_ok());
        assert!(!is_pattern("/etc/hostname"));
    }
}
