//! The built-in host collectors: exact series from fixture trees of an LXC
//! container (cgroup v2 and v1) and a Proxmox host, the same numbers as the
//! real node_exporter on this machine, and a broken procfs reported as an
//! error metric, never a crash.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::util::{
    Daemon, Dir, Exporter, assert_valid_exposition, body_of, get, peer, value_of, wait_for,
};

/// The families whose values come from statfs(2) of the checkout, which
/// the fixtures cannot fix; they are checked against `stat -f` instead.
const STATFS_FAMILIES: [&str; 4] = [
    "node_filesystem_size_bytes",
    "node_filesystem_free_bytes",
    "node_filesystem_avail_bytes",
    "node_filesystem_usage_bytes",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/host")
        .join(name)
}

/// `pme --once` with `flags`: whether it succeeded, and its output. It
/// must exit, never die of a signal.
fn once(flags: &[String]) -> (bool, String) {
    let out = crate::util::pme_command()
        .arg("--once")
        .args(flags)
        .output()
        .unwrap();
    assert!(out.status.code().is_some(), "pme died of a signal");
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

/// `pme --once` with every `--path.*` flag pointing into `tree`.
fn once_in(tree: &Path) -> (bool, String) {
    once(&[
        format!("--path.procfs={}", tree.join("proc").display()),
        format!("--path.sysfs={}", tree.join("sys").display()),
        format!("--path.rootfs={}", tree.join("root").display()),
    ])
}

/// The family a line of the text format belongs to.
fn family_of(line: &str) -> &str {
    let name = line
        .strip_prefix("# HELP ")
        .or_else(|| line.strip_prefix("# TYPE "))
        .unwrap_or(line);
    name.split([' ', '{']).next().unwrap_or("")
}

/// The host families' lines, those of statfs families without values.
fn host_lines(body: &str) -> String {
    body.lines()
        .filter(|l| {
            let family = family_of(l);
            family.starts_with("node_") || family.starts_with("pve_")
        })
        .filter(|l| l.starts_with('#') || !STATFS_FAMILIES.contains(&family_of(l)))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Labels and value of every series of `family`.
fn series(body: &str, family: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    body.lines()
        .filter(|l| !l.starts_with('#') && family_of(l) == family)
        .map(|l| {
            let (labels, value) = l.rsplit_once(' ').unwrap();
            let labels = labels
                .split_once('{')
                .map(|(_, rest)| rest.trim_end_matches('}'))
                .unwrap_or("");
            let labels = labels
                .split("\",")
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once("=\"").unwrap();
                    (k.to_owned(), v.trim_end_matches('"').to_owned())
                })
                .collect();
            (labels, value.parse().unwrap())
        })
        .collect()
}

/// `stat -f` of `path`: size, free and available bytes.
fn statfs(path: &Path) -> [f64; 3] {
    let out = Command::new("stat")
        .args(["-f", "-c", "%S %b %f %a"])
        .arg(path)
        .output()
        .unwrap();
    let fields: Vec<f64> = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(|f| f.parse().unwrap())
        .collect();
    [
        fields[0] * fields[1],
        fields[0] * fields[2],
        fields[0] * fields[3],
    ]
}

fn check_fixture(name: &str, root_device: &str, root_fstype: &str) {
    let tree = fixture(name);
    let disks = [("/", tree.join("root")), ("/data", tree.join("root/data"))];
    let before = disks.clone().map(|(_, dir)| statfs(&dir));
    let (ok, body) = once_in(&tree);
    let after = disks.clone().map(|(_, dir)| statfs(&dir));
    assert!(ok, "a group failed:\n{body}");
    assert_valid_exposition(body.as_bytes());
    let expected = std::fs::read_to_string(tree.join("expected.prom")).unwrap();
    let got = host_lines(&body);
    assert_eq!(got, expected, "host series of fixture {name}");

    // Filesystems: the two real ones, pseudo ones excluded by the default
    // spec's patterns; sizes as statfs(2) gives them for the checkout.
    let mounts: BTreeSet<(String, String, String)> = series(&body, "node_filesystem_size_bytes")
        .into_iter()
        .map(|(l, _)| {
            (
                l["device"].clone(),
                l["mountpoint"].clone(),
                l["fstype"].clone(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = [
        (root_device, "/", root_fstype),
        ("/dev/sdb1", "/data", "xfs"),
    ]
    .iter()
    .map(|(d, m, f)| ((*d).to_owned(), (*m).to_owned(), (*f).to_owned()))
    .collect();
    assert_eq!(mounts, want);
    for (i, (mountpoint, _)) in disks.iter().enumerate() {
        let [size, _, avail_before] = before[i];
        let [_, _, avail_after] = after[i];
        let of = |family: &str| {
            series(&body, family)
                .into_iter()
                .find(|(l, _)| l["mountpoint"] == *mountpoint)
                .unwrap()
                .1
        };
        assert_eq!(of("node_filesystem_size_bytes"), size, "{mountpoint}");
        // Free space moves with whatever else writes to this disk (a build
        // running beside the tests): pme's reading lies between the
        // readings taken just before and just after it, give or take what
        // the disk takes in between.
        let drift = 64.0 * 1024.0 * 1024.0;
        let avail = of("node_filesystem_avail_bytes");
        assert!(
            avail_before.min(avail_after) - drift < avail
                && avail < avail_before.max(avail_after) + drift,
            "{mountpoint}: {avail} outside {avail_before}..{avail_after}"
        );
    }
}

#[test]
fn lxc_container_with_cgroup_v2_reports_its_limit() {
    check_fixture("lxc-v2", "rpool/data/subvol-105-disk-0", "zfs");
}

#[test]
fn lxc_container_with_cgroup_v1_reports_its_limit() {
    check_fixture("lxc-v1", "/dev/mapper/pve-vm--231--disk--0", "ext4");
}

#[test]
fn proxmox_host_reports_each_container() {
    check_fixture("proxmox", "/dev/mapper/pve-root", "ext4");
}

/// A procfs without the files the collectors read: each affected group
/// reports the error (`pme_source_up 0`, the path in `/health`) and pme
/// keeps serving everything else.
#[test]
fn broken_procfs_is_an_error_metric() {
    let dir = Dir::new("broken-procfs");
    // `meminfo` is a directory: opening it fails with "Is a directory".
    std::fs::create_dir_all(dir.join("meminfo")).unwrap();
    // `loadavg` is a FIFO nobody writes: opening it blocks, as statfs of a
    // dead network mount does. The group times out; nothing else waits.
    let fifo = Command::new("mkfifo").arg(dir.join("loadavg")).status();
    assert!(fifo.unwrap().success());
    let (ok, body) = once(&[format!("--path.procfs={}", dir.display())]);
    assert!(!ok, "--once reports the failed groups with its exit code");
    assert_valid_exposition(body.as_bytes());
    for group in ["memory", "load", "cpu", "network", "filesystem"] {
        let up = format!("pme_source_up{{service=\"node\",group=\"{group}\"}}");
        assert_eq!(value_of(&body, &up), Some(0.0), "{up}:\n{body}");
    }
    assert!(
        !body.contains("\nnode_memory_total_bytes{"),
        "no made-up value"
    );
    assert_eq!(
        value_of(&body, "pme_source_up{service=\"pme\",group=\"process\"}"),
        Some(1.0),
        "groups that do not read procfs go on:\n{body}"
    );

    let pme = Exporter::start(&[&format!("--path.procfs={}", dir.display())]);
    let health = wait_for(Duration::from_secs(30), "a failed memory group", || {
        let health: serde_json::Value =
            serde_json::from_slice(&get(pme.health, "/health").body).ok()?;
        let error = crate::util::last_error(&health, "memory");
        (!error.is_empty()).then_some(error)
    });
    assert!(health.contains("meminfo: Is a directory"), "{health}");
    let stuck = wait_for(Duration::from_secs(30), "the load group's timeout", || {
        let health: serde_json::Value =
            serde_json::from_slice(&get(pme.health, "/health").body).ok()?;
        let error = crate::util::last_error(&health, "load");
        (!error.is_empty()).then_some(error)
    });
    assert!(stuck.contains("timed out after 10s"), "{stuck}");
    let metrics = get(pme.metrics, "/metrics");
    assert_eq!(metrics.status, 200);
    assert_eq!(
        value_of(
            &metrics.text(),
            "pme_source_up{service=\"system\",group=\"kernel\"}"
        ),
        Some(1.0)
    );
}

/// On this machine, pme's built-ins and node_exporter 1.x agree.
#[test]
fn values_agree_with_node_exporter() {
    let Some(node_exporter) = peer("prometheus-node-exporter", "prometheus-node-exporter") else {
        return;
    };
    // The textfile collector (on by default) reads a directory of the test's own.
    let textfiles = Dir::new("node-exporter-textfiles");
    let mut node = Daemon::start(
        &node_exporter,
        &[
            "--web.listen-address=127.0.0.1:0".to_owned(),
            format!("--collector.textfile.directory={}", textfiles.display()),
            "--collector.processes".to_owned(),
            // Debian's default leaves out `lo`; upstream's and pme's do not.
            "--collector.netdev.device-exclude=^$".to_owned(),
        ],
    );
    let addr = node.listening();
    let theirs = wait_for(Duration::from_secs(30), "node_exporter", || body_of(addr));
    let (_, ours) = once(&[]);
    // A second scrape brackets pme's reading of counts that move.
    let theirs_after = body_of(addr).expect("node_exporter answers");

    // Memory total: equal.
    let total = series(&ours, "node_memory_total_bytes")[0].1;
    assert_eq!(Some(total), value_of(&theirs, "node_memory_MemTotal_bytes"));

    // Filesystem sizes: equal for every mount both report.
    let key = |l: &BTreeMap<String, String>| {
        (
            l["device"].clone(),
            l["mountpoint"].clone(),
            l["fstype"].clone(),
        )
    };
    let their_sizes: BTreeMap<_, f64> = series(&theirs, "node_filesystem_size_bytes")
        .into_iter()
        .map(|(l, v)| (key(&l), v))
        .collect();
    let mut compared = 0;
    for (labels, size) in series(&ours, "node_filesystem_size_bytes") {
        if let Some(theirs) = their_sizes.get(&key(&labels)) {
            assert_eq!(size, *theirs, "{labels:?}");
            compared += 1;
        }
    }
    assert!(compared >= 1, "no mount reported by both:\n{ours}");

    // Processes: both count /proc, moments apart; pme's count lies between
    // node_exporter's before and after it, within a small margin (other
    // work on the machine starts and ends processes).
    let processes = series(&ours, "node_processes_total")[0].1;
    let pids = |body: &str| value_of(body, "node_processes_pids").expect("node_processes_pids");
    let (low, high) = (
        pids(&theirs).min(pids(&theirs_after)),
        pids(&theirs).max(pids(&theirs_after)),
    );
    assert!(
        low - 10.0 <= processes && processes <= high + 10.0,
        "{processes} outside {low}..{high}"
    );

    // CPU: the same (cpu, mode) series, seconds apart at most.
    let cpu = |body: &str| -> BTreeMap<(String, String), f64> {
        series(body, "node_cpu_seconds_total")
            .into_iter()
            .map(|(l, v)| ((l["cpu"].clone(), l["mode"].clone()), v))
            .collect()
    };
    let (our_cpu, their_cpu) = (cpu(&ours), cpu(&theirs));
    assert_eq!(
        our_cpu.keys().collect::<Vec<_>>(),
        their_cpu.keys().collect::<Vec<_>>()
    );
    for (k, v) in &our_cpu {
        assert!(
            (v - their_cpu[k]).abs() < 30.0,
            "{k:?}: {v} vs {}",
            their_cpu[k]
        );
    }

    // Network: the same interfaces.
    let devices = |body: &str| -> BTreeSet<String> {
        series(body, "node_network_receive_bytes_total")
            .into_iter()
            .map(|(l, _)| l["device"].clone())
            .collect()
    };
    assert_eq!(devices(&ours), devices(&theirs));
}
