//! A label the group already gives every family, given again by a field.

#[derive(Debug, Default, pme::MetricGroup)]
#[group(labels("host"))]
struct Disks {
    #[metric(name = "disk_bytes", help = "Bytes.", labels("host", "disk"))]
    bytes: pme::Gauge<2>,
}

fn main() {}
