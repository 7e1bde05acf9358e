//! The validated model: what `expand.rs` turns into code. Everything here
//! has passed `validate/`; names are final and every default is applied.

use std::time::Duration;

use crate::names::Kind;

/// A whole spec, ready for code generation.
#[derive(Debug)]
pub struct Model {
    /// The spec file, for docs in the generated code.
    pub file: String,
    /// The global tick: every period is a multiple of it.
    pub tick: Duration,
    /// Every distinct source; groups that read the same thing share one.
    pub sources: Vec<Source>,
    /// Services in spec order.
    pub services: Vec<Service>,
    /// SHA-256 of the spec's bytes, in hex (`pme_build_info{spec_sha256}`).
    pub spec_sha256: String,
    /// Every family name the spec declares (imports excepted), sorted:
    /// families re-imported at run time may not take these names.
    pub declared: Vec<String>,
    /// Naming advice that does not stop the build.
    pub warnings: Vec<crate::Diagnostic>,
}

/// One service: a set of groups sharing a prefix, labels and identity.
#[derive(Debug)]
pub struct Service {
    /// The key under `services:`.
    pub id: String,
    /// Human name (defaults to the id).
    pub name: String,
    /// Line of the service in the spec.
    pub line: u32,
    /// Groups and standalone metrics, in spec order.
    pub groups: Vec<Group>,
    /// Request parameters; when there are any, the service is collected
    /// per request at `/metrics/<id>`, never on a schedule.
    pub parameters: Vec<Parameter>,
    /// Declared targets; when there are any, the service is collected per
    /// request at `/metrics/<id>?target=<name>`.
    pub targets: Vec<Target>,
    /// Application instruments, in spec order.
    pub instruments: Vec<Instrument>,
    /// The enums of the instruments' closed labels, one per label name.
    pub enums: Vec<LabelEnum>,
}

/// An application instrument: the application updates it, pme exposes it.
#[derive(Debug)]
pub struct Instrument {
    /// The key under `instruments:`.
    pub id: String,
    /// Line of the instrument in the spec.
    pub line: u32,
    /// Full family name, prefix included.
    pub name: String,
    /// Counter, gauge or histogram.
    pub kind: crate::names::InstrumentType,
    /// HELP text, unescaped.
    pub help: String,
    /// The service's constant labels.
    pub constant_labels: Vec<(String, String)>,
    /// Labels in declaration order.
    pub labels: Vec<InstrumentLabel>,
    /// Limit on series, for instruments with a free-text label.
    pub max_series: Option<u64>,
    /// Histogram bounds; `None` for the default ones.
    pub buckets: Option<Vec<f64>>,
}

/// One label of an instrument.
#[derive(Debug)]
pub struct InstrumentLabel {
    /// Label name.
    pub name: String,
    /// Index into [`Service::enums`] for a closed label; `None` for free text.
    pub closed: Option<usize>,
}

/// The Rust enum of a closed label.
#[derive(Debug)]
pub struct LabelEnum {
    /// The label it is the values of.
    pub label: String,
    /// Line of its first declaration.
    pub line: u32,
    /// Each value and its variant name.
    pub values: Vec<(String, String)>,
}

impl Service {
    /// Whether the service is collected per request (it has parameters or
    /// targets) rather than on a schedule.
    #[must_use]
    pub fn per_request(&self) -> bool {
        !self.parameters.is_empty() || !self.targets.is_empty()
    }
}

/// A request parameter of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// Its name in the query string and in `{name}` placeholders.
    pub name: String,
    /// The whole value must match this (RE2 syntax).
    pub pattern: String,
    /// Where its value goes.
    pub fills: Fills,
}

/// Where a parameter's value goes, from the least demanding place to the
/// most: a value that fills two places obeys the later one's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fills {
    /// Command arguments.
    Argument,
    /// A URL's host and optional port: `http://{name}/…`.
    HostAndPort,
    /// A URL's host before a fixed port: `http://{name}:9100/…`.
    Host,
}

/// A declared target of a per-request service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Its name in `?target=<name>`.
    pub name: String,
    /// Base URL: `{target}` at the start of an HTTP source stands for it.
    pub url: String,
    /// Labels on every series collected for it.
    pub labels: Vec<(String, String)>,
}

/// One metric group (or standalone metric): one source, many metrics.
#[derive(Debug)]
pub struct Group {
    /// The key under `metric_groups:` or `standalone_metrics:`.
    pub id: String,
    /// Line of the group in the spec.
    pub line: u32,
    /// True for a standalone metric.
    pub standalone: bool,
    /// Index into [`Model::sources`].
    pub source: usize,
    /// Collected every `every` ticks.
    pub every: u32,
    /// Longest time one read may take.
    pub timeout: Duration,
    /// How the source's bytes are read.
    pub content: Content,
    /// Metrics in spec order (empty for `content_type: prometheus`).
    pub metrics: Vec<Metric>,
    /// Re-imported families, for `content_type: prometheus`.
    pub imports: Vec<Import>,
    /// The spec's `sample:`, which `--replay` serves instead of reading
    /// the source.
    pub sample: Option<String>,
}

/// The format of a source's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// Free text, read with regex filters.
    Text,
    /// JSON, read with RFC 9535 JSONPath filters.
    Json,
    /// XML, read with pme's XPath subset.
    Xml,
    /// Prometheus text or OpenMetrics, re-imported family by family.
    Prometheus,
}

/// One `metrics:` entry of a `content_type: prometheus` group: which
/// families of the source pme serves, and how.
#[derive(Debug)]
pub struct Import {
    /// The key under `metrics:`.
    pub id: String,
    /// Line of the entry in the spec.
    pub line: u32,
    /// A PromQL series selector.
    pub select: String,
    /// The new family name (the selector names one family).
    pub rename: Option<String>,
    /// Put before every family name: the service's prefix and the entry's.
    pub prefix: String,
    /// Constant labels: the service's, then the entry's.
    pub labels: Vec<(String, String)>,
    /// A sample's own label wins over a constant one of the same name.
    pub honor_labels: bool,
    /// `metric_relabel_configs`, checked, defaults filled in.
    pub relabel: Vec<RelabelRule>,
    /// Value every sample takes when a reading fails.
    pub value_on_error: Option<f64>,
    /// The most samples a reading keeps; more are dropped and counted.
    pub max_series: Option<u64>,
}

/// One relabelling rule of an import, with Prometheus' defaults filled in.
#[derive(Debug, Clone)]
pub struct RelabelRule {
    /// What the rule does.
    pub action: pme_content::exposition::relabel::Action,
    /// Labels whose joined values the regex reads.
    pub source_labels: Vec<String>,
    /// Joins them.
    pub separator: String,
    /// Unanchored as written.
    pub regex: String,
    /// What `replace` and `labelmap` write.
    pub replacement: String,
    /// What `replace` sets (empty for other actions).
    pub target_label: String,
}

/// One metric family.
#[derive(Debug)]
pub struct Metric {
    /// The key under `metrics:` (a Rust field name after conversion).
    pub id: String,
    /// Line of the metric in the spec.
    pub line: u32,
    /// Full family name, prefix included.
    pub name: String,
    /// Metric type.
    pub kind: Kind,
    /// HELP text, unescaped.
    pub help: String,
    /// All labels in declaration order (service labels first): a constant
    /// value, or a template with `$capture` references.
    pub labels: Vec<(String, String)>,
    /// Regex (text) or JSONPath (json) filter, if any.
    pub filter: Option<String>,
    /// JSON only: where the value is, relative to each selected node (`@.x`).
    pub value: Option<String>,
    /// One series per match instead of the first match only.
    pub match_all: bool,
    /// The most series a reading keeps (`match: all`); more are dropped
    /// and counted.
    pub max_series: Option<u64>,
    /// Value reported when the source or the extraction fails.
    pub value_on_error: Option<f64>,
    /// Factor applied to every extracted value (e.g. `1024` for KiB → bytes).
    pub scale: Option<f64>,
    /// Strings and the numbers they stand for; when set, every extracted
    /// value must be one of the strings.
    pub value_map: Vec<(String, f64)>,
}

/// What to read.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Where the bytes come from.
    pub kind: SourceKind,
    /// Largest content accepted.
    pub max_bytes: u64,
    /// Identity to read as (enforced at run time).
    pub run_as: Option<RunAs>,
    /// The longest timeout among the groups sharing this source.
    pub timeout: Duration,
}

/// The kinds of sources.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceKind {
    /// Run a program; its stdout is the content.
    Command {
        /// Program and arguments (`/bin/sh -c LINE` for shell lines).
        argv: Vec<String>,
        /// Variables set on top of the base environment.
        environment: Vec<(String, String)>,
        /// Where the command starts; pme's own directory (or `/` under
        /// `run_as`) when `None`.
        working_directory: Option<String>,
    },
    /// Read a file.
    File {
        /// Absolute path.
        path: String,
    },
    /// Read every file a pattern matches, each with its own series.
    Files {
        /// Absolute path pattern (see `pme_content::glob`).
        pattern: String,
        /// The pattern's captures: labels on each file's series.
        labels: Vec<String>,
        /// The most files read per collection; more are counted, not read.
        max_files: u32,
    },
    /// Content written in the spec.
    Static {
        /// The content.
        content: String,
    },
    /// An HTTP(S) request; the response body is the content.
    Http(Box<HttpSource>),
    /// A collector that reads for itself: a built-in, or a type from
    /// another crate.
    Collector(CollectorSource),
}

/// An instance of a collector, as the generated code makes it.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectorSource {
    /// The Rust type, without a leading `::` (`pme::collect::builtin::Memory`).
    pub path: String,
    /// The spec's `options:`, in order: each sets one field of the
    /// collector's options struct.
    pub options: Vec<(String, OptionValue)>,
    /// The service's and then the group's labels, added to each series.
    pub labels: Vec<(String, String)>,
}

/// An option's value, as YAML typed it.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// A string: `"…".into()`, for `String`, `PathBuf`, `&str`, ….
    Str(String),
    /// An integer literal, for any integer type.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `vec![…]` of the items.
    List(Vec<OptionValue>),
}

/// An HTTP source. Credentials are named here (a file or a variable), never
/// stored: pme reads them at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSource {
    /// `http://` or `https://` URL.
    pub url: String,
    /// `GET` or `POST`.
    pub method: String,
    /// Request body (POST only).
    pub body: Option<String>,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// Credentials, if any.
    pub auth: Option<HttpAuth>,
    /// Which responses are kept, and how long.
    pub cache: Cache,
    /// The status codes whose body is a reading; empty: any `2xx`.
    pub valid_status: Vec<u16>,
    /// TLS settings other than the defaults (Mozilla roots, the URL's host).
    pub tls: Option<TlsClient>,
    /// An explicit proxy; without one the environment's `HTTPS_PROXY`,
    /// `HTTP_PROXY` and `NO_PROXY` apply.
    pub proxy: Option<String>,
}

/// How an HTTP source reuses responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// Every read is a request.
    Off,
    /// `Cache-Control: max-age` and `ETag`, as the server sends them.
    Headers,
    /// Every response is reused this long; an `ETag` then revalidates it.
    For(Duration),
}

/// TLS client settings of an HTTPS source; files are read at run time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsClient {
    /// PEM certificates trusted instead of the Mozilla roots.
    pub ca_file: Option<String>,
    /// PEM client certificate chain and its key, for mutual TLS.
    pub client_cert: Option<(String, String)>,
    /// The name the certificate must carry, when not the URL's host.
    pub server_name: Option<String>,
    /// Accept any certificate (a build warning and a start-up log line).
    pub insecure_skip_verify: bool,
}

/// How a request authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpAuth {
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// User name (not secret).
        username: String,
        /// Where the password is.
        password: Secret,
    },
}

/// Where a secret is read from at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// The contents of this file (trailing newline removed).
    File(String),
    /// The value of this environment variable.
    Env(String),
}

/// A user (and optionally group) to act as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    /// User name or numeric uid.
    pub user: String,
    /// Group name or numeric gid; the user's primary group when absent.
    pub group: Option<String>,
    /// Where the identity cannot be assumed, skip the service (its groups
    /// report the reason) instead of refusing to start.
    pub optional: bool,
}
