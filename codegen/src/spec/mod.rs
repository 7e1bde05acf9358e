//! The spec as written: `metrics.yaml` read into typed structs, every value
//! with its position. Only shape is checked here (known keys, right kinds of
//! values); meaning is checked in `validate/`.

mod instruments;

use std::time::Duration;

pub(crate) use instruments::{Instrument, LabelValues};
pub(crate) use pme_content::spec::keys::{self, SOURCE_TYPES};

use crate::diagnostic::{Diagnostics, Pos, one_of};
use crate::duration;
use crate::yaml::{Key, Node, Typed, Value};

/// A value and where it was written.
#[derive(Debug, Clone)]
pub(crate) struct Sp<T> {
    pub(crate) value: T,
    pub(crate) pos: Pos,
}

pub(crate) type Labels = Vec<(Sp<String>, Sp<String>)>;

#[derive(Debug, Default)]
pub(crate) struct Spec {
    pub(crate) exporter: Exporter,
    pub(crate) services: Vec<Service>,
}

#[derive(Debug, Default)]
pub(crate) struct Exporter {
    pub(crate) collection_frequency: Option<Sp<Duration>>,
    pub(crate) timeout: Option<Sp<Duration>>,
    pub(crate) max_bytes: Option<Sp<u64>>,
    /// The most series the whole spec may serve.
    pub(crate) max_series: Option<Sp<u64>>,
}

#[derive(Debug)]
pub(crate) struct Service {
    pub(crate) id: Sp<String>,
    pub(crate) name: Option<Sp<String>>,
    pub(crate) metric_prefix: Option<Sp<String>>,
    pub(crate) run_as: Option<RunAs>,
    /// Skip the service, rather than refuse to start, where `run_as` cannot be assumed.
    pub(crate) optional: Option<Sp<bool>>,
    /// Variables added to the environment of the service's commands.
    pub(crate) environment: Labels,
    /// Where the service's commands start.
    pub(crate) working_directory: Option<Sp<String>>,
    /// Request parameters: the service is collected per request at
    /// `/metrics/<id>?name=value`, never on a schedule.
    pub(crate) parameters: Vec<Parameter>,
    /// Declared targets: the service is collected per request at
    /// `/metrics/<id>?target=<name>`, `{target}` being the target's URL.
    pub(crate) targets: Vec<Target>,
    pub(crate) collection_frequency: Option<Sp<Duration>>,
    pub(crate) labels: Labels,
    pub(crate) groups: Vec<Group>,
    /// Application metrics the application updates itself.
    pub(crate) instruments: Vec<Instrument>,
}

/// A request parameter and the pattern its values must match.
#[derive(Debug)]
pub(crate) struct Parameter {
    pub(crate) name: Sp<String>,
    pub(crate) pattern: Option<Sp<String>>,
}

/// A declared target of a per-request service.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) name: Sp<String>,
    pub(crate) url: Option<Sp<String>>,
    pub(crate) labels: Labels,
}

#[derive(Debug)]
pub(crate) struct RunAs {
    pub(crate) pos: Pos,
    pub(crate) user: Option<Sp<String>>,
    pub(crate) group: Option<Sp<String>>,
}

/// A metric group, or a standalone metric (a group of one metric).
#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) id: Sp<String>,
    pub(crate) standalone: bool,
    pub(crate) source_type: Option<Sp<String>>,
    pub(crate) source: Option<SourceText>,
    pub(crate) shell: Option<Sp<bool>>,
    pub(crate) content_type: Option<Sp<String>>,
    pub(crate) collection_frequency: Option<Sp<Duration>>,
    pub(crate) timeout: Option<Sp<Duration>>,
    pub(crate) max_bytes: Option<Sp<u64>>,
    /// The most files a `file` glob reads per collection.
    pub(crate) max_files: Option<Sp<i64>>,
    pub(crate) http: Option<HttpSpec>,
    pub(crate) sample: Option<Sp<String>>,
    /// Where `expect:` is, and its lines.
    pub(crate) expect: Option<(Pos, Vec<Sp<String>>)>,
    /// Settings of a collector (`source_type: collector` or `builtin`).
    pub(crate) options: Option<(Pos, Options)>,
    /// `collector:` (`source_type: collector`): the Rust type.
    pub(crate) collector: Option<Sp<String>>,
    /// `labels:` of a collector's group: added to each of its series.
    pub(crate) labels: Labels,
    /// `enabled: false` keeps a group in the spec (still checked) but out
    /// of the binary.
    pub(crate) enabled: Option<Sp<bool>>,
    pub(crate) metrics: Vec<Metric>,
}

/// A collector's `options:`, in the spec's order.
pub(crate) type Options = Vec<(Sp<String>, OptionValue)>;

/// One value under a collector's `options:`: a scalar as YAML types it,
/// or a list.
#[derive(Debug, Clone)]
pub(crate) struct OptionValue {
    pub(crate) pos: Pos,
    pub(crate) kind: OptionKind,
}

#[derive(Debug, Clone)]
pub(crate) enum OptionKind {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<OptionValue>),
}

/// `http:` request settings of an HTTP source.
#[derive(Debug, Default)]
pub(crate) struct HttpSpec {
    pub(crate) pos: Pos,
    pub(crate) method: Option<Sp<String>>,
    pub(crate) body: Option<Sp<String>>,
    pub(crate) headers: Labels,
    pub(crate) bearer_token_file: Option<Sp<String>>,
    pub(crate) bearer_token_env: Option<Sp<String>>,
    pub(crate) basic_auth: Option<BasicAuthSpec>,
    pub(crate) cache: Option<Sp<CacheSpec>>,
    pub(crate) valid_status_codes: Option<Sp<Vec<Sp<i64>>>>,
    pub(crate) tls: Option<TlsSpec>,
    pub(crate) proxy_url: Option<Sp<String>>,
}

/// `cache:`: `true` honours the response's own `Cache-Control` and `ETag`;
/// a duration keeps every response that long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum CacheSpec {
    Headers(bool),
    For(Duration),
}

/// `tls:` settings of an HTTPS source.
#[derive(Debug, Default)]
pub(crate) struct TlsSpec {
    pub(crate) pos: Pos,
    pub(crate) ca_file: Option<Sp<String>>,
    pub(crate) cert_file: Option<Sp<String>>,
    pub(crate) key_file: Option<Sp<String>>,
    pub(crate) server_name: Option<Sp<String>>,
    pub(crate) insecure_skip_verify: Option<Sp<bool>>,
}

/// `basic_auth:` with the password read at run time.
#[derive(Debug, Default)]
pub(crate) struct BasicAuthSpec {
    pub(crate) pos: Pos,
    pub(crate) username: Option<Sp<String>>,
    pub(crate) password_file: Option<Sp<String>>,
    pub(crate) password_env: Option<Sp<String>>,
}

/// `value_map:` as written.
#[derive(Debug)]
pub(crate) struct ValueMapSpec {
    pub(crate) pos: Pos,
    /// How many entries were written (some may have failed to parse).
    pub(crate) written: usize,
    pub(crate) pairs: Vec<(Sp<String>, Sp<f64>)>,
}

/// `source:` is a string, or for commands a list of arguments.
#[derive(Debug)]
pub(crate) enum SourceText {
    Text(Sp<String>),
    Argv(Pos, Vec<Sp<String>>),
}

impl SourceText {
    /// Where `source:`'s value is.
    pub(crate) fn pos(&self) -> Pos {
        match self {
            SourceText::Text(t) => t.pos,
            SourceText::Argv(pos, _) => *pos,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Metric {
    pub(crate) id: Sp<String>,
    pub(crate) name: Option<Sp<String>>,
    pub(crate) kind: Option<Sp<String>>,
    pub(crate) description: Option<Sp<String>>,
    pub(crate) filter: Option<Sp<String>>,
    pub(crate) value: Option<Sp<String>>,
    pub(crate) match_mode: Option<Sp<String>>,
    pub(crate) labels: Labels,
    pub(crate) value_on_error: Option<Sp<f64>>,
    pub(crate) scale: Option<Sp<f64>>,
    pub(crate) value_map: Option<ValueMapSpec>,
    /// `content_type: prometheus`: the series selector.
    pub(crate) select: Option<Sp<String>>,
    /// `content_type: prometheus`: put before every family name.
    pub(crate) prefix: Option<Sp<String>>,
    /// `content_type: prometheus`: a sample's own labels win over constant ones.
    pub(crate) honor_labels: Option<Sp<bool>>,
    /// `content_type: prometheus`: `metric_relabel_configs`, where they are.
    pub(crate) relabel: Option<(Pos, Vec<RelabelSpec>)>,
    /// The most series a reading keeps (`match: all`, re-imports).
    pub(crate) max_series: Option<Sp<u64>>,
}

/// One of an import's `metric_relabel_configs`, keys as Prometheus names them.
#[derive(Debug)]
pub(crate) struct RelabelSpec {
    pub(crate) pos: Pos,
    pub(crate) action: Option<Sp<String>>,
    pub(crate) source_labels: Vec<Sp<String>>,
    pub(crate) separator: Option<Sp<String>>,
    pub(crate) regex: Option<Sp<String>>,
    pub(crate) replacement: Option<Sp<String>>,
    pub(crate) target_label: Option<Sp<String>>,
}

/// Reads the node tree into a [`Spec`], reporting every shape problem.
pub(crate) fn read(root: &Node, d: &mut Diagnostics) -> Spec {
    let mut spec = Spec::default();
    if matches!(root.value, Value::Null) {
        d.error_help(
            root.pos,
            "the spec is empty",
            "declare at least one service under `services:`",
        );
        return spec;
    }
    let Some(mut top) = Fields::new(root, "the spec", d) else {
        return spec;
    };
    if let Some(node) = top.take("exporter") {
        spec.exporter = read_exporter(node, d);
    }
    match top.take("services") {
        Some(node) => {
            for (k, v) in entries(node, "`services`", d) {
                spec.services.push(read_service(k, v, d));
            }
        }
        None => d.error_help(
            root.pos,
            "missing key `services`",
            "declare at least one service under `services:`",
        ),
    }
    top.finish(keys::TOP, d);
    spec
}

fn read_exporter(node: &Node, d: &mut Diagnostics) -> Exporter {
    let mut exporter = Exporter::default();
    let Some(mut f) = Fields::new(node, "`exporter`", d) else {
        return exporter;
    };
    exporter.collection_frequency = f
        .take("collection_frequency")
        .and_then(|n| duration_of(n, d));
    exporter.max_series = f
        .take("max_series")
        .and_then(|n| instruments::count_of(n, d));
    if let Some(defaults) = f.take("defaults")
        && let Some(mut g) = Fields::new(defaults, "`defaults`", d)
    {
        exporter.timeout = g.take("timeout").and_then(|n| duration_of(n, d));
        exporter.max_bytes = g.take("max_bytes").and_then(|n| bytes_of(n, d));
        g.finish(keys::DEFAULTS, d);
    }
    f.finish(keys::EXPORTER, d);
    exporter
}

fn read_service(key: &Key, node: &Node, d: &mut Diagnostics) -> Service {
    let mut service = Service {
        id: Sp {
            value: key.name.clone(),
            pos: key.pos,
        },
        name: None,
        metric_prefix: None,
        run_as: None,
        optional: None,
        environment: Vec::new(),
        working_directory: None,
        parameters: Vec::new(),
        targets: Vec::new(),
        collection_frequency: None,
        labels: Vec::new(),
        groups: Vec::new(),
        instruments: Vec::new(),
    };
    let Some(mut f) = Fields::new(node, "a service", d) else {
        return service;
    };
    service.name = f.take("name").and_then(|n| str_of(n, d));
    service.metric_prefix = f.take("metric_prefix").and_then(|n| str_of(n, d));
    service.run_as = f.take("run_as").map(|n| read_run_as(n, d));
    service.optional = f.take("optional").and_then(|n| bool_of(n, d));
    service.environment = f
        .take("environment")
        .map(|n| pairs_of(n, "`environment`", d))
        .unwrap_or_default();
    service.working_directory = f.take("working_directory").and_then(|n| str_of(n, d));
    if let Some(parameters) = f.take("parameters") {
        for (k, v) in entries(parameters, "`parameters`", d) {
            service.parameters.push(read_parameter(k, v, d));
        }
    }
    if let Some(targets) = f.take("targets") {
        for (k, v) in entries(targets, "`targets`", d) {
            service.targets.push(read_target(k, v, d));
        }
        if service.targets.is_empty() && matches!(targets.value, Value::Map(_)) {
            d.error_help(
                targets.pos,
                "`targets` is empty",
                "declare each target as `name: {url: https://host:port, labels: {…}}`",
            );
        }
    }
    service.collection_frequency = f
        .take("collection_frequency")
        .and_then(|n| duration_of(n, d));
    service.labels = f
        .take("labels")
        .map(|n| labels_of(n, d))
        .unwrap_or_default();
    if let Some(groups) = f.take("metric_groups") {
        for (k, v) in entries(groups, "`metric_groups`", d) {
            service.groups.push(read_group(k, v, false, d));
        }
    }
    if let Some(metrics) = f.take("standalone_metrics") {
        for (k, v) in entries(metrics, "`standalone_metrics`", d) {
            service.groups.push(read_group(k, v, true, d));
        }
    }
    if let Some(node) = f.take("instruments") {
        service.instruments = instruments::read(node, d);
    }
    if service.groups.is_empty()
        && !f.seen("metric_groups")
        && !f.seen("standalone_metrics")
        && !f.seen("instruments")
    {
        d.error_help(
            key.pos,
            format!("service `{}` declares no metrics", key.name),
            "add `metric_groups:`, `standalone_metrics:` or `instruments:`",
        );
    }
    f.finish(keys::SERVICE, d);
    service
}

fn read_parameter(key: &Key, node: &Node, d: &mut Diagnostics) -> Parameter {
    let mut parameter = Parameter {
        name: Sp {
            value: key.name.clone(),
            pos: key.pos,
        },
        pattern: None,
    };
    if let Some(mut f) = Fields::new(node, "a parameter", d) {
        parameter.pattern = f.take("pattern").and_then(|n| str_of(n, d));
        // Documentation only.
        let _ = f.take("description").and_then(|n| str_of(n, d));
        f.finish(keys::PARAMETER, d);
    }
    parameter
}

fn read_target(key: &Key, node: &Node, d: &mut Diagnostics) -> Target {
    let mut target = Target {
        name: Sp {
            value: key.name.clone(),
            pos: key.pos,
        },
        url: None,
        labels: Vec::new(),
    };
    if let Some(mut f) = Fields::new(node, "a target", d) {
        target.url = f.take("url").and_then(|n| str_of(n, d));
        target.labels = f
            .take("labels")
            .map(|n| labels_of(n, d))
            .unwrap_or_default();
        f.finish(keys::TARGET, d);
    }
    target
}

fn read_run_as(node: &Node, d: &mut Diagnostics) -> RunAs {
    let mut run_as = RunAs {
        pos: node.pos,
        user: None,
        group: None,
    };
    // The short form: `run_as: postgres` or `run_as: "999:999"`.
    if let Value::Scalar { text, .. } = &node.value {
        let (user, group) = match text.split_once(':') {
            Some((user, group)) => (user, Some(group)),
            None => (text.as_str(), None),
        };
        let at = |value: &str| Sp {
            value: value.to_owned(),
            pos: node.pos,
        };
        run_as.user = Some(at(user));
        run_as.group = group.map(at);
        return run_as;
    }
    if let Some(mut f) = Fields::new(node, "`run_as`", d) {
        run_as.user = f.take("user").and_then(|n| str_of(n, d));
        run_as.group = f.take("group").and_then(|n| str_of(n, d));
        f.finish(keys::RUN_AS, d);
    }
    run_as
}

/// A group (`standalone == false`) or a standalone metric, which is one
/// mapping holding both the source keys and the metric keys.
fn read_group(key: &Key, node: &Node, standalone: bool, d: &mut Diagnostics) -> Group {
    let mut group = Group {
        id: Sp {
            value: key.name.clone(),
            pos: key.pos,
        },
        standalone,
        source_type: None,
        source: None,
        shell: None,
        content_type: None,
        collection_frequency: None,
        timeout: None,
        max_bytes: None,
        max_files: None,
        http: None,
        sample: None,
        expect: None,
        options: None,
        collector: None,
        labels: Vec::new(),
        enabled: None,
        metrics: Vec::new(),
    };
    let what = if standalone {
        "a standalone metric"
    } else {
        "a metric group"
    };
    let Some(mut f) = Fields::new(node, what, d) else {
        return group;
    };
    group.source_type = f
        .take("source_type")
        .and_then(|n| str_of(n, d))
        .map(|t| canonical_source_type(t, d));
    group.source = f.take("source").and_then(|n| source_of(n, d));
    group.shell = f.take("shell").and_then(|n| bool_of(n, d));
    group.content_type = f.take("content_type").and_then(|n| str_of(n, d));
    group.collection_frequency = f
        .take("collection_frequency")
        .and_then(|n| duration_of(n, d));
    group.timeout = f.take("timeout").and_then(|n| duration_of(n, d));
    group.max_bytes = f.take("max_bytes").and_then(|n| bytes_of(n, d));
    group.max_files = f.take("max_files").and_then(|n| int_of(n, d));
    group.http = f.take("http").map(|n| read_http(n, d));
    group.sample = f.take("sample").and_then(|n| str_of(n, d));
    group.expect = f.take("expect").map(|n| read_expect(n, d));
    group.enabled = f.take("enabled").and_then(|n| bool_of(n, d));
    let collector = group
        .source_type
        .as_ref()
        .is_some_and(|t| t.value == "builtin" || t.value == "collector");
    if collector {
        group.options = f.take("options").map(|n| (n.pos, options_of(n, d)));
        group.collector = f.take("collector").and_then(|n| str_of(n, d));
        group.labels = f
            .take("labels")
            .map(|n| labels_of(n, d))
            .unwrap_or_default();
    }
    if collector {
        finish_collector(key, f, standalone, d);
        return group;
    }
    for only_collectors in ["options", "collector"] {
        if let Some(n) = f.take(only_collectors) {
            d.error_help(
                n.pos,
                format!(
                    "`{only_collectors}` only applies to `source_type: collector` or `builtin`"
                ),
                "it configures a collector; other sources are configured by their own keys",
            );
        }
    }
    if standalone {
        let metric = read_metric_fields(key, &mut f, d);
        group.metrics.push(metric);
        f.finish(keys::STANDALONE, d);
    } else {
        group.metrics = read_group_metrics(key, &mut f, d);
        f.finish(&[keys::SOURCE, keys::GROUP].concat(), d);
    }
    group
}

/// `metric_relabel_configs`: a list of rules.
fn read_relabel(n: &Node, d: &mut Diagnostics) -> (Pos, Vec<RelabelSpec>) {
    let Value::Seq(items) = &n.value else {
        d.error(
            n.pos,
            format!(
                "`metric_relabel_configs` must be a list of rules, found {}",
                n.describe()
            ),
        );
        return (n.pos, Vec::new());
    };
    let rules = items
        .iter()
        .filter_map(|item| {
            let mut f = Fields::new(item, "a relabel rule", d)?;
            let source_labels = match f.take("source_labels") {
                None => Vec::new(),
                Some(list) => match &list.value {
                    Value::Seq(labels) => labels.iter().filter_map(|l| str_of(l, d)).collect(),
                    _ => {
                        d.error(list.pos, "`source_labels` must be a list of label names");
                        Vec::new()
                    }
                },
            };
            let rule = RelabelSpec {
                pos: item.pos,
                action: f.take("action").and_then(|n| str_of(n, d)),
                source_labels,
                separator: f.take("separator").and_then(|n| str_of(n, d)),
                regex: f.take("regex").and_then(|n| str_of(n, d)),
                replacement: f.take("replacement").and_then(|n| str_of(n, d)),
                target_label: f.take("target_label").and_then(|n| str_of(n, d)),
            };
            f.finish(keys::RELABEL, d);
            Some(rule)
        })
        .collect();
    (n.pos, rules)
}

/// `expect`: the series lines a `sample` must yield.
fn read_expect(n: &Node, d: &mut Diagnostics) -> (Pos, Vec<Sp<String>>) {
    match &n.value {
        Value::Seq(items) => (n.pos, items.iter().filter_map(|i| str_of(i, d)).collect()),
        _ => {
            d.error(
                n.pos,
                format!(
                    "`expect` must be a list of series lines, found {}",
                    n.describe()
                ),
            );
            (n.pos, Vec::new())
        }
    }
}

/// `source_type` as written, or the canonical lower-case name when only
/// its case differs (`COMMAND`), with a warning.
fn canonical_source_type(t: Sp<String>, d: &mut Diagnostics) -> Sp<String> {
    let lower = t.value.to_ascii_lowercase();
    if lower == t.value || !SOURCE_TYPES.contains(&lower.as_str()) {
        return t;
    }
    d.warn(
        t.pos,
        format!(
            "source_type `{}` is read as `{lower}`; help: write `{lower}`",
            t.value
        ),
    );
    Sp {
        value: lower,
        pos: t.pos,
    }
}

/// The rest of a collector's group: it declares its own metrics, so it is
/// never a standalone metric and has no `metrics`.
fn finish_collector(key: &Key, mut f: Fields<'_>, standalone: bool, d: &mut Diagnostics) {
    if standalone {
        d.error_help(
            key.pos,
            format!("collector `{}` is not a standalone metric", key.name),
            "declare it under `metric_groups:`; it serves several families",
        );
    }
    if let Some((k, _)) = f.entries.iter().find(|(k, _)| k.name == "metrics") {
        d.error_help(
            k.pos,
            "a collector has no `metrics`",
            "its families are fixed by its type; docs/collectors.md lists the built-ins'",
        );
    }
    let _ = f.take("metrics");
    f.finish(keys::COLLECTOR, d);
}

/// A collector's `options:`: a mapping of option names to scalars or
/// lists of them.
fn options_of(node: &Node, d: &mut Diagnostics) -> Options {
    entries(node, "`options`", d)
        .iter()
        .filter_map(|(k, v)| {
            let name = Sp {
                value: k.name.clone(),
                pos: k.pos,
            };
            Some((name, option_value(v, d)?))
        })
        .collect()
}

fn option_value(node: &Node, d: &mut Diagnostics) -> Option<OptionValue> {
    let kind = match &node.value {
        Value::Scalar { text, typed } => match typed {
            Typed::Str => OptionKind::Str(text.clone()),
            Typed::Int(i) => OptionKind::Int(*i),
            Typed::Float(f) => OptionKind::Float(*f),
            Typed::Bool(b) => OptionKind::Bool(*b),
        },
        Value::Seq(items) => {
            let values: Vec<OptionValue> =
                items.iter().filter_map(|i| option_value(i, d)).collect();
            (values.len() == items.len()).then_some(OptionKind::List(values))?
        }
        Value::Map(_) | Value::Null => {
            d.error_help(
                node.pos,
                format!(
                    "an option is a string, number, boolean or list, found {}",
                    node.describe()
                ),
                "each option becomes one field of the collector's options struct",
            );
            return None;
        }
    };
    Some(OptionValue {
        pos: node.pos,
        kind,
    })
}

/// A group's `metrics:` mapping.
fn read_group_metrics(key: &Key, f: &mut Fields<'_>, d: &mut Diagnostics) -> Vec<Metric> {
    let Some(metrics) = f.take("metrics") else {
        d.error_help(
            key.pos,
            format!("metric group `{}` has no `metrics`", key.name),
            "a group reads one source and derives metrics from it; list them under `metrics:`",
        );
        return Vec::new();
    };
    let mut read = Vec::new();
    for (k, v) in entries(metrics, "`metrics`", d) {
        if let Some(mut m) = Fields::new(v, "a metric", d) {
            read.push(read_metric_fields(k, &mut m, d));
            m.finish(keys::METRIC, d);
        }
    }
    read
}

fn read_metric_fields(key: &Key, f: &mut Fields<'_>, d: &mut Diagnostics) -> Metric {
    Metric {
        id: Sp {
            value: key.name.clone(),
            pos: key.pos,
        },
        name: f.take("name").and_then(|n| str_of(n, d)),
        kind: f.take("type").and_then(|n| str_of(n, d)),
        description: f.take("description").and_then(|n| str_of(n, d)),
        filter: f.take("filter").and_then(|n| str_of(n, d)),
        value: f.take("value").and_then(|n| str_of(n, d)),
        match_mode: f.take("match").and_then(|n| str_of(n, d)),
        labels: f
            .take("labels")
            .map(|n| labels_of(n, d))
            .unwrap_or_default(),
        value_on_error: f.take("value_on_error").and_then(|n| f64_of(n, d)),
        scale: f.take("scale").and_then(|n| f64_of(n, d)),
        select: f.take("select").and_then(|n| str_of(n, d)),
        prefix: f.take("prefix").and_then(|n| str_of(n, d)),
        honor_labels: f.take("honor_labels").and_then(|n| bool_of(n, d)),
        relabel: f.take("metric_relabel_configs").map(|n| read_relabel(n, d)),
        max_series: f
            .take("max_series")
            .and_then(|n| instruments::count_of(n, d)),
        value_map: f.take("value_map").map(|n| {
            let written = entries(n, "`value_map`", d);
            let pairs = written
                .iter()
                .filter_map(|(k, v)| {
                    Some((
                        Sp {
                            value: k.name.clone(),
                            pos: k.pos,
                        },
                        f64_of(v, d)?,
                    ))
                })
                .collect();
            ValueMapSpec {
                pos: n.pos,
                written: written.len(),
                pairs,
            }
        }),
    }
}

fn read_http(node: &Node, d: &mut Diagnostics) -> HttpSpec {
    let mut http = HttpSpec {
        pos: node.pos,
        ..HttpSpec::default()
    };
    let Some(mut f) = Fields::new(node, "`http`", d) else {
        return http;
    };
    http.method = f.take("method").and_then(|n| str_of(n, d));
    http.body = f.take("body").and_then(|n| str_of(n, d));
    http.headers = f
        .take("headers")
        .map(|n| labels_of(n, d))
        .unwrap_or_default();
    http.bearer_token_file = f.take("bearer_token_file").and_then(|n| str_of(n, d));
    http.bearer_token_env = f.take("bearer_token_env").and_then(|n| str_of(n, d));
    if let Some(node) = f.take("basic_auth") {
        let mut auth = BasicAuthSpec {
            pos: node.pos,
            ..BasicAuthSpec::default()
        };
        if let Some(mut g) = Fields::new(node, "`basic_auth`", d) {
            auth.username = g.take("username").and_then(|n| str_of(n, d));
            auth.password_file = g.take("password_file").and_then(|n| str_of(n, d));
            auth.password_env = g.take("password_env").and_then(|n| str_of(n, d));
            g.finish(keys::BASIC_AUTH, d);
        }
        http.basic_auth = Some(auth);
    }
    http.cache = f.take("cache").and_then(|n| cache_of(n, d));
    http.valid_status_codes = f.take("valid_status_codes").and_then(|n| match &n.value {
        Value::Seq(items) => Some(Sp {
            value: items.iter().filter_map(|n| int_of(n, d)).collect(),
            pos: n.pos,
        }),
        _ => {
            d.error(
                n.pos,
                format!(
                    "expected a list of status codes such as `[200, 204]`, found {}",
                    n.describe()
                ),
            );
            None
        }
    });
    if let Some(node) = f.take("tls") {
        let mut tls = TlsSpec {
            pos: node.pos,
            ..TlsSpec::default()
        };
        if let Some(mut g) = Fields::new(node, "`tls`", d) {
            tls.ca_file = g.take("ca_file").and_then(|n| str_of(n, d));
            tls.cert_file = g.take("cert_file").and_then(|n| str_of(n, d));
            tls.key_file = g.take("key_file").and_then(|n| str_of(n, d));
            tls.server_name = g.take("server_name").and_then(|n| str_of(n, d));
            tls.insecure_skip_verify = g.take("insecure_skip_verify").and_then(|n| bool_of(n, d));
            g.finish(keys::TLS, d);
        }
        http.tls = Some(tls);
    }
    http.proxy_url = f.take("proxy_url").and_then(|n| str_of(n, d));
    f.finish(keys::HTTP, d);
    http
}

/// `true`/`false`, or a duration to keep each response.
fn cache_of(node: &Node, d: &mut Diagnostics) -> Option<Sp<CacheSpec>> {
    if let Value::Scalar {
        typed: Typed::Bool(b),
        ..
    } = &node.value
    {
        return Some(Sp {
            value: CacheSpec::Headers(*b),
            pos: node.pos,
        });
    }
    duration_of(node, d).map(|t| Sp {
        value: CacheSpec::For(t.value),
        pos: t.pos,
    })
}

/// The keys of one mapping; remembers which were read so the rest can be
/// reported as unknown, and reports repeated keys.
struct Fields<'a> {
    entries: &'a [(Key, Node)],
    used: Vec<bool>,
}

impl<'a> Fields<'a> {
    fn new(node: &'a Node, what: &str, d: &mut Diagnostics) -> Option<Self> {
        match &node.value {
            Value::Map(entries) => {
                for (i, (key, _)) in entries.iter().enumerate() {
                    if let Some((first, _)) = entries[..i].iter().find(|(k, _)| k.name == key.name)
                    {
                        d.error(
                            key.pos,
                            format!(
                                "duplicate key `{}` (first defined at line {}, column {})",
                                key.name, first.pos.line, first.pos.column
                            ),
                        );
                    }
                }
                Some(Fields {
                    entries,
                    used: vec![false; entries.len()],
                })
            }
            _ => {
                d.error(
                    node.pos,
                    format!("{what} must be a mapping, found {}", node.describe()),
                );
                None
            }
        }
    }

    fn take(&mut self, name: &str) -> Option<&'a Node> {
        let i = self.entries.iter().position(|(k, _)| k.name == name)?;
        self.used[i] = true;
        Some(&self.entries[i].1)
    }

    fn seen(&self, name: &str) -> bool {
        self.entries.iter().any(|(k, _)| k.name == name)
    }

    fn finish(self, allowed: &[keys::Key], d: &mut Diagnostics) {
        for ((key, _), used) in self.entries.iter().zip(self.used) {
            if !used && !allowed.iter().any(|k| k.name == key.name) {
                d.error_help(
                    key.pos,
                    format!("unknown key `{}`", key.name),
                    one_of(&key.name, &keys::names(allowed)),
                );
            }
        }
    }
}

/// The entries of a mapping whose keys are ids chosen by the user.
fn entries<'a>(node: &'a Node, what: &str, d: &mut Diagnostics) -> &'a [(Key, Node)] {
    match &node.value {
        Value::Map(entries) => {
            for (i, (key, _)) in entries.iter().enumerate() {
                if let Some((first, _)) = entries[..i].iter().find(|(k, _)| k.name == key.name) {
                    d.error(
                        key.pos,
                        format!(
                            "duplicate id `{}` in {what} (first defined at line {}, column {})",
                            key.name, first.pos.line, first.pos.column
                        ),
                    );
                }
            }
            entries
        }
        Value::Null => &[],
        _ => {
            d.error(
                node.pos,
                format!("{what} must be a mapping, found {}", node.describe()),
            );
            &[]
        }
    }
}

fn str_of(node: &Node, d: &mut Diagnostics) -> Option<Sp<String>> {
    match &node.value {
        Value::Scalar { text, .. } => Some(Sp {
            value: text.clone(),
            pos: node.pos,
        }),
        _ => {
            d.error(
                node.pos,
                format!("expected a string, found {}", node.describe()),
            );
            None
        }
    }
}

fn bool_of(node: &Node, d: &mut Diagnostics) -> Option<Sp<bool>> {
    match &node.value {
        Value::Scalar {
            typed: Typed::Bool(b),
            ..
        } => Some(Sp {
            value: *b,
            pos: node.pos,
        }),
        _ => {
            d.error(
                node.pos,
                format!(
                    "expected `true` or `false`, found {}",
                    describe_scalar(node)
                ),
            );
            None
        }
    }
}

fn int_of(node: &Node, d: &mut Diagnostics) -> Option<Sp<i64>> {
    scalar_of(
        node,
        d,
        "expected an integer",
        "write a whole number such as `200`",
        |_, typed| match typed {
            Typed::Int(i) => Some(i),
            _ => None,
        },
    )
}

fn f64_of(node: &Node, d: &mut Diagnostics) -> Option<Sp<f64>> {
    scalar_of(
        node,
        d,
        "expected a number",
        "write a number such as `0`, `-1`, `1.5e3`, `NaN` or `+Inf`",
        |text, typed| {
            match typed {
                Typed::Int(i) => Some(i as f64),
                Typed::Float(f) => Some(f),
                // Prometheus spellings of the special values, and quoted numbers.
                Typed::Str => crate::names::parse_value(text),
                Typed::Bool(_) => None,
            }
        },
    )
}

/// A scalar read by `parse`; anything else is reported as
/// "`message`, found `value`" with `help`.
fn scalar_of<T>(
    node: &Node,
    d: &mut Diagnostics,
    message: &str,
    help: &str,
    parse: impl FnOnce(&str, Typed) -> Option<T>,
) -> Option<Sp<T>> {
    if let Value::Scalar { text, typed } = &node.value
        && let Some(value) = parse(text, *typed)
    {
        return Some(Sp {
            value,
            pos: node.pos,
        });
    }
    d.error_help(
        node.pos,
        format!("{message}, found {}", describe_scalar(node)),
        help,
    );
    None
}

fn duration_of(node: &Node, d: &mut Diagnostics) -> Option<Sp<Duration>> {
    let Value::Scalar { text, .. } = &node.value else {
        d.error(
            node.pos,
            format!(
                "expected a duration such as `30s`, found {}",
                node.describe()
            ),
        );
        return None;
    };
    let bare_seconds = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let parsed = if bare_seconds {
        let seconds: Result<u64, _> = text.parse();
        if let Ok(n) = seconds {
            d.warn(
                node.pos,
                format!("`{text}` without a unit is read as {n} seconds; help: write `{n}s`"),
            );
        }
        seconds
            .map(Duration::from_secs)
            .map_err(|_| format!("duration `{text}` is too long"))
    } else {
        duration::parse(text)
    };
    match parsed {
        Ok(value) if value.is_zero() => {
            d.error_help(
                node.pos,
                format!("duration `{text}` is zero"),
                "a period or timeout must be positive",
            );
            None
        }
        Ok(value) => Some(Sp {
            value,
            pos: node.pos,
        }),
        Err(message) => {
            d.error(node.pos, message);
            None
        }
    }
}

/// A size in bytes: an integer, or a number with a `KiB`, `MiB` or `GiB` suffix.
fn bytes_of(node: &Node, d: &mut Diagnostics) -> Option<Sp<u64>> {
    let help = "write a positive number of bytes, or a number with `KiB`, `MiB` or `GiB`";
    scalar_of(
        node,
        d,
        "expected a size",
        help,
        |text, typed| match typed {
            Typed::Int(i) if i > 0 => Some(i as u64),
            Typed::Str => [("KiB", 1u64 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)]
                .iter()
                .find_map(|(unit, size)| {
                    let n: u64 = text.strip_suffix(unit)?.trim().parse().ok()?;
                    n.checked_mul(*size).filter(|v| *v > 0)
                }),
            _ => None,
        },
    )
}

fn source_of(node: &Node, d: &mut Diagnostics) -> Option<SourceText> {
    match &node.value {
        Value::Seq(items) => {
            let argv = items.iter().filter_map(|n| str_of(n, d)).collect();
            Some(SourceText::Argv(node.pos, argv))
        }
        Value::Scalar { text, .. } => Some(SourceText::Text(Sp {
            value: text.clone(),
            pos: node.pos,
        })),
        _ => {
            d.error(
                node.pos,
                format!(
                    "`source` must be a string or a list of arguments, found {}",
                    node.describe()
                ),
            );
            None
        }
    }
}

fn labels_of(node: &Node, d: &mut Diagnostics) -> Labels {
    pairs_of(node, "`labels`", d)
}

/// A mapping of strings to strings.
fn pairs_of(node: &Node, what: &str, d: &mut Diagnostics) -> Labels {
    entries(node, what, d)
        .iter()
        .filter_map(|(k, v)| {
            let value = str_of(v, d)?;
            Some((
                Sp {
                    value: k.name.clone(),
                    pos: k.pos,
                },
                value,
            ))
        })
        .collect()
}

fn describe_scalar(node: &Node) -> String {
    match &node.value {
        Value::Scalar { text, .. } => format!("`{text}`"),
        _ => node.describe().to_owned(),
    }
}
