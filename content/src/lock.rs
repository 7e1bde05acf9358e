//! `metrics.lock`: the families a spec serves, each with its type and
//! label names, committed beside the spec so a change that breaks
//! dashboards and alerts (a family removed or renamed, retyped, a label
//! added or removed) fails the build until the lock is updated with it.
//!
//! The build writes and checks it (pme-codegen), and `pme describe
//! --format lock` prints it from a binary; both go through this module, so
//! there is one format:
//!
//! ```text
//! # metrics.lock of metrics.yaml: …
//! pme_system_kernel_info info release
//! pme_system_sockets_in_use gauge protocol
//! pme::collect::builtin::Load collector
//! ```
//!
//! One line per family, sorted: name, type, label names (sorted, space
//! separated). A re-import is locked by its selector (type `imported`), a
//! collector by its Rust type (type `collector`).

use std::collections::BTreeMap;
use std::fmt::Write;

/// One locked family.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// Family name, a re-import's selector or a collector's type.
    pub name: String,
    /// `counter`, `gauge`, `info`, `untyped`, `histogram`, `imported` or
    /// `collector`.
    pub kind: String,
    /// Label names, sorted.
    pub labels: Vec<String>,
}

impl Entry {
    /// An entry, its labels sorted.
    pub fn new(
        name: &str,
        kind: &str,
        labels: impl IntoIterator<Item = impl Into<String>>,
    ) -> Entry {
        let mut labels: Vec<String> = labels.into_iter().map(Into::into).collect();
        labels.sort_unstable();
        labels.dedup();
        Entry {
            name: name.to_owned(),
            kind: kind.to_owned(),
            labels,
        }
    }

    fn line(&self) -> String {
        let mut line = format!("{} {}", self.name, self.kind);
        for l in &self.labels {
            line.push(' ');
            line.push_str(l);
        }
        line
    }
}

/// The lock file of `spec` holding `entries`.
pub fn render(spec: &str, entries: &[Entry]) -> String {
    let mut sorted = entries.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut text = format!(
        "# metrics.lock of {spec}: every family it serves, with its type and labels.\n\
         # The build fails when the spec stops serving one as written here.\n\
         # To accept a change, run `PME_LOCK=update cargo build` and commit this file.\n"
    );
    for e in &sorted {
        let _ = writeln!(text, "{}", e.line());
    }
    text
}

/// A lock file's entries with their line numbers; comments and blank
/// lines skipped.
///
/// # Errors
/// The line number and text of a line that is not `name type [labels…]`.
pub fn parse(text: &str) -> Result<Vec<(u32, Entry)>, (u32, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_ascii_whitespace();
        match (words.next(), words.next()) {
            (Some(name), Some(kind)) => out.push((number, Entry::new(name, kind, words))),
            _ => return Err((number, line.to_owned())),
        }
    }
    Ok(out)
}

/// How the spec differs from its lock.
#[derive(Debug, PartialEq, Eq)]
pub enum Change<'a> {
    /// In the lock (at this line), no longer served.
    Removed(u32, &'a Entry),
    /// In the lock (at this line), no longer served; a family that is not
    /// in the lock has its type and labels: most likely its new name.
    Renamed {
        line: u32,
        locked: &'a Entry,
        now: &'a Entry,
    },
    /// Served with another type than the lock's.
    Retyped { locked: &'a Entry, now: &'a Entry },
    /// Served with other labels: those added and those removed.
    Relabelled {
        locked: &'a Entry,
        now: &'a Entry,
        added: Vec<&'a str>,
        removed: Vec<&'a str>,
    },
    /// Served, not in the lock (compatible: a warning).
    Added(&'a Entry),
}

/// Every change from `locked` to `now`: removals and renames first (in
/// lock order), then the rest in `now`'s order.
pub fn diff<'a>(locked: &'a [(u32, Entry)], now: &'a [Entry]) -> Vec<Change<'a>> {
    let by_name: BTreeMap<&str, &Entry> = now.iter().map(|e| (e.name.as_str(), e)).collect();
    let was: BTreeMap<&str, &Entry> = locked.iter().map(|(_, e)| (e.name.as_str(), e)).collect();
    let mut new: Vec<&Entry> = now
        .iter()
        .filter(|e| !was.contains_key(e.name.as_str()))
        .collect();
    let mut changes = Vec::new();
    for (line, e) in locked {
        if by_name.contains_key(e.name.as_str()) {
            continue;
        }
        let same_shape = new
            .iter()
            .position(|n| n.kind == e.kind && n.labels == e.labels);
        changes.push(match same_shape {
            Some(i) => Change::Renamed {
                line: *line,
                locked: e,
                now: new.remove(i),
            },
            None => Change::Removed(*line, e),
        });
    }
    for e in now {
        let Some(locked) = was.get(e.name.as_str()) else {
            if new.iter().any(|n| std::ptr::eq(*n, e)) {
                changes.push(Change::Added(e));
            }
            continue;
        };
        if locked.kind != e.kind {
            changes.push(Change::Retyped { locked, now: e });
        } else if locked.labels != e.labels {
            let missing = |from: &'a Entry, of: &Entry| -> Vec<&'a str> {
                from.labels
                    .iter()
                    .filter(|l| !of.labels.contains(l))
                    .map(String::as_str)
                    .collect()
            };
            changes.push(Change::Relabelled {
                locked,
                now: e,
                added: missing(e, locked),
                removed: missing(locked, e),
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_lock_parses_back() {
        let entries = [
            Entry::new("b_total", "counter", ["z", "a"]),
            Entry::new("a", "gauge", Vec::<String>::new()),
        ];
        let text = render("metrics.yaml", &entries);
        assert!(text.ends_with("a gauge\nb_total counter a z\n"), "{text}");
        let parsed: Vec<Entry> = parse(&text).unwrap().into_iter().map(|(_, e)| e).collect();
        let mut sorted = entries.to_vec();
        sorted.sort();
        assert_eq!(parsed, sorted);
        assert_eq!(
            parse("# c\n\nonly_a_name\n"),
            Err((3, "only_a_name".into()))
        );
    }

    #[test]
    fn every_kind_of_change_is_named() {
        let locked = parse(
            "gone gauge\nkept gauge a\nretyped gauge\nrelabelled gauge a b\nold_name info x\n",
        )
        .unwrap();
        let now = [
            Entry::new("kept", "gauge", ["a"]),
            Entry::new("retyped", "counter", Vec::<String>::new()),
            Entry::new("relabelled", "gauge", ["b", "c"]),
            Entry::new("new", "gauge", ["y"]),
            Entry::new("new_name", "info", ["x"]),
        ];
        let changes = diff(&locked, &now);
        assert_eq!(changes.len(), 5, "{changes:?}");
        assert_eq!(changes[0], Change::Removed(1, &locked[0].1));
        assert_eq!(
            changes[1],
            Change::Renamed {
                line: 5,
                locked: &locked[4].1,
                now: &now[4]
            }
        );
        assert!(matches!(changes[2], Change::Retyped { now, .. } if now.kind == "counter"));
        assert!(matches!(
            &changes[3],
            Change::Relabelled { added, removed, .. } if added == &["c"] && removed == &["a"]
        ));
        assert_eq!(changes[4], Change::Added(&now[3]));
    }
}
