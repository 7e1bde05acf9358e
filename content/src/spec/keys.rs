//! The keys each mapping of `metrics.yaml` accepts, with the kind of value
//! each takes: the one table both pme-codegen's reader (which reports any
//! other key as unknown) and the JSON Schema ([`super::schema`]) are made
//! from.
//!
//! The order is the order docs/spec.md lists them in.

use crate::Kind;
use crate::exposition::relabel::Action;

/// A key and the value it takes.
#[derive(Clone, Copy, Debug)]
pub struct Key {
    /// The key as written.
    pub name: &'static str,
    /// What value it takes.
    pub ty: Ty,
    /// One line for an editor's hover.
    pub doc: &'static str,
    /// Whether every mapping of its kind must have it.
    pub required: bool,
}

/// The kinds of values the spec's keys take, as the reader reads them.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    /// Any scalar, read as its text.
    Scalar,
    Bool,
    Int,
    /// A number, a Prometheus special value (`NaN`, `+Inf`) or a quoted one.
    Number,
    /// A Prometheus duration (`30s`, `1m30s`); bare digits are seconds.
    Duration,
    /// Bytes, or a number with `KiB`, `MiB` or `GiB`.
    Size,
    /// A whole number above 0.
    Count,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A command line as one string, or a list of arguments.
    Source,
    /// `user`, `user:group`, or a mapping.
    RunAs(&'static [Key]),
    /// `true`, `false` or a duration.
    Cache,
    /// A list of scalars.
    Scalars,
    /// A list of whole numbers.
    Ints,
    /// A list of numbers.
    Numbers,
    /// A mapping of names to scalars.
    Pairs,
    /// A mapping of names to numbers.
    NumberMap,
    /// A mapping with these keys.
    Table(&'static [Key]),
    /// A mapping of ids the user chooses to mappings with these keys.
    Ids(&'static [Key]),
    /// A list of mappings with these keys.
    List(&'static [Key]),
    /// A collector's options: names to scalars or lists of them.
    Options,
    /// An instrument's labels: names to a list of values or `text`.
    LabelValues,
    /// `metric_groups`: ids to groups, a collector's keys or a source's.
    Groups,
}

const fn key(name: &'static str, ty: Ty, doc: &'static str) -> Key {
    Key {
        name,
        ty,
        doc,
        required: false,
    }
}

/// A key every mapping of its kind must have.
const fn need(name: &'static str, ty: Ty, doc: &'static str) -> Key {
    Key {
        required: true,
        ..key(name, ty, doc)
    }
}

pub const TOP: &[Key] = &[
    key(
        "exporter",
        Ty::Table(EXPORTER),
        "Settings for the whole exporter.",
    ),
    need(
        "services",
        Ty::Ids(SERVICE),
        "The services to measure, by id.",
    ),
];
pub const EXPORTER: &[Key] = &[
    key(
        "collection_frequency",
        Ty::Duration,
        "The global tick: the fastest any group is collected.",
    ),
    key("defaults", Ty::Table(DEFAULTS), "Defaults for every group."),
    key(
        "max_series",
        Ty::Count,
        "The most series the spec's families may serve together (collectors not counted).",
    ),
];
pub const DEFAULTS: &[Key] = &[
    key("timeout", Ty::Duration, "Longest a read may take."),
    key("max_bytes", Ty::Size, "Largest content a read accepts."),
];
pub const SERVICE: &[Key] = &[
    key("name", Ty::Scalar, "A human name for the service."),
    key(
        "metric_prefix",
        Ty::Scalar,
        "Prepended to the names of the service's metrics.",
    ),
    key(
        "run_as",
        Ty::RunAs(RUN_AS),
        "The user (and group) the service's commands run as.",
    ),
    key(
        "optional",
        Ty::Bool,
        "Skip the service, rather than refuse to start, where `run_as` cannot be assumed.",
    ),
    key(
        "environment",
        Ty::Pairs,
        "Variables added to the environment of the service's commands.",
    ),
    key(
        "working_directory",
        Ty::Scalar,
        "Where the service's commands start.",
    ),
    key(
        "parameters",
        Ty::Ids(PARAMETER),
        "Request parameters: the service is collected per request at /metrics/<service>?name=value.",
    ),
    key(
        "targets",
        Ty::Ids(TARGET),
        "Declared targets: the service is collected per request at /metrics/<service>?target=<name>.",
    ),
    key(
        "collection_frequency",
        Ty::Duration,
        "How often the service's groups are collected.",
    ),
    key(
        "labels",
        Ty::Pairs,
        "Labels on every series of the service.",
    ),
    key(
        "metric_groups",
        Ty::Groups,
        "Groups: one source read once per cycle, many metrics derived from it.",
    ),
    key(
        "standalone_metrics",
        Ty::Ids(STANDALONE),
        "Metrics with a source of their own.",
    ),
    key(
        "instruments",
        Ty::Ids(INSTRUMENT),
        "Application metrics the application updates itself.",
    ),
];
pub const RUN_AS: &[Key] = &[
    key("user", Ty::Scalar, "User name or uid."),
    key("group", Ty::Scalar, "Group name or gid."),
];
pub const PARAMETER: &[Key] = &[
    key("pattern", Ty::Scalar, "A regex the whole value must match."),
    key("description", Ty::Scalar, "Documentation only."),
];
pub const TARGET: &[Key] = &[
    key("url", Ty::Scalar, "Base URL that `{target}` stands for."),
    key("labels", Ty::Pairs, "Labels on the target's series."),
];
/// Every `source_type`.
pub const SOURCE_TYPES: &[&str] = &["command", "file", "static", "http", "builtin", "collector"];
/// The source types whose groups are collectors (`COLLECTOR`'s keys).
pub const COLLECTOR_TYPES: &[&str] = &["builtin", "collector"];
const SOURCE_TYPE: Key = need("source_type", Ty::OneOf(SOURCE_TYPES), "What `source` is.");
const COLLECTION_FREQUENCY: Key = key(
    "collection_frequency",
    Ty::Duration,
    "How often the group is read; a multiple of the tick.",
);
const TIMEOUT: Key = key("timeout", Ty::Duration, "Longest a read may take.");
const ENABLED: Key = key(
    "enabled",
    Ty::Bool,
    "`false` keeps the group in the spec, checked, but out of the binary.",
);
pub const SOURCE: &[Key] = &[
    SOURCE_TYPE,
    key(
        "source",
        Ty::Source,
        "The command, path, glob, URL or static content to read.",
    ),
    key("shell", Ty::Bool, "Run the command through `/bin/sh -c`."),
    key(
        "content_type",
        Ty::OneOf(CONTENT_TYPES),
        "How to read the content (default text).",
    ),
    COLLECTION_FREQUENCY,
    TIMEOUT,
    key("max_bytes", Ty::Size, "Largest content a read accepts."),
    key(
        "max_files",
        Ty::Int,
        "Most files a glob reads per collection.",
    ),
    key("http", Ty::Table(HTTP), "How to make an HTTP request."),
    key(
        "sample",
        Ty::Scalar,
        "Content to check the metrics against at build time.",
    ),
    key(
        "expect",
        Ty::Scalars,
        "The series lines `sample` must yield.",
    ),
    ENABLED,
];
/// What a group of `source_type: collector` or `builtin` may say.
pub const COLLECTOR: &[Key] = &[
    SOURCE_TYPE,
    key("source", Ty::Source, "The built-in collector's name."),
    key(
        "collector",
        Ty::Scalar,
        "The Rust type of a `source_type: collector` group.",
    ),
    key("options", Ty::Options, "The collector's settings."),
    key("labels", Ty::Pairs, "Labels on each of its series."),
    COLLECTION_FREQUENCY,
    TIMEOUT,
    ENABLED,
];
pub const HTTP: &[Key] = &[
    key("method", Ty::OneOf(&["GET", "POST"]), "GET or POST."),
    key("body", Ty::Scalar, "The body of a POST."),
    key("headers", Ty::Pairs, "Request headers."),
    key(
        "bearer_token_file",
        Ty::Scalar,
        "A file holding a bearer token.",
    ),
    key(
        "bearer_token_env",
        Ty::Scalar,
        "A variable holding a bearer token.",
    ),
    key("basic_auth", Ty::Table(BASIC_AUTH), "Basic authentication."),
    key(
        "cache",
        Ty::Cache,
        "Reuse responses: `true` as their headers allow, or for a duration.",
    ),
    key(
        "valid_status_codes",
        Ty::Ints,
        "Status codes that count as success (default 2xx).",
    ),
    key("tls", Ty::Table(TLS), "TLS settings."),
    key("proxy_url", Ty::Scalar, "An HTTP proxy."),
];
pub const TLS: &[Key] = &[
    key("ca_file", Ty::Scalar, "CA certificates to trust."),
    key("cert_file", Ty::Scalar, "Client certificate."),
    key("key_file", Ty::Scalar, "Client certificate's key."),
    key(
        "server_name",
        Ty::Scalar,
        "Name to verify the server's certificate against.",
    ),
    key(
        "insecure_skip_verify",
        Ty::Bool,
        "Do not verify the server's certificate.",
    ),
];
pub const BASIC_AUTH: &[Key] = &[
    key("username", Ty::Scalar, "User name."),
    key("password_file", Ty::Scalar, "A file holding the password."),
    key(
        "password_env",
        Ty::Scalar,
        "A variable holding the password.",
    ),
];
/// A group's own key besides `SOURCE`.
pub const GROUP: &[Key] = &[need(
    "metrics",
    Ty::Ids(METRIC),
    "The metrics derived from the source, by id.",
)];
pub const METRIC: &[Key] = &[
    key(
        "name",
        Ty::Scalar,
        "The family name, if not the id (with the service's prefix).",
    ),
    key("type", Ty::OneOf(Kind::NAMES), "The metric type."),
    key("description", Ty::Scalar, "The family's HELP."),
    key(
        "filter",
        Ty::Scalar,
        "A regex, JSONPath or XPath selecting the value.",
    ),
    key(
        "value",
        Ty::Scalar,
        "Which capture or path is the value, or a constant.",
    ),
    key(
        "match",
        Ty::OneOf(MATCH_MODES),
        "`first` match, or one series per match (`all`).",
    ),
    key(
        "labels",
        Ty::Pairs,
        "Labels, constant or from captures (`$1`, `$name`).",
    ),
    key(
        "value_on_error",
        Ty::Number,
        "The value served when the reading fails.",
    ),
    key("scale", Ty::Number, "Multiplies the value (units)."),
    key("value_map", Ty::NumberMap, "Text values mapped to numbers."),
    key(
        "select",
        Ty::Scalar,
        "A series selector: the families a re-import serves.",
    ),
    key(
        "prefix",
        Ty::Scalar,
        "Prepended to re-imported family names.",
    ),
    key(
        "honor_labels",
        Ty::Bool,
        "Keep re-imported labels that clash with pme's.",
    ),
    key(
        "metric_relabel_configs",
        Ty::List(RELABEL),
        "Prometheus relabelling rules for re-imported series.",
    ),
    key(
        "max_series",
        Ty::Count,
        "Most series a reading keeps (`match: all`, re-imports); the rest are dropped and counted.",
    ),
];
/// `content_type:` values.
pub const CONTENT_TYPES: &[&str] = &["text", "json", "xml", "prometheus"];
/// `match:` values.
pub const MATCH_MODES: &[&str] = &["first", "all"];
/// A standalone metric: a source's keys and a metric's in one mapping.
pub const STANDALONE: &[Key] = &concat::<{ SOURCE.len() + METRIC.len() }>(SOURCE, METRIC);
pub const RELABEL: &[Key] = &[
    key("action", Ty::OneOf(Action::NAMES), "What the rule does."),
    key(
        "source_labels",
        Ty::Scalars,
        "Labels whose values are joined and matched.",
    ),
    key("separator", Ty::Scalar, "Joins source label values."),
    key("regex", Ty::Scalar, "Matched against the joined values."),
    key("replacement", Ty::Scalar, "What `replace` writes."),
    key("target_label", Ty::Scalar, "The label `replace` writes."),
];
pub const INSTRUMENT: &[Key] = &[
    key("name", Ty::Scalar, "The family name, if not the id."),
    need(
        "type",
        Ty::OneOf(INSTRUMENT_TYPES),
        "The instrument's type.",
    ),
    need("description", Ty::Scalar, "The family's HELP."),
    key(
        "labels",
        Ty::LabelValues,
        "Each label's values: a list (a Rust enum) or `text`.",
    ),
    key(
        "max_series",
        Ty::Count,
        "Most label sets kept; more are refused and counted.",
    ),
    key(
        "buckets",
        Ty::Numbers,
        "A histogram's upper bounds, increasing.",
    ),
];

/// An instrument's `type:` values.
pub const INSTRUMENT_TYPES: &[&str] = &["counter", "gauge", "histogram"];

/// `a` then `b`, at compile time.
const fn concat<const N: usize>(a: &[Key], b: &[Key]) -> [Key; N] {
    let mut out = [a[0]; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < a.len() { a[i] } else { b[i - a.len()] };
        i += 1;
    }
    out
}

/// The names of `keys`.
pub fn names(keys: &[Key]) -> Vec<&'static str> {
    keys.iter().map(|k| k.name).collect()
}
