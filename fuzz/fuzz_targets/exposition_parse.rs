//! Arbitrary bytes through the Prometheus/OpenMetrics parser in both
//! formats and modes: it must accept or reject, never panic. What a lenient
//! parse accepts goes through an import of every family and the text
//! writer, and pme's own output must parse again with the same samples.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pme_content::exposition::relabel::{Action, Rule};
use pme_content::exposition::{Format, Import, parse, route, write_openmetrics, write_text};

static ALL: [Import; 1] = [Import {
    select: r#"{__name__=~".+"}"#,
    compiled: OnceLock::new(),
    rename: None,
    prefix: "",
    labels: &[("job", "fuzz")],
    honor_labels: false,
    // Relabelling runs on every routed sample too, duplicates check included.
    relabel: &[Rule {
        action: Action::LabelMap,
        source_labels: &[],
        separator: ";",
        regex: "(.+)",
        replacement: "r_$1",
        target_label: "",
        compiled: OnceLock::new(),
    }],
    value_on_error: None,
}];

fuzz_target!(|data: &[u8]| {
    for format in [Format::Prometheus, Format::OpenMetrics] {
        let _ = parse(data, format, true);
        let Ok(families) = parse(data, format, false) else {
            continue;
        };
        let mut om = Vec::new();
        write_openmetrics(&mut om, &families);
        let (served, _) = route(families, &ALL, &["pme_source_up"]);
        let samples: usize = served.iter().map(|(_, f)| f.samples.len()).sum();
        let mut text = Vec::new();
        write_text(&mut text, served.iter().map(|(_, family)| family));
        let again = parse(&text, Format::Prometheus, false)
            .unwrap_or_else(|e| panic!("pme's own output does not parse: {e}\n{}", String::from_utf8_lossy(&text)));
        assert_eq!(again.iter().map(|f| f.samples.len()).sum::<usize>(), samples);
    }
});
