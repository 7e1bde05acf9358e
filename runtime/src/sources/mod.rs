//! Reading sources: bytes in, with a timeout and a size cap.
//!
//! One [`Source`] per distinct source in the plan; the scheduler reads it
//! at most once per cycle and hands the bytes to every group due. Each
//! reading carries a version (a hash of the content), so every group can
//! skip re-parsing content it has already parsed, even when the groups
//! sharing a source are due on different ticks.

mod command;
mod file;
pub(crate) mod files;
pub(crate) mod http;
pub(crate) mod identity;
mod static_value;

use std::borrow::Cow;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use crate::plan::{SourceKind, SourcePlan};
pub(crate) use identity::RunAsState;

/// What one read produced.
#[derive(Clone, Debug)]
pub(crate) struct Reading {
    /// The content.
    pub content: Bytes,
    /// Equal for equal content: a group that already parsed this version
    /// need not parse it again.
    pub version: u64,
    /// For a path pattern: each file matched, and `content` is empty.
    pub files: Option<Arc<files::Matches>>,
}

impl Reading {
    /// A reading versioned by a hash of its content.
    pub(crate) fn new(content: Bytes) -> Reading {
        let mut hasher = DefaultHasher::new();
        content.hash(&mut hasher);
        Reading {
            version: hasher.finish(),
            content,
            files: None,
        }
    }

    /// The files a pattern matched, versioned by a hash of their paths and
    /// contents.
    pub(crate) fn files(matches: files::Matches) -> Reading {
        let mut hasher = DefaultHasher::new();
        for m in &matches.files {
            m.path.hash(&mut hasher);
            m.content.hash(&mut hasher);
        }
        matches.dropped.hash(&mut hasher);
        Reading {
            version: hasher.finish(),
            content: Bytes::new(),
            files: Some(Arc::new(matches)),
        }
    }
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SourceError {
    /// The read took longer than its timeout; a command was killed.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The content is larger than `max_bytes`; a command was killed.
    #[error("content exceeds the limit of {0} bytes")]
    TooLarge(usize),
    /// The command exited unsuccessfully.
    #[error("command {status}{}", if .stderr.is_empty() { String::new() } else { format!(": {}", .stderr) })]
    Failed {
        /// Exit code or signal, as text.
        status: String,
        /// The exit code, if the command exited (rather than being killed by a signal).
        code: Option<i32>,
        /// The start of stderr.
        stderr: String,
    },
    /// Spawning, opening or reading failed.
    #[error("{0}")]
    Io(String),
    /// The service is `optional` and its `run_as` cannot be assumed here.
    #[error("service skipped: {0}")]
    Unavailable(String),
}

impl SourceError {
    /// The exit code this error implies for a command source: the code it
    /// exited with, or `None` when it did not exit on its own.
    pub(crate) fn exit_code(&self) -> Option<i32> {
        match self {
            SourceError::Failed { code, .. } => *code,
            _ => None,
        }
    }
}

/// Whose rights a source is read with, as settled at startup.
#[derive(Debug)]
pub(crate) enum Access {
    /// pme's own (no `run_as`).
    Own,
    /// A `run_as` identity.
    As(RunAsState),
    /// An `optional` service whose `run_as` cannot be assumed: every read
    /// fails with this reason.
    Unavailable(String),
}

/// A source and its state between reads.
#[derive(Debug)]
pub(crate) struct Source {
    plan: &'static SourcePlan,
    access: Access,
    /// Set while a read is running: a source is never read twice at once.
    busy: AtomicBool,
    file: Mutex<file::Seen>,
    /// The client of an HTTP source.
    http: Option<http::Client>,
    /// The compiled pattern of a `file` source with one, or why it does
    /// not compile.
    glob: Option<Result<Arc<files::Glob>, String>>,
}

impl Source {
    /// Prepares a source read with `access`.
    pub(crate) fn new(plan: &'static SourcePlan, access: Access) -> Self {
        Source {
            plan,
            access,
            busy: AtomicBool::new(false),
            file: Mutex::new(file::Seen::default()),
            http: match &plan.kind {
                SourceKind::Http(request) => Some(http::Client::new(request)),
                _ => None,
            },
            glob: match &plan.kind {
                SourceKind::Files {
                    pattern, max_files, ..
                } => Some(files::Glob::new(pattern, *max_files).map(Arc::new)),
                _ => None,
            },
        }
    }

    /// Marks the source busy; `false` if a read is already running.
    pub(crate) fn try_start(&self) -> bool {
        !self.busy.swap(true, Ordering::AcqRel)
    }

    /// Clears the busy mark set by [`Source::try_start`].
    pub(crate) fn finish(&self) {
        self.busy.store(false, Ordering::Release);
    }

    /// Whether a built-in collector reads for this source (pme reads nothing).
    pub(crate) fn is_collector(&self) -> bool {
        matches!(self.plan.kind, SourceKind::Collector { .. })
    }

    /// Whether this source runs a command (and so has an exit code).
    pub(crate) fn is_command(&self) -> bool {
        matches!(self.plan.kind, SourceKind::Command { .. })
    }

    /// Reads once, within the plan's timeout.
    ///
    /// # Errors
    /// See [`SourceError`].
    pub(crate) async fn read(&self) -> Result<Reading, SourceError> {
        self.read_with(&[]).await
    }

    /// Reads once with request parameters: in a command's arguments and an
    /// HTTP source's URL, each `{name}` of a parameter is replaced by its
    /// (checked) value. The arguments go to the program as they are, never
    /// through a shell.
    ///
    /// # Errors
    /// See [`SourceError`].
    pub(crate) async fn read_with(
        &self,
        parameters: &[(&str, &str)],
    ) -> Result<Reading, SourceError> {
        let limit = self.plan.max_bytes;
        let timeout = self.plan.timeout;
        let run_as = match &self.access {
            Access::Own => None,
            Access::As(run_as) => Some(run_as),
            Access::Unavailable(why) => return Err(SourceError::Unavailable(why.clone())),
        };
        match &self.plan.kind {
            SourceKind::Command {
                argv,
                environment,
                working_directory,
            } => {
                let substituted: Vec<String>;
                let substituted_refs: Vec<&str>;
                let argv: &[&str] = if parameters.is_empty() {
                    argv
                } else {
                    substituted = argv.iter().map(|a| substitute(a, parameters)).collect();
                    substituted_refs = substituted.iter().map(String::as_str).collect();
                    &substituted_refs
                };
                let invocation = command::Invocation {
                    argv,
                    environment,
                    working_directory: *working_directory,
                    run_as,
                };
                command::run(invocation, limit, timeout).await
            }
            SourceKind::File { path } => {
                let switch_to = run_as.filter(|r| r.switch).map(|r| &r.identity);
                file::read(path, limit, timeout, &self.file, switch_to).await
            }
            SourceKind::Files { pattern, .. } => match &self.glob {
                Some(Ok(glob)) => {
                    let switch_to = run_as.filter(|r| r.switch).map(|r| &r.identity);
                    files::read(glob, limit, timeout, switch_to).await
                }
                Some(Err(e)) => Err(SourceError::Io(format!("pattern {pattern}: {e}"))),
                None => Err(SourceError::Io(format!("pattern {pattern} not compiled"))),
            },
            SourceKind::Static { content } => Ok(static_value::read(content)),
            SourceKind::Http(request) => match &self.http {
                Some(client) => {
                    let url = if parameters.is_empty() {
                        Cow::Borrowed(request.url)
                    } else {
                        Cow::Owned(substitute(request.url, parameters))
                    };
                    client.read(request, &url, limit, timeout).await
                }
                None => Err(SourceError::Io("no HTTP client for this source".to_owned())),
            },
            SourceKind::Collector { name } => Err(SourceError::Io(format!(
                "the collector `{name}` reads for itself"
            ))),
        }
    }
}

/// `arg` with every `{name}` of `parameters` replaced by its value, in one
/// pass over `arg`: a value that itself contains `{other}` stays as it is.
fn substitute(arg: &str, parameters: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(arg.len());
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let hit = parameters.iter().find(|(name, _)| {
            after
                .strip_prefix(name)
                .is_some_and(|tail| tail.starts_with('}'))
        });
        match hit {
            Some((name, value)) => {
                out.push_str(value);
                rest = &after[name.len() + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::substitute;

    #[test]
    fn placeholders_are_replaced_once_and_only_declared_ones() {
        let p = [("host", "{port}"), ("port", "80")];
        assert_eq!(substitute("--to={host}:{port}", &p), "--to={port}:80");
        assert_eq!(substitute("{print $1} {host", &p), "{print $1} {host");
        assert_eq!(substitute("{{host}}", &p), "{{port}}");
    }
}
