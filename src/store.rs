//! The latest published state of every group: encoded bytes plus status.
//!
//! A collection replaces its group's snapshot with one pointer swap, so a
//! scrape never waits for a collection and always sees each group whole.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;

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
}

/// One group's published state.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The group's families in text format.
    pub body: Bytes,
    /// Its status.
    pub status: GroupStatus,
}

/// Snapshots of every group, indexed like [`crate::plan::Plan::groups`].
#[derive(Debug)]
pub struct Store {
    slots: Vec<Mutex<Arc<Snapshot>>>,
}

impl Store {
    /// A store for `groups` groups, none collected yet.
    pub fn new(groups: usize) -> Self {
        Store {
            slots: (0..groups)
                .map(|_| Mutex::new(Arc::new(Snapshot::default())))
                .collect(),
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
    }

    /// Every group's snapshot, in plan order.
    pub fn all(&self) -> Vec<Arc<Snapshot>> {
        (0..self.slots.len()).map(|i| self.get(i)).collect()
    }
}
