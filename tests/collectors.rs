//! Collectors that read for themselves (`source_type: collector`), from
//! another crate (`pme-example-collectors`) and from this one: instances
//! of one type share its families, told apart by the spec's `labels:`;
//! async and blocking collectors are bounded by the group's timeout; a
//! label clash, a missing file, a refused option and a family served
//! twice are each reported, never a crash.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use pme::__private::plan::{Collector, GroupPlan, InstancePlan, Plan};
use pme::Gauge;
use pme::collect::{Collect, CollectAsync, Context, ExtractErrors, FromOptions, Instance};
use pme_example_collectors::{TcpConnect, TcpConnectOptions};

use crate::embedded::{Served, collector_families, collector_option, collectors};
use crate::util::{assert_valid_exposition, get, last_error, request_with, value_of, wait_for};

/// `ms` of sleep on pme's runtime, then `test_sleepy_done 1`.
#[derive(Debug, pme::MetricGroup)]
pub struct Sleepy {
    #[metric(name = "test_sleepy_done", help = "1 once the sleep ended.")]
    done: Gauge,
    sleep: Duration,
}

/// `options:` of [`Sleepy`] and [`Stuck`].
#[derive(Debug, Default)]
pub struct SleepOptions {
    /// How long a collection takes.
    pub ms: u64,
}

impl FromOptions for Sleepy {
    type Options = SleepOptions;

    fn from_options(options: SleepOptions) -> Result<Sleepy, String> {
        Ok(Sleepy {
            done: Gauge::default(),
            sleep: Duration::from_millis(options.ms),
        })
    }
}

impl CollectAsync for Sleepy {
    async fn collect(&mut self, _: &Context) -> Result<(), ExtractErrors> {
        tokio::time::sleep(self.sleep).await;
        self.done.set([], 1.0);
        Ok(())
    }
}

/// `ms` of blocking sleep, then `test_stuck_done 1`.
#[derive(Debug, pme::MetricGroup)]
pub struct Stuck {
    #[metric(name = "test_stuck_done", help = "1 once the sleep ended.")]
    done: Gauge,
    sleep: Duration,
}

impl FromOptions for Stuck {
    type Options = SleepOptions;

    fn from_options(options: SleepOptions) -> Result<Stuck, String> {
        Ok(Stuck {
            done: Gauge::default(),
            sleep: Duration::from_millis(options.ms),
        })
    }
}

impl Collect for Stuck {
    fn collect(&mut self, _: &Context) -> Result<(), ExtractErrors> {
        std::thread::sleep(self.sleep);
        self.done.set([], 1.0);
        Ok(())
    }
}

/// Sets a `namespace` label of its own, which the spec gives it too.
#[derive(Debug, Default, pme::MetricGroup)]
#[group(labels("namespace"))]
pub struct Labelled {
    #[metric(name = "test_labelled", help = "A series with its own namespace.")]
    value: Gauge<1>,
}

impl FromOptions for Labelled {
    type Options = ();

    fn from_options((): ()) -> Result<Labelled, String> {
        Ok(Labelled::default())
    }
}

impl Collect for Labelled {
    fn collect(&mut self, _: &Context) -> Result<(), ExtractErrors> {
        self.value.set(["mine"], 1.0);
        Ok(())
    }
}

/// Serves `Conntrack`'s family under another type.
#[derive(Debug, Default, pme::MetricGroup)]
pub struct Imposter {
    #[metric(name = "node_nf_conntrack_entries", help = "Not conntrack's.")]
    entries: Gauge,
}

impl FromOptions for Imposter {
    type Options = ();

    fn from_options((): ()) -> Result<Imposter, String> {
        Ok(Imposter::default())
    }
}

impl Collect for Imposter {
    fn collect(&mut self, _: &Context) -> Result<(), ExtractErrors> {
        Ok(())
    }
}

/// The address of the listener [`probe_listener`] connects to, owned by
/// the one test that sets it.
static LISTENER: OnceLock<SocketAddr> = OnceLock::new();

/// The spec's `probes/listener` instance, pointed at [`LISTENER`].
fn probe_listener() -> Result<Instance, String> {
    let options = TcpConnectOptions {
        address: LISTENER.get().expect("listener").to_string(),
        timeout_ms: 2000,
    };
    Ok(Instance::nonblocking(TcpConnect::from_options(options)?))
}

/// `plan` with the instance of group `group` made by `new` instead: a spec
/// compiles its options in, so this is how a test gives a collector a
/// port it owns.
fn with_instance(
    plan: &'static Plan,
    group: &str,
    new: fn() -> Result<Instance, String>,
) -> &'static Plan {
    let groups: Vec<GroupPlan> = plan
        .groups
        .iter()
        .map(|g| GroupPlan {
            collector: match &g.collector {
                Collector::Instance(i) => Collector::Instance(InstancePlan {
                    collector: i.collector,
                    new: if g.group == group { new } else { i.new },
                    labels: i.labels,
                }),
                Collector::Extract(new) => Collector::Extract(*new),
            },
            ..*g
        })
        .collect();
    Box::leak(Box::new(Plan {
        groups: groups.leak(),
        ..*plan
    }))
}

fn procfs_flag() -> String {
    let procfs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/collectors/proc");
    format!("--path.procfs={}", procfs.display())
}

#[test]
fn instances_share_families_and_failures_stay_in_their_group() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    LISTENER.set(listener.local_addr().unwrap()).unwrap();
    let plan = with_instance(&collectors::PLAN, "listener", probe_listener);
    let served = Served::start_with(plan, &[&procfs_flag()]);
    let health = wait_for(Duration::from_secs(20), "every group reported", || {
        let health: serde_json::Value =
            serde_json::from_slice(&get(served.health, "/health").body).ok()?;
        let reported = [
            "missing",
            "async_late",
            "blocking_late",
            "sets_its_own_label",
        ]
        .iter()
        .all(|g| !last_error(&health, g).is_empty());
        reported.then_some(health)
    });
    let body = get(served.metrics, "/metrics").text();
    let openmetrics = request_with(
        served.metrics,
        "GET",
        "/metrics",
        &[("Accept", "application/openmetrics-text; version=1.0.0")],
    )
    .text();
    drop(served);
    assert_valid_exposition(body.as_bytes());
    // The strict OpenMetrics parser reads the merged families too, with
    // the same conntrack samples as the text format.
    let cases = vec![
        ("text".to_owned(), "text", body.clone()),
        ("om".to_owned(), "openmetrics", openmetrics),
    ];
    if let Some(read) = crate::exposition_suites::python_reads(&cases) {
        let conntrack = |id: &str| -> Vec<String> {
            let result = &read[id];
            assert!(result.get("error").is_none(), "{id}: {result}");
            let mut samples: Vec<String> = result["families"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|f| f["samples"].as_array().unwrap().clone())
                .filter(|s| {
                    s["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with("node_nf_"))
                })
                .map(|s| format!("{} {} {}", s["name"], s["labels"], s["value"]))
                .collect();
            samples.sort();
            samples
        };
        assert_eq!(conntrack("text").len(), 4);
        assert_eq!(conntrack("text"), conntrack("om"));
    }

    // Two instances of one type, one family: one header, both series,
    // each with the service's and then its group's labels.
    for family in [
        "node_nf_conntrack_entries",
        "node_nf_conntrack_entries_limit",
    ] {
        let header = format!("# TYPE {family} gauge\n");
        assert_eq!(body.matches(&header).count(), 1, "{family}: {body}");
    }
    let conntrack = [
        (
            r#"node_nf_conntrack_entries{site="lab",namespace="host"}"#,
            123.0,
        ),
        (
            r#"node_nf_conntrack_entries{site="lab",namespace="guest"}"#,
            7.0,
        ),
        (
            r#"node_nf_conntrack_entries_limit{site="lab",namespace="host"}"#,
            262144.0,
        ),
        (
            r#"node_nf_conntrack_entries_limit{site="lab",namespace="guest"}"#,
            65536.0,
        ),
    ];
    for (series, value) in conntrack {
        assert_eq!(value_of(&body, series), Some(value), "{series}: {body}");
    }
    // The disabled group repeats `host`'s labels; it is not in the binary.
    assert_eq!(body.matches(r#"namespace="host"}"#).count(), 2, "{body}");
    assert!(!body.contains("namespace=\"missing\""), "{body}");
    assert!(
        last_error(&health, "missing").contains("missing/netfilter/nf_conntrack_count"),
        "{health}"
    );

    // The async probe reached the listener this test owns.
    assert_eq!(
        value_of(&body, r#"probe_tcp_up{target="listener"}"#),
        Some(1.0),
        "{body}"
    );
    let seconds = value_of(&body, r#"probe_tcp_connect_seconds{target="listener"}"#).unwrap();
    assert!((0.0..2.0).contains(&seconds), "{seconds}");

    // Timeouts: the async collection is cancelled, the blocking one is
    // waited out, and neither holds up the quick one.
    assert_eq!(
        value_of(&body, r#"test_sleepy_done{speed="quick"}"#),
        Some(1.0),
        "{body}"
    );
    assert!(!body.contains(r#"speed="late""#), "{body}");
    assert!(
        last_error(&health, "async_late").contains("timed out after 300ms; cancelled"),
        "{health}"
    );
    assert!(
        last_error(&health, "blocking_late").contains("timed out after 300ms"),
        "{health}"
    );

    // A label the collector sets itself and the spec gives too.
    assert!(!body.contains("test_labelled{"), "{body}");
    assert!(
        last_error(&health, "sets_its_own_label").contains("sets label `namespace` itself"),
        "{health}"
    );

    // A built-in takes group labels like any collector.
    let load = body
        .lines()
        .find(|l| l.starts_with("node_load1{"))
        .unwrap_or_else(|| panic!("{body}"));
    assert!(
        load.starts_with(r#"node_load1{role="test",host_name=""#),
        "{load}"
    );
    assert!(load.ends_with(" 0.5"), "{load}");
}

/// Starts `plan`; the error pme refuses to start with.
fn start_error(plan: &'static Plan) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let options = <pme::Options as clap::Parser>::parse_from([
        "pme",
        "--web.listen-address=127.0.0.1:0",
        "--health.listen-address=127.0.0.1:0",
    ]);
    match runtime.block_on(pme::start(plan, &options)) {
        Ok(running) => {
            runtime.block_on(running.shutdown());
            panic!("pme started");
        }
        Err(e) => e.to_string(),
    }
}

#[test]
fn an_option_the_collector_refuses_stops_pme_naming_the_group() {
    let error = start_error(&collector_option::PLAN);
    assert_eq!(
        error,
        "group `probes/nowhere`: `address` must be an IP address and port, like 127.0.0.1:9100; found `localhost:80`"
    );
}

#[test]
fn a_family_served_by_two_collector_types_stops_pme() {
    let error = start_error(&collector_families::PLAN);
    assert_eq!(
        error,
        "family `node_nf_conntrack_entries` is served by collector `pme_example_collectors::Conntrack` and by collector `crate::collectors::Imposter`; every family must come from one place"
    );
}

#[test]
fn dry_run_makes_each_collector_from_its_options() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (report, ok) = runtime.block_on(pme::__private::dry_run(&collector_option::PLAN));
    assert!(!ok, "{report}");
    assert!(
        report.contains(
            "FAIL source #0 (probes/nowhere): collector `pme_example_collectors::TcpConnect`: `address` must be an IP address and port"
        ),
        "{report}"
    );
    let (report, ok) = runtime.block_on(pme::__private::dry_run(&collectors::PLAN));
    assert!(ok, "{report}");
    assert!(
        report.contains("(netfilter/host): collector `pme_example_collectors::Conntrack` made from its options\n"),
        "{report}"
    );
}
