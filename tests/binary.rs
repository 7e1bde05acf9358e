//! The real binary, built from the default metrics.yaml.

use std::process::Command;
use std::time::Duration;

use crate::util::{
    Exporter, assert_valid_exposition, family_value, get, python_parse, request, value_of, wait_for,
};

#[test]
fn serves_the_default_spec() {
    let pme = Exporter::start(&[]);
    wait_for(Duration::from_secs(20), "/ready", || {
        (get(pme.health, "/ready").status == 200).then_some(())
    });
    let response = get(pme.metrics, "/metrics");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let body = response.text();
    assert_valid_exposition(body.as_bytes());

    let load1 = family_value(&body, "node_load1").expect("load1");
    let first_field: f64 = std::fs::read_to_string("/proc/loadavg")
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (load1 - first_field).abs() < 5.0,
        "load1 {load1} vs /proc/loadavg {first_field}"
    );
    let release =
        String::from_utf8(Command::new("uname").arg("-r").output().unwrap().stdout).unwrap();
    let info = format!(r#"pme_system_kernel_info{{release="{}"}}"#, release.trim());
    assert_eq!(value_of(&body, &info), Some(1.0), "{info} missing:\n{body}");
    for (service, group) in [("node", "load"), ("system", "kernel")] {
        let up = format!(r#"pme_source_up{{service="{service}",group="{group}"}}"#);
        assert_eq!(value_of(&body, &up), Some(1.0), "{up}");
    }

    // An independent parser reads the same numbers.
    if let Some(samples) = python_parse(body.as_bytes()) {
        let py = samples
            .iter()
            .find(|s| s.name == "node_load1")
            .expect("load1 in Python");
        assert_eq!(py.value(), load1);
    }
}

#[test]
fn answers_http_edge_cases() {
    let pme = Exporter::start(&[]);
    let head = request(pme.metrics, "HEAD", "/metrics");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );

    let post = request(pme.metrics, "POST", "/metrics");
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    assert_eq!(get(pme.metrics, "/nope").status, 404);
    assert_eq!(
        get(pme.metrics, "/health").status,
        404,
        "health lives on its own listener"
    );
    assert_eq!(get(pme.health, "/metrics").status, 404);

    let landing = get(pme.metrics, "/");
    assert_eq!(landing.status, 200);
    assert!(landing.text().contains("href=\"/metrics\""));

    wait_for(Duration::from_secs(20), "/ready", || {
        (get(pme.health, "/ready").status == 200).then_some(())
    });
    let health: serde_json::Value =
        serde_json::from_slice(&get(pme.health, "/health").body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["services"][0]["id"], "node");
    assert_eq!(health["services"][0]["groups"][0]["id"], "memory");
    assert_eq!(health["services"][0]["groups"][0]["up"], true);
}

#[test]
fn once_prints_the_exposition_and_exits() {
    let out = crate::util::pme_command().arg("--once").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("# TYPE node_load1 gauge"));
    assert_valid_exposition(&out.stdout);
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let mut pme = Exporter::start(&[]);
    let pid = nix::unistd::Pid::from_raw(pme.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = wait_for(Duration::from_secs(10), "exit after SIGTERM", || {
        pme.child.try_wait().unwrap()
    });
    assert!(status.success(), "{status:?}");
}

#[test]
fn rejects_bad_command_lines() {
    let out = crate::util::pme_command()
        .arg("--web.listen-address=nowhere")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an address"));
}

/// `--user`: pme binds as root, then serves and collects as the user, with
/// exactly that user's groups.
#[test]
fn drops_to_the_user_named_by_flag() {
    if !nix::unistd::geteuid().is_root() {
        crate::util::skipped("root privileges (dropping them)", "run the tests as root");
        return;
    }
    let pme = Exporter::start(&["--user=nobody"]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", pme.child.id())).unwrap();
    let field = |name: &str| -> Vec<String> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {status}"));
        line[name.len()..]
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    let uid = nobody.uid.to_string();
    let gid = nobody.gid.to_string();
    assert_eq!(field("Uid:"), [&*uid, &uid, &uid, &uid]);
    assert_eq!(field("Gid:"), [&*gid, &gid, &gid, &gid]);
    assert_eq!(field("Groups:"), [&*gid]);
    assert_eq!(field("CapEff:"), ["0000000000000000"]);
    wait_for(Duration::from_secs(20), "/ready", || {
        (get(pme.health, "/ready").status == 200).then_some(())
    });
    let body = get(pme.metrics, "/metrics").text();
    assert!(family_value(&body, "node_load1").is_some(), "{body}");
}

/// `--dry-run` checks the default spec on this host and prints its plan.
#[test]
fn dry_run_checks_and_prints_the_plan() {
    let out = crate::util::pme_command()
        .arg("--dry-run")
        .output()
        .unwrap();
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{report}");
    for line in [
        "group node/memory: every 15s, timeout 10s, source #0\n",
        "ok   source #0 (node/memory): collector `pme::collect::builtin::Memory` made from its options\n",
        "(system/file_handles): file /proc/sys/fs/file-nr opens\n",
        "(system/kernel): command `uname -r` is ",
        "every check passed\n",
    ] {
        assert!(report.contains(line), "{line:?} missing:\n{report}");
    }
}

/// A missing file and a missing program fail the dry run, by name.
#[test]
fn dry_run_names_what_cannot_run() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = crate::util::Dir::new("dry-run");
    dir.write("http/token", "tok-123\n");
    let server = crate::util::http_server::TestServer::start();
    let plan = |plan| crate::embedded::owned(plan, &dir, Some(&server));
    let (report, all_ok) = runtime.block_on(pme::__private::dry_run(plan(
        &crate::embedded::bad_input::PLAN,
    )));
    assert!(!all_ok, "{report}");
    let missing = format!(
        "FAIL source #2 (faulty/missing_file): {}/does-not-exist/value: No such file or directory",
        dir.display()
    );
    assert!(report.contains(&missing), "{missing} not in:\n{report}");
    let (report, all_ok) = runtime.block_on(pme::__private::dry_run(plan(
        &crate::embedded::http_json::PLAN,
    )));
    assert!(all_ok, "{report}");
    let resolved = format!(
        "{} resolves to [{}]",
        server.url("/status.json"),
        server.addr
    );
    assert!(report.contains(&resolved), "{resolved} not in:\n{report}");
}

/// `pme completions bash` completes a partial flag in a real bash, and
/// `pme man` is a manual page groff renders with every flag in it.
#[test]
fn shell_completions_and_the_manual_page() {
    let Some(bash) = crate::util::peer("bash", "bash") else {
        return;
    };
    let pme = env!("CARGO_BIN_EXE_pme");
    let script = format!(
        "source <('{pme}' completions bash) && COMP_WORDS=(pme --web.l) && COMP_CWORD=1 \
         && _pme pme --web.l pme && printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let out = Command::new(&bash).args(["-c", &script]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "--web.listen-address\n"
    );
    for shell in ["zsh", "fish"] {
        let out = crate::util::pme_command()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success() && out.stdout.len() > 1000, "{shell}");
    }
    let bad = crate::util::pme_command()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(
        bad.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );

    let man = crate::util::pme_command().arg("man").output().unwrap();
    assert!(man.status.success());
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(page.contains(".TH pme 1"), "{page}");
    let Some(groff) = crate::util::peer("groff", "groff-base") else {
        return;
    };
    let mut render = Command::new(groff)
        .args(["-k", "-man", "-Tutf8"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        render
            .stdin
            .take()
            .unwrap()
            .write_all(page.as_bytes())
            .unwrap();
    }
    let rendered = render.wait_with_output().unwrap();
    assert!(rendered.status.success());
    // groff overstrikes bold text: compare without the backspaces.
    let plain = strip_overstrike(&String::from_utf8_lossy(&rendered.stdout));
    for flag in [
        "--web.listen-address",
        "--log.format",
        "--collectors.enabled",
    ] {
        assert!(
            plain.contains(flag),
            "{flag} missing from the rendered page"
        );
    }
}

/// `x\bx` (bold) and `_\bx` (underline) as groff writes them, as `x`.
fn strip_overstrike(text: &str) -> String {
    let mut out: Vec<char> = Vec::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{8}' {
            out.pop();
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out.into_iter().collect()
}
