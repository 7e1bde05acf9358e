//! Arbitrary datagrams through the statsd listener's path: every line is
//! parsed and applied to the instruments of `specs/statsd.yaml`, or
//! refused; nothing may panic, and the exposition stays valid text.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod spec {
    pme::include_spec!("specs/statsd.yaml");
}

fuzz_target!(|data: &[u8]| {
    pme::__private::statsd_datagram(data, &spec::PLAN);
    let mut out = Vec::new();
    for i in spec::PLAN.instruments {
        (i.encode)(&mut out, pme::Format::Prometheus);
    }
    assert!(std::str::from_utf8(&out).is_ok());
});
