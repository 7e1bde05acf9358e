//! Command-line options (flag names follow Prometheus exporters).

use std::net::SocketAddr;

use clap::Parser;

pub(crate) mod aliases;

/// pme's command line.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "pme",
    version,
    about = "A Prometheus exporter compiled from its spec (metrics.yaml)"
)]
pub struct Options {
    /// Address for /metrics and the landing page (`:PORT` means every interface).
    // 19866/19867: Prometheus's default-port allocation list has filled the
    // whole 9100–9999 range, so pme stays clear of it.
    #[arg(long = "web.listen-address", env = "PME_WEB_LISTEN_ADDRESS", value_name = "ADDR", default_value = ":19866", value_parser = parse_addr)]
    pub web_listen_address: SocketAddr,
    /// Address for /health and /ready.
    #[arg(long = "health.listen-address", env = "PME_HEALTH_LISTEN_ADDRESS", value_name = "ADDR", default_value = ":19867", value_parser = parse_addr)]
    pub health_listen_address: SocketAddr,
    /// Web configuration (exporter-toolkit format: TLS, basic auth, rate
    /// limit; plus bearer tokens with scopes). Re-read on SIGHUP and
    /// `POST /-/reload`.
    #[arg(
        long = "web.config.file",
        env = "PME_WEB_CONFIG_FILE",
        value_name = "FILE"
    )]
    pub web_config_file: Option<std::path::PathBuf>,
    /// Most connections each listener keeps open at once (0: no limit);
    /// more wait in the kernel's queue until one closes. Each costs a
    /// buffer of its own, so this bounds pme's memory under any load.
    #[arg(
        long = "web.max-connections",
        env = "PME_WEB_MAX_CONNECTIONS",
        value_name = "N",
        default_value_t = 64
    )]
    pub web_max_connections: usize,
    /// Receive statsd and DogStatsD lines on this UDP address: they update
    /// the spec's declared instruments and nothing else.
    #[arg(long = "statsd.listen-udp", env = "PME_STATSD_LISTEN_UDP", value_name = "ADDR", value_parser = parse_addr)]
    pub statsd_listen_udp: Option<SocketAddr>,
    /// The same on a Unix datagram socket at this path.
    #[arg(
        long = "statsd.listen-unixgram",
        env = "PME_STATSD_LISTEN_UNIXGRAM",
        value_name = "PATH"
    )]
    pub statsd_listen_unixgram: Option<std::path::PathBuf>,
    /// Check that the spec can run here (users, capabilities, programs on
    /// PATH, files, HTTP hosts) and print the collection plan, without
    /// collecting; exit non-zero if a check fails.
    #[arg(long = "dry-run", env = "PME_DRY_RUN")]
    pub dry_run: bool,
    /// Collect every group once, print the metrics to stdout, write or
    /// send them once to every output given (textfile, Pushgateway,
    /// remote_write, OTLP) and exit (non-zero if any group or output
    /// failed).
    #[arg(long = "once", env = "PME_ONCE")]
    pub once: bool,
    /// Read no source: serve, and send to every output, what each group's
    /// `sample:` yields, on the group's schedule (groups without a sample
    /// are left out). For building dashboards and alerts before deploying.
    #[arg(long = "replay", env = "PME_REPLAY")]
    pub replay: bool,
    /// After binding the listeners, drop to this user (`USER` or
    /// `USER:GROUP`, names or numbers) with exactly its groups. Refused when
    /// the spec uses `run_as`, which needs pme's privileges.
    #[arg(long = "user", env = "PME_USER", value_name = "USER[:GROUP]")]
    pub user: Option<String>,
    /// Write `<name>.prom` here after every cycle, atomically, for
    /// node_exporter's textfile collector.
    #[arg(
        long = "textfile.directory",
        env = "PME_TEXTFILE_DIRECTORY",
        value_name = "DIR"
    )]
    pub textfile_directory: Option<std::path::PathBuf>,
    /// The textfile's name, without `.prom`.
    #[arg(
        long = "textfile.name",
        env = "PME_TEXTFILE_NAME",
        value_name = "NAME",
        default_value = "pme"
    )]
    pub textfile_name: String,
    /// Push to this Pushgateway after every cycle (e.g. `http://127.0.0.1:9091`).
    #[arg(long = "push.gateway", env = "PME_PUSH_GATEWAY", value_name = "URL")]
    pub push_gateway: Option<String>,
    /// The `job` grouping label of pushes.
    #[arg(
        long = "push.job",
        env = "PME_PUSH_JOB",
        value_name = "JOB",
        default_value = "pme"
    )]
    pub push_job: String,
    /// More grouping labels, `NAME=VALUE` (repeatable).
    #[arg(long = "push.label", env = "PME_PUSH_LABEL", value_name = "NAME=VALUE", value_parser = parse_push_label)]
    pub push_labels: Vec<(String, String)>,
    /// `put` replaces the whole group, `post` only the families sent.
    #[arg(long = "push.method", env = "PME_PUSH_METHOD", value_name = "METHOD", default_value = "put", value_parser = ["put", "post"])]
    pub push_method: String,
    /// Push at most this often (`0s`: after every cycle).
    #[arg(long = "push.interval", env = "PME_PUSH_INTERVAL", value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub push_interval: std::time::Duration,
    /// Delete the pushed group when pme stops.
    #[arg(long = "push.delete-on-shutdown", env = "PME_PUSH_DELETE_ON_SHUTDOWN")]
    pub push_delete_on_shutdown: bool,
    /// Send every cycle's samples here with Prometheus remote_write 1.0
    /// (e.g. `http://127.0.0.1:9090/api/v1/write`).
    #[arg(
        long = "remote-write.url",
        env = "PME_REMOTE_WRITE_URL",
        value_name = "URL"
    )]
    pub remote_write_url: Option<String>,
    /// Labels added to every remote-written series, `NAME=VALUE` (repeatable).
    #[arg(long = "remote-write.label", env = "PME_REMOTE_WRITE_LABEL", value_name = "NAME=VALUE", value_parser = parse_label)]
    pub remote_write_labels: Vec<(String, String)>,
    /// Most samples kept while the receiver does not answer (or answers
    /// 429 or 5xx): they are sent, oldest first, once it does. Past this
    /// the oldest are dropped and counted.
    #[arg(
        long = "remote-write.queue-samples",
        env = "PME_REMOTE_WRITE_QUEUE_SAMPLES",
        value_name = "N",
        default_value_t = 100_000
    )]
    pub remote_write_queue_samples: usize,
    /// Send every cycle's metrics with OTLP to this endpoint (for
    /// HTTP, `/v1/metrics` is appended to a base URL). Default:
    /// `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT`
    /// or `OTEL_ENDPOINT`.
    #[arg(long = "otlp.endpoint", env = "PME_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// `grpc` or `http/protobuf`. Default: `OTEL_EXPORTER_OTLP_PROTOCOL`,
    /// else `grpc` for an endpoint on port 4317 and `http/protobuf`
    /// otherwise.
    #[arg(long = "otlp.protocol", env = "PME_OTLP_PROTOCOL", value_name = "PROTOCOL", value_parser = ["grpc", "http/protobuf"])]
    pub otlp_protocol: Option<String>,
    /// `gzip` or `none`. Default: `OTEL_EXPORTER_OTLP_COMPRESSION`, else `none`.
    #[arg(long = "otlp.compression", env = "PME_OTLP_COMPRESSION", value_name = "COMPRESSION", value_parser = ["gzip", "none"])]
    pub otlp_compression: Option<String>,
    /// Credentials, headers, TLS and timeout of the Pushgateway pushes.
    #[command(flatten)]
    pub push_delivery: PushDelivery,
    /// The same for remote_write.
    #[command(flatten)]
    pub remote_write_delivery: RemoteWriteDelivery,
    /// The same for OTLP (the `OTEL_EXPORTER_OTLP_*` variables fill what
    /// these leave unset).
    #[command(flatten)]
    pub otlp_delivery: OtlpDelivery,
    /// Something to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// procfs mount point, for the built-in host collectors.
    #[arg(
        long = "path.procfs",
        env = "PME_PATH_PROCFS",
        value_name = "DIR",
        default_value = "/proc"
    )]
    pub path_procfs: std::path::PathBuf,
    /// sysfs mount point, for the built-in host collectors.
    #[arg(
        long = "path.sysfs",
        env = "PME_PATH_SYSFS",
        value_name = "DIR",
        default_value = "/sys"
    )]
    pub path_sysfs: std::path::PathBuf,
    /// The host's root filesystem, for the built-in host collectors
    /// (mount points and `/etc/pve` are looked up below it).
    #[arg(
        long = "path.rootfs",
        env = "PME_PATH_ROOTFS",
        value_name = "DIR",
        default_value = "/"
    )]
    pub path_rootfs: std::path::PathBuf,
    /// Log level: error, warn, info, debug or trace (or a tracing filter).
    #[arg(
        long = "log.level",
        env = "PME_LOG_LEVEL",
        value_name = "LEVEL",
        default_value = "info"
    )]
    pub log_level: String,
    /// Collect only these, comma-separated: service ids, group ids or
    /// `service/group` (default: every group of the spec). An unknown name
    /// stops pme at start.
    #[arg(
        long = "collectors.enabled",
        env = "PME_COLLECTORS_ENABLED",
        value_name = "LIST",
        default_value = ""
    )]
    pub collectors_enabled: String,
    /// Threads of the async runtime (default: one per CPU).
    #[arg(long = "runtime.worker-threads", env = "PME_RUNTIME_WORKER_THREADS", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub runtime_worker_threads: Option<u16>,
    /// Log line format on stderr: `logfmt` or `json` (one object per line).
    #[arg(
        long = "log.format",
        env = "PME_LOG_FORMAT",
        value_name = "FORMAT",
        value_enum,
        default_value = "logfmt"
    )]
    pub log_format: crate::logs::Format,
}

impl Options {
    /// Where the built-in host collectors read.
    pub fn paths(&self) -> crate::collect::Paths {
        crate::collect::Paths {
            procfs: self.path_procfs.clone(),
            sysfs: self.path_sysfs.clone(),
            rootfs: self.path_rootfs.clone(),
        }
    }
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
    /// Print a completion script for a shell: `pme completions bash >
    /// /etc/bash_completion.d/pme`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `pme man > /usr/local/share/man/man1/pme.1`.
    Man,
    /// Print a starter metrics.yaml for a kind of source, with a sample the
    /// build checks: `pme new http-json > metrics.yaml`.
    New {
        /// command, file, http-json, xml or reimport.
        #[arg(value_name = "KIND", value_enum, default_value = "command")]
        kind: crate::scaffold::Template,
        /// Write a crate of this name (a new directory here) holding the
        /// spec, its lock, a main.rs serving it and a CI script, instead of
        /// printing the spec.
        #[arg(long = "crate", value_name = "NAME")]
        krate: Option<String>,
        /// With `--crate`: depend on the pme runtime crate at this path (a
        /// checkout's `runtime/`) rather than on this pme's version.
        #[arg(long = "pme-path", value_name = "PATH", requires = "krate")]
        pme_path: Option<std::path::PathBuf>,
    },
    /// Print the catalog of every family this binary can serve.
    Describe {
        /// `json` for tools, `markdown` for a metrics reference, `lock` for
        /// the lock file the build checks the spec against.
        #[arg(long, value_name = "FORMAT", value_enum, default_value = "json")]
        format: crate::plan::describe::Format,
    },
    /// Print the JSON Schema of metrics.yaml, for editors and CI:
    /// `pme schema > metrics.schema.json`.
    Schema,
    /// Print a Grafana dashboard for this pme: collection health, then a
    /// panel per family, by type.
    Dashboard {
        /// The scrape job's name, which every query selects.
        #[arg(long, value_name = "JOB", default_value = "pme")]
        job: String,
    },
    /// Print Prometheus alerting rules for this pme, from its self-metrics.
    Alerts {
        /// The scrape job's name, which every rule selects.
        #[arg(long, value_name = "JOB", default_value = "pme")]
        job: String,
    },
}

/// `NAME=VALUE` with a valid label name.
fn parse_label(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid || name.starts_with("__") {
        return Err(format!("`{name}` is not a label name"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// [`parse_label`], except `job`, which `--push.job` sets.
fn parse_push_label(s: &str) -> Result<(String, String), String> {
    let label = parse_label(s)?;
    if label.0 == "job" {
        return Err("`job` is set by --push.job".to_owned());
    }
    Ok(label)
}

/// A Prometheus duration, or `0s`/`0`.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    if s == "0" || s == "0s" {
        return Ok(std::time::Duration::ZERO);
    }
    pme_content::duration::parse(s)
}

/// `host:port`, `[v6]:port`, or `:port` for every IPv4 interface.
/// A comma-separated list, blanks trimmed and empty items dropped.
pub(crate) fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

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

/// One struct of delivery flags per output, each under its own prefix
/// (`--push.…`, `--remote-write.…`, `--otlp.…`), as Prometheus names a
/// client's settings. Credentials are named by file or variable, never
/// given as a flag's value, which `ps` would show.
macro_rules! delivery_flags {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $env:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, clap::Args)]
        pub struct $name {
            /// Send `Authorization: Bearer` with the token in this file
            /// (read at every send, so it can rotate).
            #[arg(id = concat!($prefix, ".bearer-token-file"), long = concat!($prefix, ".bearer-token-file"), env = concat!("PME_", $env, "_BEARER_TOKEN_FILE"), value_name = "FILE",
                conflicts_with_all = [concat!($prefix, ".bearer-token-env"), concat!($prefix, ".basic-auth.username")])]
            pub bearer_token_file: Option<std::path::PathBuf>,
            /// The same from this environment variable.
            #[arg(id = concat!($prefix, ".bearer-token-env"), long = concat!($prefix, ".bearer-token-env"), env = concat!("PME_", $env, "_BEARER_TOKEN_ENV"), value_name = "VAR",
                conflicts_with = concat!($prefix, ".basic-auth.username"))]
            pub bearer_token_env: Option<String>,
            /// Send basic auth as this user, with the password of
            /// `.basic-auth.password-file` or `-env`.
            #[arg(id = concat!($prefix, ".basic-auth.username"), long = concat!($prefix, ".basic-auth.username"), env = concat!("PME_", $env, "_BASIC_AUTH_USERNAME"), value_name = "USER")]
            pub basic_auth_username: Option<String>,
            /// The basic-auth password, from this file.
            #[arg(id = concat!($prefix, ".basic-auth.password-file"), long = concat!($prefix, ".basic-auth.password-file"), env = concat!("PME_", $env, "_BASIC_AUTH_PASSWORD_FILE"), value_name = "FILE",
                requires = concat!($prefix, ".basic-auth.username"), conflicts_with = concat!($prefix, ".basic-auth.password-env"))]
            pub basic_auth_password_file: Option<std::path::PathBuf>,
            /// The basic-auth password, from this environment variable.
            #[arg(id = concat!($prefix, ".basic-auth.password-env"), long = concat!($prefix, ".basic-auth.password-env"), env = concat!("PME_", $env, "_BASIC_AUTH_PASSWORD_ENV"), value_name = "VAR",
                requires = concat!($prefix, ".basic-auth.username"))]
            pub basic_auth_password_env: Option<String>,
            /// An extra request header, `NAME=VALUE` (repeatable; e.g. a
            /// tenant's `X-Scope-OrgID`). Not `Authorization`.
            #[arg(id = concat!($prefix, ".header"), long = concat!($prefix, ".header"), env = concat!("PME_", $env, "_HEADER"), value_name = "NAME=VALUE", value_parser = parse_header)]
            pub headers: Vec<(String, String)>,
            /// PEM certificates trusted instead of the Mozilla roots.
            #[arg(id = concat!($prefix, ".ca-file"), long = concat!($prefix, ".ca-file"), env = concat!("PME_", $env, "_CA_FILE"), value_name = "FILE")]
            pub ca_file: Option<std::path::PathBuf>,
            /// A PEM client certificate chain, for mutual TLS (with `.key-file`).
            #[arg(id = concat!($prefix, ".cert-file"), long = concat!($prefix, ".cert-file"), env = concat!("PME_", $env, "_CERT_FILE"), value_name = "FILE",
                requires = concat!($prefix, ".key-file"))]
            pub cert_file: Option<std::path::PathBuf>,
            /// The client certificate's PEM private key.
            #[arg(id = concat!($prefix, ".key-file"), long = concat!($prefix, ".key-file"), env = concat!("PME_", $env, "_KEY_FILE"), value_name = "FILE",
                requires = concat!($prefix, ".cert-file"))]
            pub key_file: Option<std::path::PathBuf>,
            /// Longest one request may take.
            #[arg(id = concat!($prefix, ".timeout"), long = concat!($prefix, ".timeout"), env = concat!("PME_", $env, "_TIMEOUT"), value_name = "DURATION", value_parser = parse_duration)]
            pub timeout: Option<std::time::Duration>,
        }
    };
}

delivery_flags!(
    /// `--push.*` delivery flags.
    PushDelivery,
    "push",
    "PUSH"
);
delivery_flags!(
    /// `--remote-write.*` delivery flags.
    RemoteWriteDelivery,
    "remote-write",
    "REMOTE_WRITE"
);
delivery_flags!(
    /// `--otlp.*` delivery flags.
    OtlpDelivery,
    "otlp",
    "OTLP"
);

/// `NAME=VALUE` with a header token as the name, and no credential header.
fn parse_header(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    let token = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !token {
        return Err(format!("`{name}` is not a header name"));
    }
    if ["authorization", "proxy-authorization", "cookie"]
        .contains(&name.to_ascii_lowercase().as_str())
    {
        return Err(format!(
            "`{name}` would put a credential in pme's command line; use the .bearer-token-file or .basic-auth flags"
        ));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(format!(
            "header `{name}` has a control character in its value"
        ));
    }
    Ok((name.to_owned(), value.to_owned()))
}
