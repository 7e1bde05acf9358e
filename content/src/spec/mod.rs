//! The shape of `metrics.yaml`: the keys each mapping accepts ([`keys`])
//! and the JSON Schema made from them ([`schema`]). The build reads specs
//! with the tables; the binary prints the schema (`pme schema`).

pub mod keys;
pub mod schema;
