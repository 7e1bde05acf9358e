//! `source_type: static`: a value written in the spec.

use bytes::Bytes;

use super::Reading;

/// The content, without copying it; its version never changes, so each
/// group parses it exactly once.
pub(super) fn read(content: &'static str) -> Reading {
    Reading::new(Bytes::from_static(content.as_bytes()))
}
