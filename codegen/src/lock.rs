//! The contract gate: a spec's families checked against its committed
//! `metrics.lock` (format: `pme_content::lock`), so a change that would
//! break dashboards and alerts fails the build where it was made.
//!
//! - a family removed: an error at its line in the lock;
//! - a family renamed (one gone, one new of the same type and labels): an
//!   error at its new name in the spec;
//! - a family retyped, or with a label added or removed: an error at its
//!   line in the spec;
//! - a family added: a warning at its line (compatible, but the lock is
//!   then stale; an error under `PME_DENY_WARNINGS=1`).
//!
//! With `update`, the lock is rewritten from the spec instead: how a
//! change is accepted (`PME_LOCK=update cargo build`).

use std::path::Path;

use pme_content::lock::{self, Change, Entry};

use crate::catalog;
use crate::diagnostic::{Diagnostic, Pos};
use crate::ir::Model;

/// How to accept a change, in every message.
const ACCEPT: &str =
    "if the change is intended, run `PME_LOCK=update cargo build` and commit the lock with it";

/// The lock a model yields.
pub fn render(model: &Model) -> String {
    let entries: Vec<Entry> = entries(model).into_iter().map(|(_, e)| e).collect();
    lock::render(&model.file, &entries)
}

/// Each family's lock entry, with its line in the spec.
fn entries(model: &Model) -> Vec<(u32, Entry)> {
    catalog::families(model)
        .iter()
        .map(|f| {
            let entry = Entry::new(f.name, f.kind, f.labels.iter().map(|l| l.name));
            (f.line, entry)
        })
        .collect()
}

/// What the gate found: errors stop the build, warnings are shown.
#[derive(Debug, Default)]
pub struct Outcome {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    /// The lock was written (`update`) and differs from before.
    pub updated: bool,
}

/// Checks `model` (read from `source`) against the lock at `path`, shown
/// as `shown` in messages; with `update`, writes it instead. A spec
/// without a lock has no gate.
pub fn gate(model: &Model, source: &str, path: &Path, shown: &str, update: bool) -> Outcome {
    let mut outcome = Outcome::default();
    let (lines, now): (Vec<u32>, Vec<Entry>) = entries(model).into_iter().unzip();
    let current = lock::render(&model.file, &now);
    let old = std::fs::read_to_string(path).ok();
    if update {
        if old.as_deref() != Some(current.as_str()) {
            match crate::write_if_changed(path, &current) {
                Ok(()) => outcome.updated = true,
                Err(e) => outcome.errors.push(at(
                    shown,
                    Pos { line: 1, column: 1 },
                    format!("cannot write the lock: {e}"),
                    None,
                )),
            }
        }
        return outcome;
    }
    let Some(old) = old else {
        return outcome;
    };
    let locked = match lock::parse(&old) {
        Ok(locked) => locked,
        Err((line, text)) => {
            outcome.errors.push(at(
                shown,
                Pos { line, column: 1 },
                format!("`{text}` is not `name type [labels…]`"),
                Some(ACCEPT.to_owned()),
            ));
            return outcome;
        }
    };
    // Where a served family is written: the key of its entry in the spec.
    let spec_pos = |e: &Entry| {
        let line = now
            .iter()
            .position(|n| std::ptr::eq(n, e))
            .map_or(1, |i| lines[i]);
        crate::diagnostic::key_pos(source, line)
    };
    let spec = model.file.as_str();
    for change in lock::diff(&locked, &now) {
        let (file, pos, message) = match change {
            Change::Added(e) => {
                outcome.warnings.push(at(
                    spec,
                    spec_pos(e),
                    format!("{} `{}` is not in {shown} yet", what(e), e.name),
                    Some("run `PME_LOCK=update cargo build` and commit the lock".to_owned()),
                ));
                continue;
            }
            Change::Removed(line, e) => (
                shown,
                Pos { line, column: 1 },
                format!(
                    "{} `{}` is locked but {spec} no longer serves it (removed or renamed); dashboards and alerts that use it would break",
                    what(e),
                    e.name
                ),
            ),
            Change::Renamed { line, locked, now } => (
                spec,
                spec_pos(now),
                format!(
                    "{} `{}` was `{}` ({shown}:{line}): renamed; dashboards and alerts that use the old name would break",
                    what(now),
                    now.name,
                    locked.name
                ),
            ),
            Change::Retyped { locked, now } => (
                spec,
                spec_pos(now),
                format!(
                    "`{}` is now a {}, but {shown} locks it as a {}",
                    now.name, now.kind, locked.kind
                ),
            ),
            Change::Relabelled {
                now,
                added,
                removed,
                ..
            } => {
                let mut parts = Vec::new();
                if !added.is_empty() {
                    parts.push(format!("adds label {}", quoted(&added)));
                }
                if !removed.is_empty() {
                    parts.push(format!("removes label {}", quoted(&removed)));
                }
                (
                    spec,
                    spec_pos(now),
                    format!(
                        "`{}` {} compared with {shown}; queries that group or match on its labels would change",
                        now.name,
                        parts.join(" and ")
                    ),
                )
            }
        };
        outcome
            .errors
            .push(at(file, pos, message, Some(ACCEPT.to_owned())));
    }
    outcome
}

fn what(e: &Entry) -> &'static str {
    match e.kind.as_str() {
        "collector" => "collector",
        "imported" => "re-import",
        _ => "family",
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn at(file: &str, pos: Pos, message: String, help: Option<String>) -> Diagnostic {
    Diagnostic {
        file: file.to_owned(),
        pos,
        message,
        help,
    }
}
