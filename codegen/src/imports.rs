//! `content_type: prometheus`: the `metrics:` entries of such a group
//! select families of the source instead of extracting values. This
//! module knows which names an import can produce and catches two groups
//! that could serve one name; `validate::imports` checks each entry.

use pme_content::exposition::{Op, Selector};

use crate::diagnostic::{Diagnostics, Pos};

/// The output names one import can produce: one exact name, or names
/// starting with one of some prefixes.
#[derive(Clone, Debug)]
pub(crate) enum Output {
    Exact(String),
    Prefixed(Vec<String>),
}

/// The prefixes every name a selector's `__name__=~` regexes match starts
/// with (`node_` for `node_.*`); `[""]` when they can start with anything.
pub(crate) fn name_prefixes(selector: &Selector) -> Vec<String> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let mut best = vec![String::new()];
    for m in &selector.matchers {
        if m.label != "__name__" || m.op != Op::Re {
            continue;
        }
        let Ok(hir) = regex_syntax::Parser::new().parse(&m.value) else {
            continue;
        };
        let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
        if let Some(literals) = seq.literals() {
            let found: Vec<String> = literals
                .iter()
                .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned())
                .collect();
            // Several regexes must all match: the longest prefixes say most.
            if found.iter().map(String::len).min() > best.iter().map(String::len).min() {
                best = found;
            }
        }
    }
    best
}

/// Where every import so far can put families, to find two groups that
/// could serve the same family name.
#[derive(Default)]
pub(crate) struct Outputs {
    seen: Vec<(String, Output, Pos)>,
}

impl Outputs {
    /// Whether an import serves the family `name` by its exact name.
    pub(crate) fn serves_exactly(&self, name: &str) -> bool {
        self.seen
            .iter()
            .any(|(_, output, _)| matches!(output, Output::Exact(n) if n == name))
    }

    pub(crate) fn claim(&mut self, group: &str, output: Output, pos: Pos, d: &mut Diagnostics) {
        let clash = self.seen.iter().find(|(g, other, _)| {
            g != group
                && match (&output, other) {
                    (Output::Exact(_), Output::Exact(_)) => false, // the family map reports these
                    (Output::Exact(n), Output::Prefixed(ps))
                    | (Output::Prefixed(ps), Output::Exact(n)) => {
                        ps.iter().any(|p| n.starts_with(p.as_str()))
                    }
                    (Output::Prefixed(a), Output::Prefixed(b)) => a.iter().any(|a| {
                        b.iter()
                            .any(|b| a.starts_with(b.as_str()) || b.starts_with(a.as_str()))
                    }),
                }
        });
        if let Some((other, _, at)) = clash {
            d.error_help(
                pos,
                format!(
                    "families imported here and by group `{other}` (line {}, column {}) could get the same names",
                    at.line, at.column
                ),
                "give one of them a `prefix` the other's names cannot start with, or select exact names",
            );
        }
        self.seen.push((group.to_owned(), output, pos));
    }
}
