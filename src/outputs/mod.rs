//! Where collected values go besides `/metrics`: a node_exporter textfile
//! and a Pushgateway. Each output runs after every completed collection
//! cycle, takes the same bytes a scrape gets (one catalog, the same names
//! everywhere), and records how it went in its own self-metrics; a failing
//! output never stops collection or serving.

pub mod pushgateway;
pub mod textfile;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// How one output has fared.
#[derive(Debug)]
pub struct OutputStatus {
    /// `textfile`, `pushgateway`, …: the `output` label.
    pub name: &'static str,
    sends: AtomicU64,
    failures: AtomicU64,
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
