//! A group whose source is a path pattern: one generated collector per
//! matched file, so each file keeps its own last values and
//! `value_on_error`, and its series carry the pattern's captures as labels.
//! The files' bodies are merged into one per format, each family's header
//! once (as for the instances of one collector).

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::encode::Format;
use crate::instances::{Labeller, merge};
use crate::metric::MetricGroup;
use crate::sources::files::Matches;

/// At most this many per-file errors are named in a group's last error.
const ERRORS_NAMED: usize = 3;

/// The collectors of one group, by the captures of their file.
#[derive(Debug)]
pub(crate) struct PerFile {
    new: fn() -> Box<dyn MetricGroup>,
    names: &'static [&'static str],
    files: BTreeMap<Vec<String>, File>,
    /// Series dropped over `max_series` by the collectors of files no
    /// longer matched.
    dropped_by_gone: u64,
}

#[derive(Debug)]
struct File {
    group: Box<dyn MetricGroup>,
    labeller: Labeller,
}

impl PerFile {
    /// No files yet; `new` makes each file's collector, `names` are the
    /// captures' label names.
    pub(crate) fn new(new: fn() -> Box<dyn MetricGroup>, names: &'static [&'static str]) -> Self {
        PerFile {
            new,
            names,
            files: BTreeMap::new(),
            dropped_by_gone: 0,
        }
    }

    /// The families every file's collector serves.
    pub(crate) fn families(&self) -> Vec<&'static str> {
        (self.new)().families()
    }

    /// Extracts each matched file with its own collector; a file no longer
    /// matched takes its series with it. The error names the files that
    /// could not be read or extracted.
    pub(crate) fn extract(&mut self, matches: &Matches) -> Option<String> {
        let gone = &mut self.dropped_by_gone;
        self.files.retain(|captures, file| {
            let kept = matches.files.iter().any(|m| &m.captures == captures);
            if !kept {
                *gone += file.group.series_dropped();
            }
            kept
        });
        let mut errors = Vec::new();
        for m in &matches.files {
            let file = self.files.entry(m.captures.clone()).or_insert_with(|| {
                let labels: Vec<(&str, &str)> = self
                    .names
                    .iter()
                    .copied()
                    .zip(m.captures.iter().map(String::as_str))
                    .collect();
                File {
                    group: (self.new)(),
                    labeller: Labeller::new(&labels),
                }
            });
            match &m.content {
                Ok(content) => {
                    if let Err(e) = file.group.extract(content) {
                        errors.push(format!("{}: extract: {e}", m.path));
                    }
                }
                Err(e) => {
                    file.group.fail();
                    errors.push(format!("{}: read: {e}", m.path));
                }
            }
        }
        summary(errors)
    }

    /// Series dropped over `max_series` since start, every file's.
    pub(crate) fn series_dropped(&self) -> u64 {
        self.dropped_by_gone
            + self
                .files
                .values()
                .map(|f| f.group.series_dropped())
                .sum::<u64>()
    }

    /// No file could be read: each falls back.
    pub(crate) fn fail(&mut self) {
        for file in self.files.values_mut() {
            file.group.fail();
        }
    }

    /// Every file's families in `format`, labelled and merged.
    ///
    /// # Errors
    /// A file's series sets a capture's label itself (a re-import can).
    pub(crate) fn encode(&self, format: Format) -> Result<Bytes, String> {
        let mut bodies = Vec::with_capacity(self.files.len());
        for file in self.files.values() {
            let mut out = Vec::with_capacity(256);
            file.group.encode(&mut out, format);
            bodies.push(file.labeller.apply(&out)?);
        }
        let slices: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        let mut out = Vec::with_capacity(slices.iter().map(|b| b.len()).sum());
        merge(&slices, &mut out);
        Ok(out.into())
    }
}

/// The first few errors, and how many more there were.
fn summary(errors: Vec<String>) -> Option<String> {
    let more = errors.len().saturating_sub(ERRORS_NAMED);
    let mut named = errors.into_iter().take(ERRORS_NAMED).collect::<Vec<_>>();
    if named.is_empty() {
        return None;
    }
    if more > 0 {
        named.push(format!("and {more} more"));
    }
    Some(named.join("; "))
}
