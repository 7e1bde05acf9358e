//! Arbitrary bytes through a generated JSON collector: extraction and
//! encoding must never panic, whatever the reading holds.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod spec {
    pme::include_spec!("specs/json.yaml");
}

fuzz_target!(|data: &[u8]| {
    let mut group = spec::PLAN.groups[0]
        .new_extractor()
        .expect("the fuzz spec declares its metrics");
    let _ = group.extract(data);
    let mut out = Vec::new();
    group.encode(&mut out, pme::Format::Prometheus);
    // Whatever was extracted, the exposition is text.
    assert!(std::str::from_utf8(&out).is_ok());
});
