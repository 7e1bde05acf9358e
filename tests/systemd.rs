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
    let unit = pme::__private::systemd_unit(
        &run_as::PLAN,
        std::path::Path::new(env!("CARGO_BIN_EXE_pme")),
        &[],
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
