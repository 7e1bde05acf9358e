//! Label sets: names, templates, and constant labels.

use super::*;

impl Validator<'_> {
    /// Service labels then metric labels; names valid and distinct.
    pub(super) fn labels(
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

    pub(super) fn check_label_name(&mut self, name: &Sp<String>) -> bool {
        match names::check_label_name(&name.value) {
            Ok(()) => true,
            Err(e) => {
                self.d.error(name.pos, e);
                false
            }
        }
    }
}
