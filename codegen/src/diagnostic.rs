//! One problem found in a spec, printed the way compilers print them.

use std::fmt;

/// A 1-based position in the spec file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// Line, counting from 1.
    pub line: u32,
    /// Column in characters, counting from 1.
    pub column: u32,
}

/// A problem in the spec: `path:line:col: message`, optionally followed by a hint.
///
/// Messages are lowercase with the offending value in backticks; the hint
/// lists the valid choices or says how to fix the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The spec file as given to the generator (usually relative).
    pub file: String,
    /// Where the problem is.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
    /// How to fix it, if there is something useful to say.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.pos.line, self.pos.column, self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, "; help: {help}")?;
        }
        Ok(())
    }
}

/// Collects every diagnostic of one run (serde's `Ctxt` idea): validation
/// keeps going after a problem so the user sees all of them at once.
#[derive(Debug)]
pub(crate) struct Diagnostics {
    file: String,
    found: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Diagnostics {
    pub(crate) fn new(file: &str) -> Self {
        Diagnostics {
            file: file.to_owned(),
            found: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub(crate) fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.push(pos, message.into(), None);
    }

    pub(crate) fn error_help(
        &mut self,
        pos: Pos,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.push(pos, message.into(), Some(help.into()));
    }

    fn push(&mut self, pos: Pos, message: String, help: Option<String>) {
        self.found.push(Diagnostic {
            file: self.file.clone(),
            pos,
            message,
            help,
        });
    }

    /// Advice that does not stop the build (`message; help: …` in one string).
    pub(crate) fn warn(&mut self, pos: Pos, text: String) {
        let (message, help) = match text.split_once("; help: ") {
            Some((m, h)) => (m.to_owned(), Some(h.to_owned())),
            None => (text, None),
        };
        self.warnings.push(Diagnostic {
            file: self.file.clone(),
            pos,
            message,
            help,
        });
    }

    /// The warnings in file order.
    pub(crate) fn take_warnings(&mut self) -> Vec<Diagnostic> {
        let mut warnings = std::mem::take(&mut self.warnings);
        warnings.sort_by_key(|d| d.pos);
        warnings
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// How many errors so far: a check that only makes sense on a clean
    /// part of the spec compares this before and after it.
    pub(crate) fn count(&self) -> usize {
        self.found.len()
    }

    /// All diagnostics in file order (stable for equal positions).
    pub(crate) fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.found.sort_by_key(|d| d.pos);
        self.found
    }
}

/// "did you mean" for a misspelt keyword: the closest choice within an edit
/// distance of 2, if any.
pub(crate) fn suggest<'a>(got: &str, choices: &[&'a str]) -> Option<&'a str> {
    choices
        .iter()
        .map(|c| (edit_distance(got, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `expected one of `a`, `b``, with a "did you mean" first when one is close.
/// Where the key that starts `line` of `source` is: its first character
/// that is not a blank. The model keeps lines only; a key's column is
/// its indentation.
pub(crate) fn key_pos(source: &str, line: u32) -> Pos {
    let column = source
        .lines()
        .nth(line.saturating_sub(1) as usize)
        .map_or(1, |l| {
            let blanks = l.chars().take_while(|c| *c == ' ').count();
            u32::try_from(blanks + 1).unwrap_or(1)
        });
    Pos { line, column }
}

pub(crate) fn one_of(got: &str, choices: &[&str]) -> String {
    let list = choices
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match suggest(got, choices) {
        Some(s) => format!("did you mean `{s}`? expected one of {list}"),
        None => format!("expected one of {list}"),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keywords_only() {
        let kinds = ["counter", "gauge", "info", "untyped"];
        assert_eq!(suggest("countr", &kinds), Some("counter"));
        assert_eq!(suggest("gague", &kinds), Some("gauge"));
        assert_eq!(suggest("histogram", &kinds), None);
    }
}
