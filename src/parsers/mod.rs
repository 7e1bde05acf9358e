//! Content parsers: a source's bytes → series for each family.
//!
//! One module per `content_type`. Only `text` exists so far; JSON, XML and
//! Prometheus re-import will sit beside it with the same shape: the group
//! parses its reading once and every family extracts from that.

pub mod json;
pub mod text;
