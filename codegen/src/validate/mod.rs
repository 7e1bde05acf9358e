//! Every semantic rule of the spec: [`spec::Spec`] in, [`ir::Model`] out.
//!
//! Rules run to the end even after a problem, so one build shows all of
//! them; each diagnostic points at the value at fault.
//!
//! One file per subject, each an `impl Validator` block: services and ids
//! here, groups and their schedule in `group`, sources in `sources`, HTTP
//! requests and credentials in `http`, where a per-request service's
//! requests may point in `targets`, metrics and filters in `metrics`,
//! label sets in `labels`, re-import entries in `reimport`.

mod group;
mod http;
mod instruments;
mod labels;
mod metrics;
mod reimport;
mod sources;
mod targets;

use std::collections::HashMap;
use std::time::Duration;

use crate::diagnostic::{Diagnostics, Pos, one_of};
use crate::duration::format as dur;
use crate::names::{self, Kind};
use crate::spec::{self, SOURCE_TYPES, SourceText, Sp};
use crate::{builtin, command, context, filter, imports, ir, samples};

/// The global tick when `exporter.collection_frequency` is not set.
pub const DEFAULT_FREQUENCY: Duration = Duration::from_secs(15);
/// The read timeout when none is set (capped at the group's period, as
/// Prometheus caps `scrape_timeout` at `scrape_interval`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest content a source may return when `max_bytes` is not set.
pub const DEFAULT_MAX_BYTES: u64 = 4 << 20;

use pme_content::spec::keys::{CONTENT_TYPES, MATCH_MODES};

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
        instances: HashMap::new(),
        outputs: imports::Outputs::default(),
        idents: HashMap::new(),
        sources: Vec::new(),
        used_parameters: Vec::new(),
        target_used: false,
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

/// The labels that tell one collector instance's series from another's.
type InstanceLabels = Vec<(String, String)>;

struct Validator<'d> {
    d: &'d mut Diagnostics,
    tick: Duration,
    default_timeout: Option<Sp<Duration>>,
    default_max_bytes: u64,
    /// Family name → where it was first declared.
    families: HashMap<String, Pos>,
    /// Collector type → its instances so far: their labels (sorted), where
    /// each is.
    instances: HashMap<String, Vec<(InstanceLabels, Pos)>>,
    /// Where imports put families, to catch two groups serving one name.
    outputs: imports::Outputs,
    /// Rust identifier → the id that produced it (ids must stay distinct after conversion).
    idents: HashMap<String, (String, Pos)>,
    sources: Vec<ir::Source>,
    /// Parameters the current service's sources use, and where.
    used_parameters: Vec<(String, ir::Fills)>,
    /// Whether an HTTP source of the current service starts with `{target}`.
    target_used: bool,
}

impl Validator<'_> {
    fn service(&mut self, s: &spec::Service) -> ir::Service {
        self.check_id(&s.id, "service", "services");
        let period = self.service_period(s);
        let prefix = self.service_prefix(s);
        let labels = self.service_labels(s);
        let mut exec = context::check(s, self.d);
        exec.targets = self.targets(s);
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
            .filter_map(|g| {
                if enabled(g) {
                    return self.group(g, &context);
                }
                // Checked like any group, but nothing of it reaches the
                // plan: no source of its own, no longer shared timeout.
                let sources = self.sources.clone();
                let _ = self.group(g, &context);
                self.sources = sources;
                None
            })
            .collect();
        let mut enums = Vec::new();
        let instruments = self.instruments(s, &context, &mut enums);
        let has_command = groups
            .iter()
            .any(|g| matches!(self.sources[g.source].kind, ir::SourceKind::Command { .. }));
        context::check_used(s, has_command, self.d);
        let used = std::mem::take(&mut self.used_parameters);
        context::check_parameters_used(s, &context.exec.parameters, &used, self.d);
        self.check_targets_used(s, &context.exec.targets);
        let parameters = context
            .exec
            .parameters
            .into_iter()
            .map(|p| ir::Parameter {
                fills: used
                    .iter()
                    .filter(|(name, _)| *name == p.name)
                    .map(|(_, fills)| *fills)
                    .max()
                    .unwrap_or(p.fills),
                ..p
            })
            .collect();
        ir::Service {
            id: s.id.value.clone(),
            name: s
                .name
                .as_ref()
                .map_or_else(|| s.id.value.clone(), |n| n.value.clone()),
            line: s.id.pos.line,
            groups,
            parameters,
            targets: context.exec.targets,
            instruments,
            enums,
        }
    }

    /// The service's period: at least the global tick.
    fn service_period(&mut self, s: &spec::Service) -> Duration {
        match &s.collection_frequency {
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
        }
    }

    /// `metric_prefix`, when it can start a metric name.
    fn service_prefix(&mut self, s: &spec::Service) -> String {
        let Some(p) = &s.metric_prefix else {
            return String::new();
        };
        match names::check_metric_name(&p.value) {
            Ok(()) => p.value.clone(),
            Err(e) => {
                self.d.error(p.pos, format!("metric_prefix: {e}"));
                String::new()
            }
        }
    }

    /// The service's constant labels; one that refers to a capture is refused.
    fn service_labels(&mut self, s: &spec::Service) -> Vec<(Sp<String>, Sp<String>)> {
        s.labels
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
            .collect()
    }

    /// Records `name` as a family declared at `pos`; false, with the
    /// first declaration's place, when another metric or import has it.
    fn claim(&mut self, name: &str, pos: Pos, help: &str) -> bool {
        if let Some(first) = self.families.get(name) {
            self.d.error_help(
                pos,
                format!(
                    "duplicate metric family `{name}` (first defined at line {}, column {})",
                    first.line, first.column
                ),
                help,
            );
            return false;
        }
        self.families.insert(name.to_owned(), pos);
        true
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

/// Whether a group is built into the binary: `enabled: false` keeps it in
/// the spec, checked like any other, but out of the plan.
fn enabled(g: &spec::Group) -> bool {
    g.enabled.as_ref().is_none_or(|e| e.value)
}

struct ServiceContext<'a> {
    id: &'a str,
    prefix: String,
    period: Duration,
    labels: Vec<(Sp<String>, Sp<String>)>,
    exec: context::Context,
}

impl ServiceContext<'_> {
    /// `base` with the service's `metric_prefix` before it.
    fn prefixed(&self, base: &str) -> String {
        match self.prefix.as_str() {
            "" => base.to_owned(),
            p if p.ends_with('_') => format!("{p}{base}"),
            p => format!("{p}_{base}"),
        }
    }
}
