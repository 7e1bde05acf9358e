//! `pme systemd-unit`: the unit asks for no more than the spec needs and
//! passes `systemd-analyze verify` where systemd is installed.

use std::process::Command;

use crate::embedded::run_as;

/// Runs `systemd-analyze verify` on `unit`; `false` when systemd-analyze
/// is missing (outside CI: containers often lack systemd).
fn verify(unit: &str, name: &str) -> bool {
    let Some(analyze) = crate::util::peer("systemd-analyze", "systemd") else {
        return false;
    };
    let dir = crate::util::Dir::new("systemd");
    let path = dir.write(name, unit);
    let out = Command::new(analyze)
        .args(["verify", "--man=no"])
        .arg(&path)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{unit}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

#[test]
fn the_default_spec_runs_unprivileged() {
    let out = crate::util::pme_command()
        .args(["systemd-unit", "--", "--web.listen-address=127.0.0.1:19866"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let unit = String::from_utf8(out.stdout).unwrap();
    let exec = format!(
        "ExecStart={} --web.listen-address=127.0.0.1:19866\n",
        env!("CARGO_BIN_EXE_pme")
    );
    for line in [
        exec.as_str(),
        "DynamicUser=yes\n",
        "CapabilityBoundingSet=\n",
        "NoNewPrivileges=yes\n",
        "ProtectSystem=strict\n",
        "PrivateTmp=yes\n",
        "SystemCallFilter=@system-service\n",
    ] {
        assert!(unit.contains(line), "{line:?} missing:\n{unit}");
    }
    assert!(!unit.contains("CAP_SETUID"), "{unit}");
    verify(&unit, "pme.service");

    // Flags that pme would not accept are refused, not written into a unit.
    let bad = crate::util::pme_command()
        .args(["systemd-unit", "--", "--no-such-flag"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn run_as_keeps_only_the_capabilities_to_switch_users() {
    use clap::Parser;
    let unit = pme::__private::systemd_unit(
        &run_as::PLAN,
        std::path::Path::new(env!("CARGO_BIN_EXE_pme")),
        &[],
        &pme::Options::parse_from(["pme"]),
    );
    for line in [
        "User=root\n",
        "CapabilityBoundingSet=CAP_SETUID CAP_SETGID\n",
        "NoNewPrivileges=yes\n",
        "ReadOnlyPaths=-/tmp/pme-run-as/group-only\n",
        "ReadOnlyPaths=-/tmp/pme-run-as/root-only\n",
    ] {
        assert!(unit.contains(line), "{line:?} missing:\n{unit}");
    }
    assert!(!unit.contains("DynamicUser"), "{unit}");
    verify(&unit, "pme-run-as.service");
}

/// `systemd-analyze security --offline=true` of `unit`: its overall
/// exposure (0 safest, 10 least safe), or `None` without systemd.
fn exposure(unit: &str) -> Option<f64> {
    let analyze = crate::util::peer("systemd-analyze", "systemd")?;
    let dir = crate::util::Dir::new("systemd-security");
    let path = dir.write("pme.service", unit);
    let out = Command::new(analyze)
        .args(["security", "--offline=true"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("no exposure level:\n{text}"));
    line.split(": ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn unit_for(flags: &[&str]) -> String {
    let args: Vec<&str> = ["systemd-unit", "--"]
        .iter()
        .chain(flags)
        .copied()
        .collect();
    crate::util::pme_stdout(&args)
}

#[test]
fn the_unit_follows_the_output_flags() {
    let loopback = [
        "--web.listen-address=127.0.0.1:19866",
        "--health.listen-address=127.0.0.1:19867",
    ];
    // The default unit has no address rule: what a unit scored before.
    let default = unit_for(&[]);
    let mut flags = loopback.to_vec();
    flags.extend([
        "--textfile.directory=/var/lib/prometheus/node-exporter",
        "--remote-write.url=http://10.0.0.5:9090/api/v1/write",
    ]);
    let unit = unit_for(&flags);
    for line in [
        "ReadWritePaths=/var/lib/prometheus/node-exporter\n",
        "IPAddressDeny=any\n",
        "IPAddressAllow=10.0.0.5 localhost\n",
        "ProtectSystem=strict\n",
    ] {
        assert!(unit.contains(line), "{line:?} missing:\n{unit}");
    }
    verify(&unit, "pme.service");
    if let (Some(before), Some(after)) = (exposure(&default), exposure(&unit)) {
        assert!(after <= before, "exposure {before} → {after}:\n{unit}");
    }

    // A host name, or a listener beyond loopback: no address rule, and
    // the unit says why.
    let mut named = loopback.to_vec();
    named.push("--push.gateway=http://pushgateway.internal:9091");
    let unit = unit_for(&named);
    assert!(!unit.contains("IPAddressDeny=any"), "{unit}");
    assert!(
        unit.contains("names a host, whose addresses this unit cannot know"),
        "{unit}"
    );
    let open = unit_for(&["--web.listen-address=:19866"]);
    assert!(open.contains("pme listens beyond loopback"), "{open}");
    verify(&open, "pme.service");
}
