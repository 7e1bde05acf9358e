#[derive(Clone, Copy, Debug, pme::LabelValue)]
enum Status {
    Ok,
    #[label("ok")]
    Fine,
}

fn main() {}
