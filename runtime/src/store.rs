//! The latest published state of every group: encoded bytes plus status.
//!
//! A collection replaces its group's snapshot with one pointer swap, so a
//! scrape never waits for a collection and always sees each group whole.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::encode::Format;

/// How a group's collections have gone.
#[derive(Clone, Debug, Default)]
pub struct GroupStatus {
    /// Collections attempted.
    pub collections: u64,
    /// Collections that failed (read, extraction, or skipped).
    pub errors: u64,
    /// Whether the last collection succeeded completely.
    pub up: bool,
    /// When the last successful collection finished.
    pub last_success: Option<SystemTime>,
    /// The last failure and when it happened.
    pub last_error: Option<(SystemTime, String)>,
    /// How long the last collection took.
    pub last_duration: Duration,
    /// For command sources: the last exit code (`None` before the first
    /// run, or when the command was killed at its timeout or size limit).
    pub exit_code: Option<i32>,
    /// For a path pattern: the files of the last collection.
    pub files: Option<FileCounts>,
    /// Series dropped over the spec's `max_series`, since start.
    pub series_dropped: u64,
    /// When a failure of the group was last logged (failures repeat in the
    /// log every few minutes, not every tick).
    pub warned: Option<std::time::Instant>,
}

/// What a group reading a path pattern found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileCounts {
    /// Files read at the last collection.
    pub read: u64,
    /// Matches past `max_files` at the last collection.
    pub last_dropped: u64,
    /// Matches past `max_files`, summed over every collection.
    pub dropped: u64,
}

/// One group's published state.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The group's families in text format.
    pub body: Bytes,
    /// The same in OpenMetrics 1.0 (without `# EOF`).
    pub openmetrics: Bytes,
    /// Its status.
    pub status: GroupStatus,
}

impl Snapshot {
    /// The group's families in `format`.
    pub fn body_in(&self, format: Format) -> &Bytes {
        match format {
            Format::Prometheus => &self.body,
            Format::OpenMetrics => &self.openmetrics,
        }
    }
}

/// Snapshots of every group, indexed like [`crate::plan::Plan::groups`].
#[derive(Debug)]
pub struct Store {
    slots: Vec<Mutex<Arc<Snapshot>>>,
    /// Bumped by every publish: serialized expositions built from an
    /// earlier generation are stale.
    generation: AtomicU64,
    /// The outputs (textfile, pushers) and how they fare.
    outputs: Mutex<Vec<Arc<OutputStatus>>>,
}

impl Store {
    /// A store for `groups` groups, none collected yet.
    pub fn new(groups: usize) -> Self {
        Store {
            slots: (0..groups)
                .map(|_| Mutex::new(Arc::new(Snapshot::default())))
                .collect(),
            generation: AtomicU64::new(0),
            outputs: Mutex::new(Vec::new()),
        }
    }

    /// The current snapshot of group `i`.
    pub fn get(&self, i: usize) -> Arc<Snapshot> {
        // The lock only guards a pointer copy; a poisoned one still holds a valid Arc.
        self.slots[i]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the snapshot of group `i`.
    pub fn publish(&self, i: usize, snapshot: Snapshot) {
        *self.slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(snapshot);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Registers an output; its status is served with the self-metrics.
    pub fn add_output(&self, name: &'static str) -> Arc<OutputStatus> {
        let status = Arc::new(OutputStatus::new(name));
        self.outputs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(status.clone());
        status
    }

    /// Every registered output.
    pub fn outputs(&self) -> Vec<Arc<OutputStatus>> {
        self.outputs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Marks the store changed without a new snapshot (an output's own
    /// status changed), so cached expositions are rebuilt.
    pub fn touch(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Changes whenever a snapshot is published. Read it *before* the
    /// snapshots: a body built from them is then never newer than the
    /// generation it is cached under.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Every group's snapshot, in plan order.
    pub fn all(&self) -> Vec<Arc<Snapshot>> {
        (0..self.slots.len()).map(|i| self.get(i)).collect()
    }
}

/// How one output has fared.
#[derive(Debug)]
pub struct OutputStatus {
    /// `textfile`, `pushgateway`, …: the `output` label.
    pub name: &'static str,
    sends: AtomicU64,
    failures: AtomicU64,
    dropped: AtomicU64,
    last_success: Mutex<Option<SystemTime>>,
    last_error: Mutex<Option<String>>,
}

impl OutputStatus {
    /// A fresh status for the output `name`.
    pub fn new(name: &'static str) -> OutputStatus {
        OutputStatus {
            name,
            sends: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            last_success: Mutex::new(None),
            last_error: Mutex::new(None),
        }
    }

    /// Records one attempt; a failure is logged when it is new.
    pub fn record(&self, result: Result<(), String>) {
        self.sends.fetch_add(1, Ordering::Relaxed);
        let mut last_error = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(()) => {
                if last_error.take().is_some() {
                    tracing::info!(output = self.name, "output recovered");
                }
                *self.last_success.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(SystemTime::now());
            }
            Err(e) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                if last_error.as_deref() != Some(e.as_str()) {
                    tracing::warn!(output = self.name, "output failed: {e}");
                }
                *last_error = Some(e);
            }
        }
    }

    /// Attempts so far.
    pub fn sends(&self) -> u64 {
        self.sends.load(Ordering::Relaxed)
    }

    /// Failed attempts so far.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Counts samples given up on: no room left in the queue, or refused
    /// by the receiver for good.
    pub fn drop_samples(&self, samples: u64) {
        self.dropped.fetch_add(samples, Ordering::Relaxed);
    }

    /// Samples given up on so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// When an attempt last succeeded.
    pub fn last_success(&self) -> Option<SystemTime> {
        *self.last_success.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The last failure's message, while failing.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
