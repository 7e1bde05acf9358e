//! Every semantic rule of the spec: [`spec::Spec`] in, [`ir::Model`] out.
//!
//! Rules run to the end even after a problem, so one build shows all of
//! them; each diagnostic points at the value at fault.

use std::collections::HashMap;
use std::time::Duration;

use crate::diagnostic::{Diagnostics, Pos, one_of};
use crate::duration::format as dur;
use crate::names::{self, Kind};
use crate::spec::{self, SourceText, Sp};
use crate::{builtin, command, context, filter, imports, ir, samples};

/// The global tick when `exporter.collection_frequency` is not set.
pub const DEFAULT_FREQUENCY: Duration = Duration::from_secs(15);
/// The read timeout when none is set (capped at the group's period, as
/// Prometheus caps `scrape_timeout` at `scrape_interval`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest content a source may return when `max_bytes` is not set.
pub const DEFAULT_MAX_BYTES: u64 = 4 << 20;

const SOURCE_TYPES: &[&str] = &["command", "file", "static", "http", "builtin"];
const CONTENT_TYPES: &[&str] = &["text", "json", "xml", "prometheus"];
const MATCH_MODES: &[&str] = &["first", "all"];

pub(crate) fn validate(spec: &spec::Spec, file: &str, d: &mut Diagnostics) -> ir::Model {
    let tick = spec
        .exporter
        .collection_frequency
        .as_ref()
        .map_or(DEFAULT_FREQUENCY, |f| f.value);
    let mut v = Validator {
        d,
        tick,
        default_timeout: spec.exporter.timeout.clone(),
        default_max_bytes: spec
            .exporter
            .max_bytes
            .as_ref()
            .map_or(DEFAULT_MAX_BYTES, |b| b.value),
        families: HashMap::new(),
        outputs: imports::Outputs::default(),
        idents: HashMap::new(),
        sources: Vec::new(),
        used_parameters: Vec::new(),
    };
    let services = spec.services.iter().map(|s| v.service(s)).collect();
    // What imports may not take at run time: every name the spec declares.
    let mut declared: Vec<String> = v
        .families
        .into_keys()
        .filter(|n| !v.outputs.serves_exactly(n))
        .chain(builtin::reserved().map(str::to_owned))
        .collect();
    declared.sort();
    declared.dedup();
    ir::Model {
        file: file.to_owned(),
        tick,
        sources: v.sources,
        services,
        spec_sha256: String::new(),
        declared,
        warnings: Vec::new(),
    }
}

struct Validator<'d> {
    d: &'d mut Diagnostics,
    tick: Duration,
    default_timeout: Option<Sp<Duration>>,
    default_max_bytes: u64,
    /// Family name → where it was first declared.
    families: HashMap<String, Pos>,
    /// Where imports put families, to catch two groups serving one name.
    outputs: imports::Outputs,
    /// Rust identifier → the id that produced it (ids must stay distinct after conversion).
    idents: HashMap<String, (String, Pos)>,
    sources: Vec<ir::Source>,
    /// Parameters the current service's commands use.
    used_parameters: Vec<String>,
}

impl Validator<'_> {
    fn service(&mut self, s: &spec::Service) -> ir::Service {
        self.check_id(&s.id, "service", "services");
        let period = match &s.collection_frequency {
            Some(f) if f.value < self.tick => {
                self.d.error_help(
                    f.pos,
                    format!(
                        "collection_frequency `{}` of service `{}` is shorter than the global `{}`",
                        dur(f.value),
                        s.id.value,
                        dur(self.tick)
                    ),
                    "the global frequency is the fastest rate; raise this one or lower `exporter.collection_frequency`",
                );
                self.tick
            }
            Some(f) => f.value,
            None => self.tick,
        };
        let prefix = match &s.metric_prefix {
            Some(p) => match names::check_metric_name(&p.value) {
                Ok(()) => p.value.clone(),
                Err(e) => {
                    self.d.error(p.pos, format!("metric_prefix: {e}"));
                    String::new()
                }
            },
            None => String::new(),
        };
        let labels: Vec<(Sp<String>, Sp<String>)> = s
            .labels
            .iter()
            .filter(|(name, value)| {
                self.check_label_name(name)
                    && match filter::parse_template(&value.value) {
                        Ok(Some(parts)) if parts.iter().any(|(capture, _)| *capture) => {
                            self.d.error_help(
                                value.pos,
                                format!("service label `{}` refers to a capture", name.value),
                                "service labels are constants; use `$$` for a literal `$`",
                            );
                            false
                        }
                        Ok(_) => true,
                        Err(e) => {
                            self.d.error(value.pos, e);
                            false
                        }
                    }
            })
            .cloned()
            .collect();
        let exec = context::check(s, self.d);
        builtin::check_service(s, self.d);
        let context = ServiceContext {
            id: &s.id.value,
            prefix,
            period,
            labels,
            exec,
        };
        let groups: Vec<ir::Group> = s
            .groups
            .iter()
            .filter_map(|g| self.group(g, &context))
            .collect();
        let has_command = groups
            .iter()
            .any(|g| matches!(self.sources[g.source].kind, ir::SourceKind::Command { .. }));
        context::check_used(s, has_command, self.d);
        let used = std::mem::take(&mut self.used_parameters);
        context::check_parameters_used(s, &context.exec.parameters, &used, self.d);
        ir::Service {
            id: s.id.value.clone(),
            name: s
                .name
                .as_ref()
                .map_or_else(|| s.id.value.clone(), |n| n.value.clone()),
            line: s.id.pos.line,
            groups,
            parameters: context.exec.parameters,
        }
    }

    fn group(&mut self, g: &spec::Group, service: &ServiceContext<'_>) -> Option<ir::Group> {
        let what = if g.standalone {
            "standalone metric"
        } else {
            "metric group"
        };
        self.check_id(&g.id, what, &format!("service {}", service.id));
        let period = match &g.collection_frequency {
            Some(f) if f.value < service.period => {
                self.d.error_help(
                    f.pos,
                    format!(
                        "collection_frequency `{}` of {what} `{}` is shorter than its service's `{}`",
                        dur(f.value),
                        g.id.value,
                        dur(service.period)
                    ),
                    "frequencies go global ≤ service ≤ group",
                );
                service.period
            }
            Some(f) => f.value,
            None => service.period,
        };
        // next_collection = ceil(frequency / global) * global.
        let every = period.as_millis().div_ceil(self.tick.as_millis()).max(1) as u32;
        let effective = self.tick * every;
        let timeout = match g.timeout.as_ref().or(self.default_timeout.as_ref()) {
            Some(t) if t.value >= effective => {
                self.d.error_help(
                    t.pos,
                    format!(
                        "timeout `{}` is not shorter than the period `{}` of {what} `{}`",
                        dur(t.value),
                        dur(effective),
                        g.id.value
                    ),
                    "a read must end before the next one is due; shorten the timeout or collect less often",
                );
                effective
            }
            Some(t) => t.value,
            None => DEFAULT_TIMEOUT.min(effective),
        };
        if g.source_type.as_ref().is_some_and(|t| t.value == "builtin") {
            return self.builtin_group(g, every, timeout);
        }
        if let Some((pos, _)) = &g.options {
            self.d.error_help(
                *pos,
                "`options` only apply to `source_type: builtin`",
                "they configure a built-in collector",
            );
        }
        let content = self.content(g);
        let kind = self.source_kind(g);
        let max_bytes = g
            .max_bytes
            .as_ref()
            .map_or(self.default_max_bytes, |b| b.value);
        let (metrics, imports) = if content == Some(ir::Content::Prometheus) {
            let group_key = format!("{}.{}", service.id, g.id.value);
            let imports: Vec<ir::Import> = g
                .metrics
                .iter()
                .filter_map(|m| {
                    self.check_id(&m.id, "metric", &format!("group {group_key}"));
                    imports::import(
                        m,
                        &group_key,
                        &service.prefix,
                        &service.labels,
                        &mut self.families,
                        &mut self.outputs,
                        self.d,
                    )
                })
                .collect();
            (Vec::new(), imports)
        } else {
            let metrics: Vec<ir::Metric> = g
                .metrics
                .iter()
                .filter_map(|m| self.metric(m, service, g, content))
                .collect();
            (metrics, Vec::new())
        };
        // A sample is only run when every metric is valid.
        let metrics_ok = metrics.len() + imports.len() == g.metrics.len();
        let (mut kind, content) = (kind?, content?);
        if let (ir::SourceKind::Http(http), ir::Content::Prometheus) = (&mut kind, content)
            && !http
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("accept"))
        {
            // Ask for the text format, which `/metrics` serves too: nothing
            // an OpenMetrics answer adds (exemplars, `_created`) survives it.
            http.headers.push((
                "Accept".to_owned(),
                "text/plain;version=0.0.4;q=1,*/*;q=0.1".to_owned(),
            ));
        }
        if let ir::SourceKind::Command {
            environment,
            working_directory,
            ..
        } = &mut kind
        {
            environment.clone_from(&service.exec.environment);
            working_directory.clone_from(&service.exec.working_directory);
        }
        if !service.exec.parameters.is_empty() {
            self.check_placeholders(g, &kind, &service.exec.parameters);
        }
        let source = self.intern_source(ir::Source {
            kind,
            max_bytes,
            run_as: service.exec.run_as.clone(),
            timeout,
        });
        let group = ir::Group {
            id: g.id.value.clone(),
            line: g.id.pos.line,
            standalone: g.standalone,
            source,
            every,
            timeout,
            content,
            metrics,
            imports,
        };
        match (&g.sample, &g.expect) {
            (Some(sample), Some((pos, lines))) if metrics_ok => {
                samples::check(&group, sample, lines, *pos, self.d)
            }
            (Some(sample), None) => {
                self.d.error_help(
                    sample.pos,
                    "a `sample` needs `expect`",
                    "list the series the sample must yield",
                );
            }
            (None, Some((pos, _))) => {
                self.d
                    .error_help(*pos, "`expect` needs a `sample`", "add the input to check")
            }
            _ => {}
        }
        Some(group)
    }

    /// A built-in collector: no metrics to check, but its families join
    /// the spec's, so nothing else may declare them.
    fn builtin_group(
        &mut self,
        g: &spec::Group,
        every: u32,
        timeout: Duration,
    ) -> Option<ir::Group> {
        let (builtin, kind) = builtin::check(g, self.d)?;
        for family in builtin.families {
            if let Some(first) = self.families.get(*family) {
                self.d.error_help(
                    g.id.pos,
                    format!(
                        "built-in collector `{}` serves `{family}`, already declared at line {}, column {}",
                        builtin.name, first.line, first.column
                    ),
                    "every family must come from one place; rename the other metric or drop the duplicate collector",
                );
                return None;
            }
        }
        for family in builtin.families {
            self.families.insert((*family).to_owned(), g.id.pos);
        }
        let source = self.intern_source(ir::Source {
            kind,
            max_bytes: 0,
            run_as: None,
            timeout,
        });
        Some(ir::Group {
            id: g.id.value.clone(),
            line: g.id.pos.line,
            standalone: false,
            source,
            every,
            timeout,
            content: ir::Content::Text,
            metrics: Vec::new(),
            imports: Vec::new(),
        })
    }

    /// Parameters go into command arguments (passed as argv, never through
    /// a shell) and nowhere else.
    fn check_placeholders(
        &mut self,
        g: &spec::Group,
        kind: &ir::SourceKind,
        parameters: &[ir::Parameter],
    ) {
        let pos = match &g.source {
            Some(SourceText::Text(t)) => t.pos,
            Some(SourceText::Argv(pos, _)) => *pos,
            None => g.id.pos,
        };
        let texts: Vec<&str> = match kind {
            ir::SourceKind::Command { argv, .. } => {
                let referenced: Vec<&str> = argv
                    .iter()
                    .flat_map(|a| context::referenced(a, parameters))
                    .map(|p| p.name.as_str())
                    .collect();
                let shell_line = g.shell.as_ref().is_some_and(|s| s.value);
                if (shell_line || shell_script_uses(argv, parameters)) && !referenced.is_empty() {
                    let (what, help) = if shell_line {
                        (
                            "a `shell: true` command",
                            "write the command as a list of arguments",
                        )
                    } else {
                        (
                            "a shell script",
                            "pass the value after the script and use it as \"$1\"",
                        )
                    };
                    self.d.error_help(
                        pos,
                        format!("parameter `{}` in {what}", referenced[0]),
                        format!("a request value must never be read as shell code; {help}"),
                    );
                    return;
                }
                self.used_parameters
                    .extend(referenced.into_iter().map(str::to_owned));
                return;
            }
            ir::SourceKind::File { path } => vec![path],
            ir::SourceKind::Http(h) => std::iter::once(h.url.as_str())
                .chain(h.body.as_deref())
                .chain(h.headers.iter().map(|(_, v)| v.as_str()))
                .collect(),
            ir::SourceKind::Static { .. } | ir::SourceKind::Builtin { .. } => Vec::new(),
        };
        if let Some(p) = texts
            .iter()
            .find_map(|t| context::referenced(t, parameters).first().copied())
        {
            self.d.error_help(
                pos,
                format!("parameter `{}` outside a command", p.name),
                "parameters are passed as command arguments only; a path or URL built from a request is not allowed",
            );
        }
    }

    /// Groups reading the same thing as the same identity share one read.
    fn intern_source(&mut self, source: ir::Source) -> usize {
        let same = |s: &ir::Source| {
            s.kind == source.kind && s.run_as == source.run_as && s.max_bytes == source.max_bytes
        };
        if let Some(i) = self.sources.iter().position(same) {
            let shared = &mut self.sources[i];
            shared.timeout = shared.timeout.max(source.timeout);
            return i;
        }
        self.sources.push(source);
        self.sources.len() - 1
    }

    fn content(&mut self, g: &spec::Group) -> Option<ir::Content> {
        match g.content_type.as_ref().map(|c| (c.value.as_str(), c.pos)) {
            None | Some(("text", _)) => Some(ir::Content::Text),
            Some(("json", _)) => Some(ir::Content::Json),
            Some(("xml", _)) => Some(ir::Content::Xml),
            Some(("prometheus", _)) => Some(ir::Content::Prometheus),
            Some((other, pos)) => {
                self.d.error_help(
                    pos,
                    format!("unknown content_type `{other}`"),
                    one_of(other, CONTENT_TYPES),
                );
                None
            }
        }
    }

    fn source_kind(&mut self, g: &spec::Group) -> Option<ir::SourceKind> {
        let Some(source_type) = &g.source_type else {
            self.d.error_help(
                g.id.pos,
                format!("`{}` has no `source_type`", g.id.value),
                one_of("", SOURCE_TYPES),
            );
            return None;
        };
        if let Some(http) = &g.http
            && source_type.value != "http"
        {
            self.d.error(
                http.pos,
                "`http` settings only apply to `source_type: http`",
            );
        }
        let shell = g.shell.as_ref();
        if let Some(shell) = shell
            && source_type.value != "command"
        {
            self.d
                .error(shell.pos, "`shell` only applies to `source_type: command`");
        }
        let Some(source) = &g.source else {
            self.d.error_help(
                g.id.pos,
                format!("`{}` has no `source`", g.id.value),
                "name the command, file or static value to read",
            );
            return None;
        };
        match source_type.value.as_str() {
            "command" => self.command(source, shell),
            "file" => match source {
                SourceText::Text(path) if path.value.starts_with('/') => {
                    Some(ir::SourceKind::File {
                        path: path.value.clone(),
                    })
                }
                SourceText::Text(path) => {
                    self.d.error_help(
                        path.pos,
                        format!("file source `{}` is not an absolute path", path.value),
                        "relative paths would depend on the exporter's working directory",
                    );
                    None
                }
                SourceText::Argv(pos, _) => {
                    self.d.error(*pos, "a file source is one path, not a list");
                    None
                }
            },
            "static" => match source {
                SourceText::Text(content) => Some(ir::SourceKind::Static {
                    content: content.value.clone(),
                }),
                SourceText::Argv(pos, _) => {
                    self.d
                        .error(*pos, "a static source is one value, not a list");
                    None
                }
            },
            "http" => match source {
                SourceText::Text(url) => self.http(url, g.http.as_ref()).map(ir::SourceKind::Http),
                SourceText::Argv(pos, _) => {
                    self.d.error(*pos, "an http source is one URL, not a list");
                    None
                }
            },
            other => {
                self.d.error_help(
                    source_type.pos,
                    format!("unknown source_type `{other}`"),
                    one_of(other, SOURCE_TYPES),
                );
                None
            }
        }
    }

    /// A URL and its request settings; credentials only by reference.
    fn http(
        &mut self,
        url: &Sp<String>,
        settings: Option<&spec::HttpSpec>,
    ) -> Option<ir::HttpSource> {
        let mut ok = true;
        let valid_url = ["http://", "https://"].iter().any(|scheme| {
            url.value.strip_prefix(scheme).is_some_and(|rest| {
                let host = rest.split(['/', '?', '#']).next().unwrap_or("");
                !host.is_empty() && !rest.contains(char::is_whitespace)
            })
        });
        if !valid_url {
            self.d.error_help(
                url.pos,
                format!("invalid URL `{}`", url.value),
                "an http source is an absolute `http://` or `https://` URL",
            );
            ok = false;
        }
        let default = spec::HttpSpec::default();
        let s = settings.unwrap_or(&default);
        let method = match &s.method {
            None => "GET".to_owned(),
            Some(m) if m.value == "GET" || m.value == "POST" => m.value.clone(),
            Some(m) => {
                self.d.error_help(
                    m.pos,
                    format!("unsupported HTTP method `{}`", m.value),
                    one_of(&m.value, &["GET", "POST"]),
                );
                ok = false;
                String::new()
            }
        };
        if let Some(body) = &s.body
            && method != "POST"
        {
            self.d.error_help(
                body.pos,
                "a request `body` needs `method: POST`",
                "add `method: POST`",
            );
            ok = false;
        }
        for (name, value) in &s.headers {
            let token = !name.value.is_empty()
                && name
                    .value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !token {
                self.d
                    .error(name.pos, format!("invalid header name `{}`", name.value));
                ok = false;
            } else if ["authorization", "proxy-authorization", "cookie"]
                .contains(&name.value.to_ascii_lowercase().as_str())
            {
                self.d.error_help(
                    name.pos,
                    format!("header `{}` would compile a credential into the binary", name.value),
                    "use `bearer_token_file`/`bearer_token_env` or `basic_auth`, which pme reads at run time",
                );
                ok = false;
            }
            if value.value.chars().any(|c| c.is_control() && c != '\t') {
                self.d.error(
                    value.pos,
                    format!(
                        "header `{}` has a control character in its value",
                        name.value
                    ),
                );
                ok = false;
            }
        }
        let bearer = self.secret(&s.bearer_token_file, &s.bearer_token_env, "bearer_token");
        let basic = s.basic_auth.as_ref().and_then(|b| {
            let Some(username) = &b.username else {
                self.d.error(b.pos, "`basic_auth` needs a `username`");
                return None;
            };
            let password = self.secret(&b.password_file, &b.password_env, "password")?;
            let Some(password) = password else {
                self.d.error_help(
                    b.pos,
                    "`basic_auth` needs a password",
                    "set `password_file` or `password_env`",
                );
                return None;
            };
            Some(ir::HttpAuth::Basic {
                username: username.value.clone(),
                password,
            })
        });
        let auth = match (bearer, basic) {
            (Some(Some(_)), Some(_)) => {
                self.d
                    .error(s.pos, "use either a bearer token or `basic_auth`, not both");
                ok = false;
                None
            }
            (Some(Some(token)), None) => Some(ir::HttpAuth::Bearer(token)),
            (None, _) => {
                ok = false;
                None
            }
            (Some(None), basic) => {
                if s.basic_auth.is_some() && basic.is_none() {
                    ok = false;
                }
                basic
            }
        };
        ok.then(|| ir::HttpSource {
            url: url.value.clone(),
            method,
            body: s.body.as_ref().map(|b| b.value.clone()),
            headers: s
                .headers
                .iter()
                .map(|(n, v)| (n.value.clone(), v.value.clone()))
                .collect(),
            auth,
            cache: s.cache.as_ref().is_some_and(|c| c.value),
        })
    }

    /// A secret named by at most one of a file and a variable. `None` when
    /// invalid, `Some(None)` when absent.
    fn secret(
        &mut self,
        file: &Option<Sp<String>>,
        env: &Option<Sp<String>>,
        what: &str,
    ) -> Option<Option<ir::Secret>> {
        match (file, env) {
            (Some(_), Some(e)) => {
                self.d.error(
                    e.pos,
                    format!("set `{what}_file` or `{what}_env`, not both"),
                );
                None
            }
            (Some(f), None) if !f.value.starts_with('/') => {
                self.d.error(
                    f.pos,
                    format!("`{what}_file` `{}` is not an absolute path", f.value),
                );
                None
            }
            (Some(f), None) => Some(Some(ir::Secret::File(f.value.clone()))),
            (None, Some(e)) => {
                let valid = e
                    .value
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && e.value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_');
                if valid {
                    Some(Some(ir::Secret::Env(e.value.clone())))
                } else {
                    self.d.error(
                        e.pos,
                        format!("invalid environment variable name `{}`", e.value),
                    );
                    None
                }
            }
            (None, None) => Some(None),
        }
    }

    fn command(&mut self, source: &SourceText, shell: Option<&Sp<bool>>) -> Option<ir::SourceKind> {
        let shell = shell.is_some_and(|s| s.value);
        let argv = match source {
            SourceText::Argv(pos, argv) => {
                if shell {
                    self.d.error_help(
                        *pos,
                        "`shell: true` takes a command line, not a list",
                        "write the line as one string",
                    );
                    return None;
                }
                if argv.is_empty() || argv[0].value.is_empty() {
                    self.d.error(*pos, "the command is empty");
                    return None;
                }
                argv.iter().map(|a| a.value.clone()).collect()
            }
            SourceText::Text(line) if shell => {
                if line.value.trim().is_empty() {
                    self.d.error(line.pos, "the command is empty");
                    return None;
                }
                vec!["/bin/sh".to_owned(), "-c".to_owned(), line.value.clone()]
            }
            SourceText::Text(line) => match command::split(&line.value) {
                Ok(argv) => argv,
                Err(e) => {
                    self.d.error_help(
                        line.pos,
                        format!("command `{}`: {e}", line.value),
                        "pme runs commands without a shell; set `shell: true` to run the line with /bin/sh",
                    );
                    return None;
                }
            },
        };
        Some(ir::SourceKind::Command {
            argv,
            environment: Vec::new(),
            working_directory: None,
        })
    }

    fn metric(
        &mut self,
        m: &spec::Metric,
        service: &ServiceContext<'_>,
        g: &spec::Group,
        content: Option<ir::Content>,
    ) -> Option<ir::Metric> {
        self.check_id(
            &m.id,
            "metric",
            &format!("group {}.{}", service.id, g.id.value),
        );
        for (key, spot) in [("select", &m.select), ("prefix", &m.prefix)] {
            if let Some(spot) = spot {
                self.d.error_help(
                    spot.pos,
                    format!("`{key}` applies to `content_type: prometheus`"),
                    "it picks families out of a re-imported Prometheus exposition",
                );
            }
        }
        let base = m.name.as_ref().unwrap_or(&m.id);
        let name = match service.prefix.as_str() {
            "" => base.value.clone(),
            p if p.ends_with('_') => format!("{p}{}", base.value),
            p => format!("{p}_{}", base.value),
        };
        let mut ok = true;
        if let Err(e) = names::check_metric_name(&name) {
            self.d.error(base.pos, e);
            ok = false;
        }
        let kind = match &m.kind {
            Some(k) => match Kind::from_keyword(&k.value) {
                Some(kind) => Some(kind),
                None => {
                    let help = if matches!(k.value.as_str(), "histogram" | "summary") {
                        "histograms and summaries come from re-imported Prometheus text, not from a filter".to_owned()
                    } else {
                        one_of(&k.value, Kind::NAMES)
                    };
                    self.d
                        .error_help(k.pos, format!("unknown metric type `{}`", k.value), help);
                    None
                }
            },
            None => {
                self.d.error_help(
                    m.id.pos,
                    format!("metric `{}` has no `type`", m.id.value),
                    one_of("", Kind::NAMES),
                );
                None
            }
        };
        if let Some(kind) = kind
            && ok
        {
            if let Err(e) = names::check_kind_suffix(&name, kind) {
                self.d.error(base.pos, e);
                ok = false;
            }
            if let Some(advice) = names::naming_advice(&name, kind) {
                self.d.warn(base.pos, advice);
            }
            if builtin::is_reserved(&name) {
                self.d.error(
                    base.pos,
                    format!("`{name}` is reserved for pme's self-metrics"),
                );
                ok = false;
            }
        }
        if ok {
            if let Some(first) = self.families.get(&name) {
                self.d.error_help(
                    base.pos,
                    format!(
                        "duplicate metric family `{name}` (first defined at line {}, column {})",
                        first.line, first.column
                    ),
                    "every family must come from one metric; give one of them another name",
                );
                ok = false;
            } else {
                self.families.insert(name.clone(), base.pos);
            }
        }
        let help = match &m.description {
            Some(d) if !d.value.trim().is_empty() => d.value.clone(),
            _ => {
                let pos = m.description.as_ref().map_or(m.id.pos, |d| d.pos);
                self.d.error_help(
                    pos,
                    format!("metric `{}` has no `description`", m.id.value),
                    "it becomes the `# HELP` text, which Prometheus tooling expects",
                );
                ok = false;
                String::new()
            }
        };
        let labels = self.labels(m, service);
        let match_all = match &m.match_mode {
            None => false,
            Some(mode) => match mode.value.as_str() {
                "first" => false,
                "all" => true,
                other => {
                    self.d.error_help(
                        mode.pos,
                        format!("unknown match mode `{other}`"),
                        one_of(other, MATCH_MODES),
                    );
                    ok = false;
                    false
                }
            },
        };
        if let Some(spec::ValueMapSpec { pos, written, .. }) = &m.value_map {
            if *written == 0 {
                self.d.error_help(
                    *pos,
                    "`value_map` is empty",
                    "map strings to numbers, e.g. `{ok: 1, degraded: 0.5, down: 0}`",
                );
                ok = false;
            } else if kind == Some(Kind::Info) {
                self.d.error_help(
                    *pos,
                    "`value_map` does not apply to info metrics",
                    "an info metric's value is always 1",
                );
                ok = false;
            }
        }
        if let Some(scale) = &m.scale {
            if !scale.value.is_finite() || scale.value == 0.0 {
                self.d.error_help(
                    scale.pos,
                    format!(
                        "`scale` must be a finite, non-zero number, found `{}`",
                        scale.value
                    ),
                    "for example `1024` turns KiB into bytes, `0.001` milliseconds into seconds",
                );
                ok = false;
            } else if kind == Some(Kind::Info) {
                self.d.error_help(
                    scale.pos,
                    "`scale` does not apply to info metrics",
                    "an info metric's value is always 1",
                );
                ok = false;
            }
        }
        if let (Some(v), Some(Kind::Info)) = (&m.value_on_error, kind) {
            self.d.error_help(
                v.pos,
                "`value_on_error` does not apply to info metrics",
                "an info metric's value is always 1",
            );
            ok = false;
        }
        ok &= self.check_filter(m, &labels, kind, match_all, content);
        let labels = labels?;
        Some(ir::Metric {
            id: m.id.value.clone(),
            line: m.id.pos.line,
            name,
            kind: kind?,
            help,
            labels,
            filter: m.filter.as_ref().map(|f| f.value.clone()),
            value: m.value.as_ref().map(|v| v.value.clone()),
            match_all,
            value_on_error: m.value_on_error.as_ref().map(|v| v.value),
            scale: m.scale.as_ref().map(|v| v.value),
            value_map: m
                .value_map
                .as_ref()
                .map(|map| {
                    map.pairs
                        .iter()
                        .map(|(k, v)| (k.value.clone(), v.value))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .filter(|_| ok)
    }

    /// Service labels then metric labels; names valid and distinct.
    fn labels(
        &mut self,
        m: &spec::Metric,
        service: &ServiceContext<'_>,
    ) -> Option<Vec<(String, String)>> {
        let mut ok = true;
        let mut seen: HashMap<&str, Pos> = HashMap::new();
        for (name, _) in &service.labels {
            seen.insert(&name.value, name.pos);
        }
        for (name, value) in &m.labels {
            ok &= self.check_label_name(name);
            if let Some(first) = seen.get(name.value.as_str()) {
                self.d.error(
                    name.pos,
                    format!(
                        "label `{}` is already set at line {}, column {}",
                        name.value, first.line, first.column
                    ),
                );
                ok = false;
            }
            seen.insert(&name.value, name.pos);
            if let Err(e) = filter::parse_template(&value.value) {
                self.d.error(value.pos, e);
                ok = false;
            }
        }
        ok.then(|| {
            service
                .labels
                .iter()
                .chain(&m.labels)
                .map(|(n, v)| (n.value.clone(), v.value.clone()))
                .collect()
        })
    }

    /// The filter compiles, its captures and the labels agree, and `match: all`
    /// cannot produce two series with the same labels.
    fn check_filter(
        &mut self,
        m: &spec::Metric,
        labels: &Option<Vec<(String, String)>>,
        kind: Option<Kind>,
        match_all: bool,
        content: Option<ir::Content>,
    ) -> bool {
        let Some(labels) = labels else { return true };
        let dynamic: Vec<(String, Vec<(bool, String)>)> = labels
            .iter()
            .filter_map(|(name, value)| {
                let parts = filter::parse_template(value).ok()??;
                parts
                    .iter()
                    .any(|(capture, _)| *capture)
                    .then(|| (name.clone(), parts))
            })
            .collect();
        if matches!(content, Some(ir::Content::Json | ir::Content::Xml)) {
            let filter = m.filter.as_ref().map(|f| f.value.as_str());
            let value = m.value.as_ref().map(|v| v.value.as_str());
            let planned = if content == Some(ir::Content::Json) {
                crate::json::plan(filter, value, &dynamic).map(|_| ())
            } else {
                crate::xml::plan(filter, value, &dynamic).map(|_| ())
            };
            if let Err(e) = planned {
                let pos = match (&m.value, &m.filter) {
                    (Some(v), _) if e.contains("value path") => v.pos,
                    (_, Some(f)) if e.contains("filter") => f.pos,
                    _ => m.labels.first().map_or(m.id.pos, |(n, _)| n.pos),
                };
                self.d.error(pos, e);
                return false;
            }
        } else if let Some(v) = &m.value {
            self.d.error_help(
                v.pos,
                "`value` applies to `content_type: json` and `xml`",
                "in text filters the value is the capture named `value` or the only unnamed capture",
            );
            return false;
        }
        match &m.filter {
            _ if matches!(content, Some(ir::Content::Json | ir::Content::Xml)) => {}
            Some(f) => {
                if let Err(e) = filter::plan(&f.value, &dynamic, kind != Some(Kind::Info)) {
                    self.d.error(f.pos, e);
                    return false;
                }
            }
            None => {
                if let Some((label, _)) = dynamic.first() {
                    let pos = m
                        .labels
                        .iter()
                        .find(|(n, _)| n.value == *label)
                        .map_or(m.id.pos, |(_, v)| v.pos);
                    self.d.error_help(
                        pos,
                        format!(
                            "label `{label}` refers to a capture but metric `{}` has no `filter`",
                            m.id.value
                        ),
                        "add a regex `filter` with that named capture group",
                    );
                    return false;
                }
            }
        }
        if match_all && dynamic.is_empty() {
            let pos = m.match_mode.as_ref().map_or(m.id.pos, |p| p.pos);
            self.d.error_help(
                pos,
                format!(
                    "`match: all` on metric `{}` would give every match the same labels",
                    m.id.value
                ),
                "add a label taken from a capture, such as `labels: {name: $name}`",
            );
            return false;
        }
        true
    }

    fn check_label_name(&mut self, name: &Sp<String>) -> bool {
        match names::check_label_name(&name.value) {
            Ok(()) => true,
            Err(e) => {
                self.d.error(name.pos, e);
                false
            }
        }
    }

    /// Ids become Rust identifiers and label values: letters, digits, `_`
    /// and `-`, starting with a letter, and distinct after conversion.
    fn check_id(&mut self, id: &Sp<String>, what: &str, scope: &str) {
        let valid = id
            .value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && id
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            self.d.error_help(
                id.pos,
                format!("invalid {what} id `{}`", id.value),
                "ids start with a letter and use letters, digits, `_` and `-`",
            );
            return;
        }
        let key = format!("{scope}/{}", crate::ident::snake(&id.value));
        if let Some((first, pos)) = self.idents.get(&key)
            && *first != id.value
        {
            self.d.error_help(
                id.pos,
                format!(
                    "{what} id `{}` clashes with `{first}` (line {}, column {})",
                    id.value, pos.line, pos.column
                ),
                "ids that differ only in `-`/`_` or case name the same generated item",
            );
            return;
        }
        self.idents.insert(key, (id.value.clone(), id.pos));
    }
}

struct ServiceContext<'a> {
    id: &'a str,
    prefix: String,
    period: Duration,
    labels: Vec<(Sp<String>, Sp<String>)>,
    exec: context::Context,
}

/// Whether `argv` is `sh -c SCRIPT …` (or bash, dash, …) with a parameter
/// inside SCRIPT, where a value would be read as shell code. As `$1` after
/// the script, a value stays data.
fn shell_script_uses(argv: &[String], parameters: &[ir::Parameter]) -> bool {
    const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "busybox"];
    let program = argv[0].rsplit('/').next().unwrap_or_default();
    if !SHELLS.contains(&program) {
        return false;
    }
    argv.iter()
        .position(|a| a == "-c" || (a.starts_with('-') && !a.starts_with("--") && a.contains('c')))
        .and_then(|i| argv.get(i + 1))
        .is_some_and(|script| !context::referenced(script, parameters).is_empty())
}
