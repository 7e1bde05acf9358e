//! Collectors written outside pme, the way another crate writes them: each
//! derives [`pme::MetricGroup`], is made from its typed options
//! ([`pme::collect::FromOptions`]) and reads for itself. A spec names them
//! with `source_type: collector`:
//!
//! ```yaml
//! conntrack:
//!   source_type: collector
//!   collector: pme_example_collectors::Conntrack
//!   options: {directory: sys/net/netfilter}
//! ```
//!
//! - [`Conntrack`] reads two files: a blocking collector ([`pme::collect::Collect`]).
//! - [`TcpConnect`] awaits a TCP handshake: an async one
//!   ([`pme::collect::CollectAsync`]).

mod conntrack;
mod tcp;

pub use conntrack::{Conntrack, ConntrackOptions};
pub use tcp::{TcpConnect, TcpConnectOptions};
