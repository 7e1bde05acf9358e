//! `source_type: static`: a value written in the spec.

use std::sync::atomic::{AtomicBool, Ordering};

use super::Reading;

/// The content on the first read; [`Reading::Unchanged`] afterwards, so it
/// is parsed exactly once.
pub(super) fn read(content: &'static str, already_read: &AtomicBool) -> Reading {
    if already_read.swap(true, Ordering::AcqRel) {
        Reading::Unchanged
    } else {
        Reading::Fresh(content.as_bytes().to_vec())
    }
}
