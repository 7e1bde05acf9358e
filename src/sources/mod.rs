//! Reading sources: bytes in, with a timeout and a size cap.
//!
//! One [`Source`] per distinct source in the plan; the scheduler reads it
//! at most once per cycle and hands the bytes to every group due. Each
//! reading carries a version (a hash of the content), so every group can
//! skip re-parsing content it has already parsed, even when the groups
//! sharing a source are due on different ticks.

mod command;
mod file;
mod http;
pub mod identity;
mod static_value;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;

use crate::plan::{SourceKind, SourcePlan};
use identity::Identity;

/// What one read produced.
#[derive(Clone, Debug)]
pub struct Reading {
    /// The content.
    pub content: Bytes,
    /// Equal for equal content: a group that already parsed this version
    /// need not parse it again.
    pub version: u64,
}

impl Reading {
    /// A reading versioned by a hash of its content.
    pub fn new(content: Bytes) -> Reading {
        let mut hasher = DefaultHasher::new();
        content.hash(&mut hasher);
        Reading {
            version: hasher.finish(),
            content,
        }
    }
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
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
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            SourceError::Failed { code, .. } => *code,
            _ => None,
        }
    }
}

/// Whose rights a source is read with, as settled at startup.
#[derive(Debug)]
pub enum Access {
    /// pme's own (no `run_as`).
    Own,
    /// A `run_as` identity.
    As(RunAsState),
    /// An `optional` service whose `run_as` cannot be assumed: every read
    /// fails with this reason.
    Unavailable(String),
}

/// A resolved `run_as`.
#[derive(Debug)]
pub struct RunAsState {
    /// The identity.
    pub identity: Identity,
    /// Whether pme must switch to it (it is not already that identity).
    pub switch: bool,
}

/// A source and its state between reads.
#[derive(Debug)]
pub struct Source {
    plan: &'static SourcePlan,
    access: Access,
    /// Set while a read is running: a source is never read twice at once.
    busy: AtomicBool,
    file: Mutex<file::Seen>,
    /// The client of an HTTP source (or why it could not be built).
    http: Option<Result<http::Client, String>>,
}

impl Source {
    /// Prepares a source read with `access`.
    pub fn new(plan: &'static SourcePlan, access: Access) -> Self {
        Source {
            plan,
            access,
            busy: AtomicBool::new(false),
            file: Mutex::new(file::Seen::default()),
            http: matches!(plan.kind, SourceKind::Http(_)).then(http::Client::new),
        }
    }

    /// Marks the source busy; `false` if a read is already running.
    pub fn try_start(&self) -> bool {
        !self.busy.swap(true, Ordering::AcqRel)
    }

    /// Clears the busy mark set by [`Source::try_start`].
    pub fn finish(&self) {
        self.busy.store(false, Ordering::Release);
    }

    /// Whether this source runs a command (and so has an exit code).
    pub fn is_command(&self) -> bool {
        matches!(self.plan.kind, SourceKind::Command { .. })
    }

    /// Reads once, within the plan's timeout.
    ///
    /// # Errors
    /// See [`SourceError`].
    pub async fn read(&self) -> Result<Reading, SourceError> {
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
            SourceKind::Static { content } => Ok(static_value::read(content)),
            SourceKind::Http(request) => match &self.http {
                Some(Ok(client)) => client.read(request, limit, timeout).await,
                Some(Err(e)) => Err(SourceError::Io(e.clone())),
                None => Err(SourceError::Io("no HTTP client for this source".to_owned())),
            },
        }
    }
}
