//! Rules of `instruments:`: names and HELP as for collected metrics, each
//! label closed (a list of values, which becomes a Rust enum) or free
//! text under `max_series`, histogram buckets that increase.

use super::{ServiceContext, Validator};
use crate::diagnostic::one_of;
use crate::ir;
use crate::names::{self, InstrumentType};
use crate::spec::{self, LabelValues, Sp};

/// The most series a closed label set may expand to: every combination
/// is exposed from the start.
pub(crate) const MAX_CLOSED_SERIES: usize = 10_000;
/// Closed label sets index an array by a tuple of at most this many enums.
const MAX_CLOSED_LABELS: usize = 4;

impl Validator<'_> {
    pub(super) fn instruments(
        &mut self,
        s: &spec::Service,
        service: &ServiceContext<'_>,
        enums: &mut Vec<ir::LabelEnum>,
    ) -> Vec<ir::Instrument> {
        let instruments: Vec<ir::Instrument> = s
            .instruments
            .iter()
            .filter_map(|i| self.instrument(i, service, enums))
            .collect();
        if !instruments.is_empty() {
            self.check_type_names(s, enums);
        }
        instruments
    }

    /// Groups become structs in the service's module, beside the
    /// instruments' `Instruments` struct and label enums: the names must
    /// differ.
    fn check_type_names(&mut self, s: &spec::Service, enums: &[ir::LabelEnum]) {
        let taken: Vec<(String, String)> = std::iter::once((
            "Instruments".to_owned(),
            "the instruments' struct".to_owned(),
        ))
        .chain(enums.iter().map(|e| {
            (
                crate::ident::type_name(&e.label).to_string(),
                format!("the enum of label `{}`", e.label),
            )
        }))
        .collect();
        for g in &s.groups {
            let name = crate::ident::type_name(&g.id.value).to_string();
            if let Some((_, what)) = taken.iter().find(|(t, _)| *t == name) {
                self.d.error_help(
                    g.id.pos,
                    format!(
                        "group `{}` and {what} both become the Rust type `{name}` in module `{}`",
                        g.id.value,
                        crate::ident::snake(&s.id.value)
                    ),
                    "rename the group",
                );
            }
        }
    }

    fn instrument(
        &mut self,
        i: &spec::Instrument,
        service: &ServiceContext<'_>,
        enums: &mut Vec<ir::LabelEnum>,
    ) -> Option<ir::Instrument> {
        self.check_id(&i.id, "instrument", &format!("instruments/{}", service.id));
        let kind = self.instrument_kind(i);
        let base = i.name.as_ref().unwrap_or(&i.id);
        let name = service.prefixed(&base.value);
        let help = match &i.description {
            Some(d) => d.value.clone(),
            None => {
                self.d.error_help(
                    i.id.pos,
                    format!("instrument `{}` has no `description`", i.id.value),
                    "the description is the family's HELP text",
                );
                String::new()
            }
        };
        let mut ok = kind.is_some() && i.description.is_some();
        if let Err(e) = names::check_metric_name(&name) {
            self.d.error(base.pos, e);
            ok = false;
        } else if let Some(kind) = kind
            && let Err(e) = names::check_instrument_suffix(&name, kind)
        {
            self.d.error(base.pos, e);
            ok = false;
        }
        ok &= self.claim(
            &name,
            base.pos,
            "every family name, collected or instrument, is unique",
        );
        let labels = self.instrument_labels(i, kind, enums);
        ok &= labels.is_some();
        if let Some(labels) = &labels
            && labels.iter().all(|l| l.closed.is_some())
        {
            let series: usize = labels
                .iter()
                .filter_map(|l| l.closed)
                .map(|e| enums[e].values.len())
                .product();
            if series > MAX_CLOSED_SERIES {
                self.d.error_help(
                    i.id.pos,
                    format!("instrument `{}` has {series} combinations of label values, more than {MAX_CLOSED_SERIES}", i.id.value),
                    "every combination is exposed from the start; declare fewer values, or make a label `text` with `max_series`",
                );
                ok = false;
            }
        }
        let buckets = self.buckets(i, kind);
        ok &= buckets.is_ok();
        let max_series = self.max_series(i, labels.as_deref().unwrap_or(&[]));
        ok &= max_series.is_ok();
        if !ok {
            return None;
        }
        Some(ir::Instrument {
            id: i.id.value.clone(),
            line: i.id.pos.line,
            name,
            kind: kind?,
            help,
            constant_labels: service
                .labels
                .iter()
                .map(|(n, v)| (n.value.clone(), v.value.replace("$$", "$")))
                .collect(),
            labels: labels?,
            max_series: max_series.ok()?,
            buckets: buckets.ok()?,
        })
    }

    fn instrument_kind(&mut self, i: &spec::Instrument) -> Option<InstrumentType> {
        let Some(k) = &i.kind else {
            self.d.error_help(
                i.id.pos,
                format!("instrument `{}` has no `type`", i.id.value),
                one_of("", InstrumentType::NAMES),
            );
            return None;
        };
        let kind = InstrumentType::from_keyword(&k.value);
        if kind.is_none() {
            self.d.error_help(
                k.pos,
                format!("unknown instrument type `{}`", k.value),
                one_of(&k.value, InstrumentType::NAMES),
            );
        }
        kind
    }

    /// The labels, each closed (its enum recorded in `enums`, shared by
    /// every instrument of the service that declares the same label) or
    /// free text.
    fn instrument_labels(
        &mut self,
        i: &spec::Instrument,
        kind: Option<InstrumentType>,
        enums: &mut Vec<ir::LabelEnum>,
    ) -> Option<Vec<ir::InstrumentLabel>> {
        let mut out = Vec::new();
        let mut ok = true;
        for (name, values) in &i.labels {
            if !self.check_label_name(name) {
                ok = false;
                continue;
            }
            if kind == Some(InstrumentType::Histogram) && name.value == "le" {
                self.d.error(
                    name.pos,
                    "label `le` is the histogram's bucket bound; name the label otherwise",
                );
                ok = false;
                continue;
            }
            match values {
                LabelValues::Text => out.push(ir::InstrumentLabel {
                    name: name.value.clone(),
                    closed: None,
                }),
                LabelValues::Closed(pos, values) => {
                    match self.label_enum(name, *pos, values, enums) {
                        Some(e) => out.push(ir::InstrumentLabel {
                            name: name.value.clone(),
                            closed: Some(e),
                        }),
                        None => ok = false,
                    }
                }
            }
        }
        let closed = out.iter().filter(|l| l.closed.is_some()).count();
        if ok && closed == out.len() && closed > MAX_CLOSED_LABELS {
            self.d.error_help(
                i.id.pos,
                format!("instrument `{}` has {closed} labels with declared values; at most {MAX_CLOSED_LABELS} are supported", i.id.value),
                "declare fewer labels, or make one `text` with `max_series`",
            );
            ok = false;
        }
        ok.then_some(out)
    }

    /// The enum of a closed label: its values checked, and the same set
    /// wherever the service declares this label.
    fn label_enum(
        &mut self,
        name: &Sp<String>,
        pos: crate::diagnostic::Pos,
        values: &[Sp<String>],
        enums: &mut Vec<ir::LabelEnum>,
    ) -> Option<usize> {
        if values.is_empty() {
            self.d.error_help(
                pos,
                format!("label `{}` declares no values", name.value),
                "list its values, or write `text` for free text",
            );
            return None;
        }
        let mut variants: Vec<(String, String)> = Vec::new();
        for v in values {
            if v.value.is_empty() {
                self.d.error(
                    v.pos,
                    "an empty label value is the same as no label in Prometheus",
                );
                return None;
            }
            let variant = crate::ident::variant(&v.value);
            let Some(variant) = variant else {
                self.d.error_help(
                    v.pos,
                    format!("label value `{}` cannot name a Rust enum variant", v.value),
                    "use letters or digits in it (`5xx` becomes `V5xx`, `gpt-4o` becomes `Gpt4o`)",
                );
                return None;
            };
            if let Some((first, _)) = variants.iter().find(|(_, var)| *var == variant) {
                self.d.error_help(
                    v.pos,
                    format!(
                        "label value `{}` becomes the same Rust variant `{variant}` as `{first}`",
                        v.value
                    ),
                    "values that differ only in case or punctuation name one variant; keep one",
                );
                return None;
            }
            variants.push((v.value.clone(), variant));
        }
        let same_label = enums.iter().position(|e| e.label == name.value);
        match same_label {
            Some(i) if enums[i].values == variants => Some(i),
            Some(i) => {
                self.d.error_help(
                    pos,
                    format!("label `{}` declares other values than at line {}", name.value, enums[i].line),
                    "a label of one service has one set of values (one Rust enum); list the same values, or name the label differently",
                );
                None
            }
            None => {
                enums.push(ir::LabelEnum {
                    label: name.value.clone(),
                    line: pos.line,
                    values: variants,
                });
                Some(enums.len() - 1)
            }
        }
    }

    fn buckets(
        &mut self,
        i: &spec::Instrument,
        kind: Option<InstrumentType>,
    ) -> Result<Option<Vec<f64>>, ()> {
        let Some((pos, bounds)) = &i.buckets else {
            return Ok(None);
        };
        if kind.is_some_and(|k| k != InstrumentType::Histogram) {
            self.d.error(*pos, "`buckets` applies to histograms");
            return Err(());
        }
        let values: Vec<f64> = bounds.iter().map(|b| b.value).collect();
        match names::check_buckets(&values) {
            Ok(()) => Ok(Some(values)),
            Err(e) => {
                self.d.error(*pos, e);
                Err(())
            }
        }
    }

    /// `max_series`: required with a free-text label, refused without one.
    fn max_series(
        &mut self,
        i: &spec::Instrument,
        labels: &[ir::InstrumentLabel],
    ) -> Result<Option<u64>, ()> {
        let free = labels.iter().find(|l| l.closed.is_none());
        match (&i.max_series, free) {
            (Some(m), Some(_)) => Ok(Some(m.value)),
            (None, Some(l)) => {
                self.d.error_help(
                    i.id.pos,
                    format!("instrument `{}` has the free-text label `{}` but no `max_series`", i.id.value, l.name),
                    "free text could create a series per value; set `max_series:` to the most series you expect (new label sets past it are refused and counted)",
                );
                Err(())
            }
            (Some(m), None) => {
                self.d.error_help(
                    m.pos,
                    "`max_series` applies to instruments with a `text` label",
                    "every combination of declared values is exposed from the start; remove `max_series`",
                );
                Err(())
            }
            (None, None) => Ok(None),
        }
    }
}
