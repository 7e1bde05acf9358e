//! A metric group or standalone metric: its source, content type,
//! schedule (period and timeout against the tick and the service), and
//! its metrics.

use super::*;

impl Validator<'_> {
    pub(super) fn group(
        &mut self,
        g: &spec::Group,
        service: &ServiceContext<'_>,
    ) -> Option<ir::Group> {
        let what = if g.standalone {
            "standalone metric"
        } else {
            "metric group"
        };
        self.check_id(&g.id, what, &format!("service {}", service.id));
        let errors_before = self.d.count();
        let (every, timeout) = self.schedule(g, service, what);
        if crate::collector::is_collector(g) {
            return self.collector_group(g, service, every, timeout);
        }
        let content = self.content(g);
        let kind = self.source_kind(g, &service.exec);
        let max_bytes = g
            .max_bytes
            .as_ref()
            .map_or(self.default_max_bytes, |b| b.value);
        let (metrics, imports) = self.metrics_of(g, service, content);
        // A sample is only run when every metric is valid.
        let metrics_ok = metrics.len() + imports.len() == g.metrics.len();
        if !service.exec.targets.is_empty() {
            self.check_target_labels(g, &service.exec.targets, &metrics, &imports);
        }
        let (mut kind, content) = (kind?, content?);
        complete_source(&mut kind, content, service);
        if let ir::SourceKind::Files { labels, .. } = &kind {
            self.check_path_labels(g, labels, &metrics, &imports);
        }
        self.check_placeholders(g, &kind, &service.exec);
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
            sample: g.sample.as_ref().map(|s| s.value.clone()),
        };
        self.check_sample(g, &group, metrics_ok);
        // Known at build time, so checked now (on a group without other errors).
        let clean = metrics_ok && self.d.count() == errors_before;
        if let (Some(SourceText::Text(content)), ir::SourceKind::Static { .. }, true) =
            (&g.source, &self.sources[group.source].kind, clean)
        {
            samples::check_static(&group, content, self.d);
        }
        Some(group)
    }

    /// A file pattern's captures label every series of the group, so no
    /// metric may set a label of the same name.
    fn check_path_labels(
        &mut self,
        g: &spec::Group,
        captures: &[String],
        metrics: &[ir::Metric],
        imports: &[ir::Import],
    ) {
        for (name, line) in clashes(captures, metrics, imports) {
            let pos = g.source.as_ref().map_or(g.id.pos, SourceText::pos);
            self.d.error_help(
                pos,
                format!(
                    "the path capture `{{{name}}}` is also a label of the metric on line {line}"
                ),
                "a capture labels every series of the group; rename one of them",
            );
        }
    }

    /// A target's labels go on every series collected for it, so no
    /// metric may set a label of the same name.
    fn check_target_labels(
        &mut self,
        g: &spec::Group,
        targets: &[ir::Target],
        metrics: &[ir::Metric],
        imports: &[ir::Import],
    ) {
        let names: Vec<String> = targets
            .iter()
            .flat_map(|t| t.labels.iter().map(|(n, _)| n.clone()))
            .collect();
        for (name, line) in clashes(&names, metrics, imports) {
            let target = targets
                .iter()
                .find(|t| t.labels.iter().any(|(n, _)| *n == name))
                .map_or("", |t| t.name.as_str());
            let pos = g
                .metrics
                .iter()
                .flat_map(|m| &m.labels)
                .find(|(n, _)| n.value == name)
                .map_or(g.id.pos, |(n, _)| n.pos);
            self.d.error_help(
                pos,
                format!(
                    "label `{name}` of the metric on line {line} is also a label of target `{target}`"
                ),
                "a target's labels go on every series collected for it; rename one of them",
            );
        }
    }

    /// The group's period in ticks and its read timeout. Frequencies go
    /// global ≤ service ≤ group; a period rounds up to a multiple of the
    /// tick; the timeout must end before the next read is due.
    fn schedule(
        &mut self,
        g: &spec::Group,
        service: &ServiceContext<'_>,
        what: &str,
    ) -> (u32, Duration) {
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
        (every, timeout)
    }

    /// The group's metrics: re-imports for `content_type: prometheus`,
    /// extracted metrics otherwise; only the valid ones.
    fn metrics_of(
        &mut self,
        g: &spec::Group,
        service: &ServiceContext<'_>,
        content: Option<ir::Content>,
    ) -> (Vec<ir::Metric>, Vec<ir::Import>) {
        if content != Some(ir::Content::Prometheus) {
            let metrics = g
                .metrics
                .iter()
                .filter_map(|m| self.metric(m, service, g, content))
                .collect();
            return (metrics, Vec::new());
        }
        let group_key = format!("{}.{}", service.id, g.id.value);
        let imports = g
            .metrics
            .iter()
            .filter_map(|m| {
                self.check_id(&m.id, "metric", &format!("group {group_key}"));
                self.import(m, &group_key, service)
            })
            .collect();
        (Vec::new(), imports)
    }

    /// `sample` and `expect` come together, and the sample yields exactly
    /// the expected series (run only when every metric is valid).
    fn check_sample(&mut self, g: &spec::Group, group: &ir::Group, metrics_ok: bool) {
        match (&g.sample, &g.expect) {
            (Some(sample), Some((pos, lines))) if metrics_ok => {
                samples::check(group, sample, lines, *pos, self.d)
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
    }

    pub(super) fn content(&mut self, g: &spec::Group) -> Option<ir::Content> {
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
}

/// What a source takes from its group and service: an HTTP re-import asks
/// for the text format unless the spec sets `Accept`; a command gets the
/// service's environment and working directory.
fn complete_source(kind: &mut ir::SourceKind, content: ir::Content, service: &ServiceContext<'_>) {
    if let (ir::SourceKind::Http(http), ir::Content::Prometheus) = (&mut *kind, content)
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
    } = kind
    {
        environment.clone_from(&service.exec.environment);
        working_directory.clone_from(&service.exec.working_directory);
    }
}

/// Each label of `added` that a metric or import sets itself, with the
/// line of the first one.
fn clashes(added: &[String], metrics: &[ir::Metric], imports: &[ir::Import]) -> Vec<(String, u32)> {
    let mut found: Vec<(String, u32)> = Vec::new();
    let own = metrics
        .iter()
        .map(|m| (m.line, &m.labels))
        .chain(imports.iter().map(|i| (i.line, &i.labels)));
    for (line, labels) in own {
        for (name, _) in labels.iter().filter(|(n, _)| added.contains(n)) {
            if !found.iter().any(|(n, _)| n == name) {
                found.push((name.clone(), line));
            }
        }
    }
    found
}
