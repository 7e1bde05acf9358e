//! Content parsers: a source's bytes → series for each family.
//!
//! They live in the `pme-content` crate, shared with `pme-codegen`, which
//! runs them on a spec's `sample:` at build time; generated code names them
//! through these paths.

pub use pme_content::{exposition, json, text, to_value, xml};
