//! One metric: name and type rules, value maps, samples, and its filter
//! in the group's content type.

use super::*;

impl Validator<'_> {
    pub(super) fn metric(
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
        self.refuse_import_keys(m);
        let (name, mut ok) = self.family_name(m, service);
        let kind = self.kind(m);
        if let Some(kind) = kind
            && ok
        {
            ok = self.check_name_against_kind(m, &name, kind);
        }
        ok = ok && self.claim_family(m, &name);
        let help = self.help(m);
        let labels = self.labels(m, service);
        let match_all = self.match_mode(m);
        ok &= help.is_some() & match_all.is_some();
        ok &= self.check_value_options(m, kind);
        let match_all = match_all.unwrap_or(false);
        ok &= self.check_filter(m, &labels, kind, match_all, content);
        self.check_max_series(m, &name, match_all);
        let labels = labels?;
        Some(ir::Metric {
            id: m.id.value.clone(),
            line: m.id.pos.line,
            name,
            kind: kind?,
            help: help.unwrap_or_default(),
            labels,
            filter: m.filter.as_ref().map(|f| f.value.clone()),
            value: m.value.as_ref().map(|v| v.value.clone()),
            match_all,
            max_series: m.max_series.as_ref().map(|n| n.value),
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

    /// `max_series` bounds `match: all`, which needs it: one series per
    /// match is as many series as the source has.
    fn check_max_series(&mut self, m: &spec::Metric, name: &str, match_all: bool) {
        match (&m.max_series, match_all) {
            (Some(n), false) => self.d.error_help(
                n.pos,
                "`max_series` applies to `match: all`",
                "a metric without `match: all` yields one series per reading",
            ),
            (None, true) => self.d.warn(
                m.id.pos,
                format!(
                    "`{name}` (`match: all`) yields as many series as the source has matches; help: declare `max_series` (the first that many are kept, the rest dropped and counted)"
                ),
            ),
            _ => {}
        }
    }

    /// `select`, `prefix`, `honor_labels` and `metric_relabel_configs`
    /// belong to re-imports, not to a metric.
    fn refuse_import_keys(&mut self, m: &spec::Metric) {
        let spots = [
            ("select", m.select.as_ref().map(|s| s.pos)),
            ("prefix", m.prefix.as_ref().map(|s| s.pos)),
            ("honor_labels", m.honor_labels.as_ref().map(|s| s.pos)),
            (
                "metric_relabel_configs",
                m.relabel.as_ref().map(|(pos, _)| *pos),
            ),
        ];
        for (key, spot) in spots {
            if let Some(pos) = spot {
                self.d.error_help(
                    pos,
                    format!("`{key}` applies to `content_type: prometheus`"),
                    "it applies to families re-imported from a Prometheus exposition",
                );
            }
        }
    }

    /// The family name (the service's prefix, then `name` or the id), and
    /// whether it is a valid metric name.
    fn family_name(&mut self, m: &spec::Metric, service: &ServiceContext<'_>) -> (String, bool) {
        let base = m.name.as_ref().unwrap_or(&m.id);
        let name = service.prefixed(&base.value);
        match names::check_metric_name(&name) {
            Ok(()) => (name, true),
            Err(e) => {
                self.d.error(base.pos, e);
                (name, false)
            }
        }
    }

    /// The declared `type`.
    fn kind(&mut self, m: &spec::Metric) -> Option<Kind> {
        let Some(k) = &m.kind else {
            self.d.error_help(
                m.id.pos,
                format!("metric `{}` has no `type`", m.id.value),
                one_of("", Kind::NAMES),
            );
            return None;
        };
        let kind = Kind::from_keyword(&k.value);
        if kind.is_none() {
            let help = if matches!(k.value.as_str(), "histogram" | "summary") {
                "a collected histogram or summary comes from re-imported Prometheus text, not from a filter; one the application observes is an `instruments:` entry"
                    .to_owned()
            } else {
                one_of(&k.value, Kind::NAMES)
            };
            self.d
                .error_help(k.pos, format!("unknown metric type `{}`", k.value), help);
        }
        kind
    }

    /// The naming rules that depend on the type: suffixes (an error),
    /// advice (a warning), and pme's reserved names.
    fn check_name_against_kind(&mut self, m: &spec::Metric, name: &str, kind: Kind) -> bool {
        let pos = m.name.as_ref().unwrap_or(&m.id).pos;
        let mut ok = true;
        if let Err(e) = names::check_kind_suffix(name, kind) {
            self.d.error(pos, e);
            ok = false;
        }
        if let Some(advice) = names::naming_advice(name, kind) {
            self.d.warn(pos, advice);
        }
        if builtin::is_reserved(name) {
            self.d
                .error(pos, format!("`{name}` is reserved for pme's self-metrics"));
            ok = false;
        }
        ok
    }

    /// Records `name` as this metric's family.
    fn claim_family(&mut self, m: &spec::Metric, name: &str) -> bool {
        let pos = m.name.as_ref().unwrap_or(&m.id).pos;
        self.claim(
            name,
            pos,
            "every family must come from one metric; give one of them another name",
        )
    }

    /// The `description`, which becomes the HELP text.
    fn help(&mut self, m: &spec::Metric) -> Option<String> {
        match &m.description {
            Some(d) if !d.value.trim().is_empty() => Some(d.value.clone()),
            _ => {
                let pos = m.description.as_ref().map_or(m.id.pos, |d| d.pos);
                self.d.error_help(
                    pos,
                    format!("metric `{}` has no `description`", m.id.value),
                    "it becomes the `# HELP` text, which Prometheus tooling expects",
                );
                None
            }
        }
    }

    /// `match: first` (the default) or `all`: whether every match is a series.
    fn match_mode(&mut self, m: &spec::Metric) -> Option<bool> {
        let Some(mode) = &m.match_mode else {
            return Some(false);
        };
        match mode.value.as_str() {
            "first" => Some(false),
            "all" => Some(true),
            other => {
                self.d.error_help(
                    mode.pos,
                    format!("unknown match mode `{other}`"),
                    one_of(other, MATCH_MODES),
                );
                None
            }
        }
    }

    /// `value_map`, `scale` and `value_on_error`: well-formed, and not on an
    /// info metric, whose value is always 1, nor on a constant `value`.
    fn check_value_options(&mut self, m: &spec::Metric, kind: Option<Kind>) -> bool {
        const INFO: &str = "an info metric's value is always 1";
        let info = kind == Some(Kind::Info);
        let mut ok = true;
        if let Some(spec::ValueMapSpec {
            pos,
            written,
            pairs,
        }) = &m.value_map
        {
            // An entry whose number did not read was reported with the spec.
            ok &= pairs.len() == *written;
            if *written == 0 {
                self.d.error_help(
                    *pos,
                    "`value_map` is empty",
                    "map strings to numbers, e.g. `{ok: 1, degraded: 0.5, down: 0}`",
                );
                ok = false;
            } else if info {
                self.d
                    .error_help(*pos, "`value_map` does not apply to info metrics", INFO);
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
            } else if info {
                self.d
                    .error_help(scale.pos, "`scale` does not apply to info metrics", INFO);
                ok = false;
            }
        }
        if let Some(v) = m
            .value
            .as_ref()
            .filter(|v| crate::json::constant(&v.value).is_some())
        {
            let at = m.value_map.as_ref().map(|v| (v.pos, "value_map"));
            if let Some((pos, key)) = at.or(m.scale.as_ref().map(|s| (s.pos, "scale"))) {
                self.d.error_help(
                    pos,
                    format!("`{key}` does not apply to the constant value `{}`", v.value),
                    "a number as `value` is the value of every series: write the value wanted",
                );
                ok = false;
            }
        }
        if let (Some(v), true) = (&m.value_on_error, info) {
            self.d.error_help(
                v.pos,
                "`value_on_error` does not apply to info metrics",
                INFO,
            );
            ok = false;
        }
        ok
    }

    /// The filter compiles, its captures and the labels agree, and `match: all`
    /// cannot produce two series with the same labels.
    pub(super) fn check_filter(
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
        let paths = matches!(content, Some(ir::Content::Json | ir::Content::Xml));
        let ok = if paths {
            self.check_paths(m, content, &dynamic)
        } else {
            self.check_text_filter(m, kind, &dynamic)
        };
        if !ok {
            return false;
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

    /// A JSON or XML metric's filter, value and label paths.
    fn check_paths(
        &mut self,
        m: &spec::Metric,
        content: Option<ir::Content>,
        dynamic: &[(String, Vec<(bool, String)>)],
    ) -> bool {
        let filter = m.filter.as_ref().map(|f| f.value.as_str());
        let value = m.value.as_ref().map(|v| v.value.as_str());
        let planned = if content == Some(ir::Content::Json) {
            crate::json::plan(filter, value, dynamic).map(|_| ())
        } else {
            crate::xml::plan(filter, value, dynamic).map(|_| ())
        };
        let Err(e) = planned else {
            return true;
        };
        let pos = match (&m.value, &m.filter) {
            (Some(v), _) if e.contains("value path") => v.pos,
            (_, Some(f)) if e.contains("filter") => f.pos,
            _ => m.labels.first().map_or(m.id.pos, |(n, _)| n.pos),
        };
        self.d.error(pos, e);
        false
    }

    /// A text metric: no `value` key; its regex compiles and has the
    /// captures its labels name; labels that name captures need a filter.
    fn check_text_filter(
        &mut self,
        m: &spec::Metric,
        kind: Option<Kind>,
        dynamic: &[(String, Vec<(bool, String)>)],
    ) -> bool {
        if let Some(v) = &m.value {
            self.d.error_help(
                v.pos,
                "`value` applies to `content_type: json` and `xml`",
                "in text filters the value is the capture named `value` or the only unnamed capture",
            );
            return false;
        }
        if let Some(f) = &m.filter {
            if let Err(e) = filter::plan(&f.value, dynamic, kind != Some(Kind::Info)) {
                self.d.error(f.pos, e);
                return false;
            }
        } else if let Some((label, _)) = dynamic.first() {
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
        true
    }
}
