//! Command-line options (flag names follow Prometheus exporters).

use std::net::SocketAddr;

use clap::Parser;

/// The default `/metrics` port. Prometheus's default-port allocation list
/// has filled the whole 9100–9999 range, so pme stays clear of it.
pub const DEFAULT_METRICS_PORT: u16 = 19866;
/// The default `/health` port.
pub const DEFAULT_HEALTH_PORT: u16 = 19867;

/// pme's command line.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "pme",
    version,
    about = "A Prometheus exporter compiled from its spec (metrics.yaml)"
)]
pub struct Options {
    /// Address for /metrics and the landing page (`:PORT` means every interface).
    #[arg(long = "web.listen-address", value_name = "ADDR", default_value = ":19866", value_parser = parse_addr)]
    pub web_listen_address: SocketAddr,
    /// Address for /health and /ready.
    #[arg(long = "health.listen-address", value_name = "ADDR", default_value = ":19867", value_parser = parse_addr)]
    pub health_listen_address: SocketAddr,
    /// Web configuration (exporter-toolkit format: TLS, basic auth, rate
    /// limit; plus bearer tokens with scopes). Re-read on SIGHUP and
    /// `POST /-/reload`.
    #[arg(long = "web.config.file", value_name = "FILE")]
    pub web_config_file: Option<std::path::PathBuf>,
    /// Collect every group once, print the metrics to stdout and exit
    /// (non-zero if any group failed).
    #[arg(long)]
    pub once: bool,
    /// After binding the listeners, drop to this user (`USER` or
    /// `USER:GROUP`, names or numbers) with exactly its groups. Refused when
    /// the spec uses `run_as`, which needs pme's privileges.
    #[arg(long, value_name = "USER[:GROUP]")]
    pub user: Option<String>,
    /// Something to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log level: error, warn, info, debug or trace (or a tracing filter).
    #[arg(long = "log.level", value_name = "LEVEL", default_value = "info")]
    pub log_level: String,
}

/// pme's subcommands.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum Command {
    /// Print a systemd unit with the least privilege this spec needs; the
    /// flags after `--` go to its ExecStart.
    SystemdUnit {
        /// Flags for the service, e.g. `-- --web.config.file=/etc/pme/web.yml`.
        #[arg(last = true, value_name = "FLAGS")]
        flags: Vec<String>,
    },
}

/// `host:port`, `[v6]:port`, or `:port` for every IPv4 interface.
fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let full = if s.starts_with(':') {
        format!("0.0.0.0{s}")
    } else {
        s.to_owned()
    };
    full.parse()
        .map_err(|e| format!("`{s}` is not an address like `:19866` or `127.0.0.1:19866`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_listen_addresses() {
        assert_eq!(parse_addr(":9").unwrap(), "0.0.0.0:9".parse().unwrap());
        assert_eq!(parse_addr("[::1]:9").unwrap(), "[::1]:9".parse().unwrap());
        assert!(parse_addr("localhost").is_err());
    }
}
