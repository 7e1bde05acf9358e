//! Collectors generated from the spec pme was built with (`metrics.yaml`,
//! or the file named by `PME_SPEC`). The source is written by `build.rs` to
//! `$OUT_DIR/metrics.rs`; read it there to see exactly what the spec became.

include!(concat!(env!("OUT_DIR"), "/metrics.rs"));
