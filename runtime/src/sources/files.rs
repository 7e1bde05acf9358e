//! `source_type: file` with a path pattern: every matching file, each
//! size-capped, with the text of the pattern's captures.
//!
//! The pattern is walked one segment at a time: a literal segment is
//! joined on, a segment with pattern characters is matched against the
//! directory's entries. Matches come in path order, and at most
//! `max_files` of them are read; the rest are counted, so a directory that
//! fills up costs neither memory nor series.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use pme_content::glob::{Pattern, Segment};

use super::identity::Identity;
use super::{Reading, SourceError};

/// One matched file, read or not.
#[derive(Debug)]
pub(crate) struct Matched {
    /// Its path.
    pub path: String,
    /// The text of each capture, in the pattern's order.
    pub captures: Vec<String>,
    /// Its content, or why it could not be read.
    pub content: Result<Bytes, String>,
}

/// What one read of a pattern found.
#[derive(Debug, Default)]
pub(crate) struct Matches {
    /// The files read, in path order.
    pub files: Vec<Matched>,
    /// Matches past `max_files`, not read.
    pub dropped: u64,
}

/// A source's compiled pattern.
#[derive(Debug)]
pub(crate) struct Glob {
    pattern: Pattern,
    max_files: usize,
}

impl Glob {
    /// Compiles `pattern` (checked by the build, so an error here means
    /// generated code and runtime disagree).
    pub(crate) fn new(pattern: &str, max_files: u32) -> Result<Glob, String> {
        Ok(Glob {
            pattern: Pattern::parse(pattern)?,
            max_files: max_files as usize,
        })
    }

    /// The paths that match, in order, at most `max_files`, and how many
    /// more matched.
    pub(crate) fn expand(&self) -> (Vec<(String, Vec<String>)>, u64) {
        let mut walk = Walk {
            found: Vec::new(),
            dropped: 0,
            max: self.max_files,
            width: self.pattern.captures().len(),
        };
        walk.segment(
            PathBuf::from("/"),
            self.pattern.segments(),
            vec![String::new(); walk.width],
        );
        (walk.found, walk.dropped)
    }

    /// Expands the pattern and reads each match.
    fn read_all(&self, limit: usize) -> Matches {
        let (paths, dropped) = self.expand();
        let files = paths
            .into_iter()
            .map(|(path, captures)| Matched {
                content: read_one(&path, limit),
                path,
                captures,
            })
            .collect();
        Matches { files, dropped }
    }
}

/// Reads every match with pme's rights, or with `as_user`'s when set,
/// within `timeout` for the whole pattern.
pub(super) async fn read(
    glob: &Arc<Glob>,
    limit: usize,
    timeout: Duration,
    as_user: Option<&Identity>,
) -> Result<Reading, SourceError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let glob = glob.clone();
    match as_user {
        None => {
            tokio::task::spawn_blocking(move || {
                let _ = tx.send(Ok(glob.read_all(limit)));
            });
        }
        Some(identity) => identity
            .spawn_with_file_rights(move |assumed| {
                let _ = tx.send(assumed.map(|()| glob.read_all(limit)));
            })
            .map_err(|e| SourceError::Io(format!("cannot start a thread: {e}")))?,
    }
    match tokio::time::timeout(timeout, rx).await {
        Err(_) => Err(SourceError::Timeout(timeout)),
        Ok(Err(_)) => Err(SourceError::Io("the read of the pattern failed".to_owned())),
        Ok(Ok(Err(e))) => Err(SourceError::Io(e.to_string())),
        Ok(Ok(Ok(matches))) => Ok(Reading::files(matches)),
    }
}

/// A file's content, at most `limit` bytes.
fn read_one(path: &str, limit: usize) -> Result<Bytes, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut content = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut content)
        .map_err(|e| e.to_string())?;
    if content.len() > limit {
        return Err(format!("content exceeds the limit of {limit} bytes"));
    }
    Ok(content.into())
}

/// The state of one expansion.
struct Walk {
    found: Vec<(String, Vec<String>)>,
    dropped: u64,
    max: usize,
    width: usize,
}

impl Walk {
    /// Matches `rest` below `dir`, with the captures made so far.
    fn segment(&mut self, dir: PathBuf, rest: &[Segment], captured: Vec<String>) {
        let Some((first, after)) = rest.split_first() else {
            return;
        };
        match first {
            Segment::Literal(name) => self.step(dir.join(name), after, captured),
            Segment::Wild(wild) => {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    return;
                };
                let mut names: Vec<String> = entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect();
                names.sort_unstable();
                for name in names {
                    let mut next = captured.clone();
                    if wild.matches(&name, &mut next) {
                        self.step(dir.join(&name), after, next);
                    }
                }
            }
        }
    }

    /// Goes on below `path`, or takes it when the pattern ends there.
    fn step(&mut self, path: PathBuf, after: &[Segment], captured: Vec<String>) {
        if !after.is_empty() {
            if path.is_dir() {
                self.segment(path, after, captured);
            }
            return;
        }
        // Only regular files (through symlinks) are read.
        if !path.is_file() {
            return;
        }
        if self.found.len() >= self.max {
            self.dropped += 1;
            return;
        }
        debug_assert_eq!(captured.len(), self.width);
        if let Some(path) = path.to_str() {
            self.found.push((path.to_owned(), captured));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_come_in_path_order_with_their_captures_and_past_the_bound_are_counted() {
        let dir = tempfile::Builder::new()
            .prefix("pme-files-unit-")
            .tempdir()
            .unwrap();
        for app in ["web", "db", "cache", ".hidden"] {
            std::fs::create_dir(dir.path().join(app)).unwrap();
            std::fs::write(dir.path().join(app).join("status.json"), app).unwrap();
        }
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        std::fs::write(dir.path().join("stray.json"), "").unwrap();
        let pattern = format!("{}/{{app}}/status.json", dir.path().display());
        let glob = Glob::new(&pattern, 2).unwrap();
        let (found, dropped) = glob.expand();
        let apps: Vec<&str> = found.iter().map(|(_, c)| c[0].as_str()).collect();
        assert_eq!(apps, ["cache", "db"]);
        assert_eq!(dropped, 1, "web matched past max_files");
        assert!(found[0].0.ends_with("/cache/status.json"));

        let glob = Glob::new(&pattern, 10).unwrap();
        let matches = glob.read_all(3);
        let read: Vec<_> = matches
            .files
            .iter()
            .map(|m| {
                m.content
                    .as_ref()
                    .map(|b| b.to_vec())
                    .map_err(String::as_str)
            })
            .collect();
        assert_eq!(read[1], Ok(b"db".to_vec()));
        assert_eq!(
            read[0],
            Err("content exceeds the limit of 3 bytes"),
            "each file has its own cap"
        );
        assert_eq!(matches.dropped, 0);
    }
}
