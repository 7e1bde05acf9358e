//! Arbitrary bytes through a generated XML collector: extraction and
//! encoding must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod spec {
    pme::include_spec!("specs/xml.yaml");
}

fuzz_target!(|data: &[u8]| {
    let mut group = spec::PLAN.groups[0]
        .new_extractor()
        .expect("the fuzz spec declares its metrics");
    let _ = group.extract(data);
    let mut out = Vec::new();
    group.encode(&mut out, pme::Format::Prometheus);
    assert!(std::str::from_utf8(&out).is_ok());
});
