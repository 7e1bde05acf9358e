#[derive(Debug, Default, pme::MetricGroup)]
#[group(content = "json")]
struct Queues {
    #[metric(
        name = "queue_present",
        help = "One series per queue.",
        filter = "$.queues[*]",
        value = "1",
        scale = "1000",
        match_all,
        labels("queue" = "${@.name}")
    )]
    present: pme::Gauge<1>,
}

fn main() {}
