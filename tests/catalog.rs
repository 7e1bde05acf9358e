//! `pme describe`: the catalog of every family the binary can serve
//! (JSON for tools, Markdown for the committed reference
//! `docs/metrics.md`), checked against what `/metrics` serves.

use crate::util::{assert_generated, pme_stdout};

/// `pme describe`: the catalog as JSON names every family with where it
/// comes from, and `docs/metrics.md` is its Markdown form, current.
#[test]
fn the_catalog_describes_every_family_and_the_reference_is_current() {
    assert_generated("docs/metrics.md", &["describe", "--format", "markdown"]);
    // The build wrote metrics.lock (PME_LOCK=update) and checks it; the
    // binary prints the same text from its catalog.
    assert_generated("metrics.lock", &["describe", "--format", "lock"]);
    let catalog: serde_json::Value =
        serde_json::from_str(&pme_stdout(&["describe", "--format", "json"])).unwrap();
    assert_eq!(catalog["spec"], "metrics.yaml");
    assert_eq!(catalog["spec_sha256"].as_str().unwrap().len(), 64);
    let families = catalog["families"].as_array().unwrap();
    for f in families {
        for key in ["name", "type", "service", "group", "source"] {
            assert!(f[key].is_string(), "{key} in {f}");
        }
        assert!(f["line"].as_u64().unwrap() > 0, "{f}");
    }
    let kernel = families
        .iter()
        .find(|f| f["name"] == "pme_system_kernel_info")
        .expect("the kernel family");
    assert_eq!(kernel["type"], "info");
    let dirty = families
        .iter()
        .find(|f| f["name"] == "pme_system_dirty_bytes")
        .unwrap();
    assert_eq!(dirty["unit"], "bytes");
    assert_eq!(kernel["source"], "command");
    assert_eq!(kernel["period_seconds"], 300.0);
    assert_eq!(kernel["labels"][0]["name"], "release");
    assert!(
        kernel["labels"][0]["values"].is_null(),
        "a captured label is free"
    );
    let load = families
        .iter()
        .find(|f| f["group"] == "load")
        .expect("the load collector");
    assert!(
        load["families"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "node_load1"),
        "{load}"
    );
    // Every family the binary serves at /metrics is in the catalog (the
    // built-ins by their collector's families).
    let once = pme_command_once();
    let named: Vec<&str> = families
        .iter()
        .flat_map(|f| {
            let own = f["name"].as_str().into_iter();
            let collected = f["families"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str());
            own.chain(collected)
        })
        .collect();
    for line in once.lines().filter_map(|l| l.strip_prefix("# TYPE ")) {
        let family = line.split(' ').next().unwrap();
        // A self-metric no spec may declare: its name is reserved.
        if family.starts_with("pme_") && !named.contains(&family) {
            assert!(
                pme_codegen::names::RESERVED_METRIC_NAMES.contains(&family),
                "self-metric {family} is not in RESERVED_METRIC_NAMES"
            );
        }
        let self_metric = family.starts_with("pme_") && !family.starts_with("pme_system_");
        let process = family.starts_with("process_");
        assert!(
            named.contains(&family) || self_metric || process,
            "{family} is served but not in the catalog"
        );
    }
}

fn pme_command_once() -> String {
    pme_stdout(&["--once"])
}
