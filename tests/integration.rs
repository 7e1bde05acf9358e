#![allow(
    unreachable_pub,
    reason = "test modules share helpers with plain `pub`; nothing here is an API"
)]

//! Integration tests, one binary (ripgrep's layout). Test specs are
//! expanded with `pme::include_spec!` and run in-process; the real binary
//! (built from the default metrics.yaml) is started as a child process.

mod util;

mod alerts;
mod architecture;
mod bad_input;
mod binary;
mod catalog;
mod collectors;
mod container;
mod dashboard;
mod embedded;
mod environment;
mod escaping;
mod exposition;
mod exposition_suites;
mod features;
mod file_pattern;
mod host;
mod http_json;
mod http_network;
mod instruments;
mod jsonpath_cts;
mod outputs;
mod page;
mod parameters;
mod prometheus;
mod pull;
mod reimport;
mod relabel;
mod replay;
mod run_as;
mod scaffold;
mod scheduling;
mod schema;
mod self_metrics;
mod statsd;
mod status;
mod systemd;
mod targets;
mod web;
mod xpath_libxml2;
