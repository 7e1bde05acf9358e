//! The clock of the instruments' body cache: real time since the first
//! reading, or, once a test froze it ([`crate::testing::freeze_clock`]),
//! a time that only moves when the test says so. Process-wide, like the
//! cache it drives.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

static FROZEN: AtomicBool = AtomicBool::new(false);
/// Frozen time, in nanoseconds since the clock started.
static FROZEN_AT: AtomicU64 = AtomicU64::new(0);
static START: OnceLock<Instant> = OnceLock::new();

fn real() -> Duration {
    START.get_or_init(Instant::now).elapsed()
}

/// Time since the clock started.
pub(crate) fn now() -> Duration {
    if FROZEN.load(Ordering::Acquire) {
        Duration::from_nanos(FROZEN_AT.load(Ordering::Acquire))
    } else {
        real()
    }
}

/// Stops the clock at the start of the current second (so a cache window
/// of whole seconds starts there: what a test advances is what it gets).
pub(crate) fn freeze() {
    FROZEN_AT.store(real().as_secs() * 1_000_000_000, Ordering::Release);
    FROZEN.store(true, Ordering::Release);
}

/// Moves a frozen clock forward by `by` (a running clock is not moved).
pub(crate) fn advance(by: Duration) {
    FROZEN_AT.fetch_add(by.as_nanos() as u64, Ordering::AcqRel);
}

/// Lets the clock run again, from real time.
pub(crate) fn thaw() {
    FROZEN.store(false, Ordering::Release);
}
