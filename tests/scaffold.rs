//! `pme new <kind>`: every starter spec builds, its sample checked
//! against its `expect` by the build's own code, and none of them names
//! anything of this machine.

use crate::util::pme_command;

#[test]
fn every_starter_spec_builds() {
    for kind in ["command", "file", "http-json", "xml", "reimport"] {
        let out = pme_command().args(["new", kind]).output().unwrap();
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let spec = String::from_utf8(out.stdout).unwrap();
        assert!(
            spec.contains("sample:") && spec.contains("expect:"),
            "{kind}:\n{spec}"
        );
        // The same generator `cargo build` runs (build.rs): it validates the
        // spec and extracts the sample with the runtime's filters.
        if let Err(diagnostics) = pme_codegen::generate(&spec, &format!("new-{kind}.yaml")) {
            let all: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
            panic!(
                "`pme new {kind}` does not build:\n{}\n{spec}",
                all.join("\n")
            );
        }
    }
    let bad = pme_command().args(["new", "ldap"]).output().unwrap();
    assert_eq!(
        bad.status.code(),
        Some(2),
        "an unknown kind is a usage error"
    );
}

const KINDS: [&str; 5] = ["command", "file", "http-json", "xml", "reimport"];

fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Each starter spec's lock is what the build writes for it as
/// `metrics.yaml` (`UPDATE_TEMPLATES=1` rewrites them).
#[test]
fn every_starter_lock_is_current() {
    for kind in KINDS {
        let spec =
            std::fs::read_to_string(repo(&format!("runtime/templates/{kind}.yaml"))).unwrap();
        let model = pme_codegen::check(&spec, "metrics.yaml").unwrap();
        let lock = pme_codegen::lock::render(&model);
        let path = repo(&format!("runtime/templates/{kind}.lock"));
        if std::env::var_os("UPDATE_TEMPLATES").is_some() {
            std::fs::write(&path, &lock).unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            lock,
            "{} is stale: UPDATE_TEMPLATES=1 cargo test --test integration starter_lock",
            path.display()
        );
    }
}

/// `pme new --crate`: a crate of its own that builds against this
/// workspace, serves its spec's samples with `--replay`, and whose build
/// fails at the spec's line when a change breaks its lock.
#[test]
fn a_new_crate_builds_against_the_workspace_and_keeps_its_contract() {
    let dir = crate::util::Dir::new("new-crate");
    let out = pme_command()
        .current_dir(dir.path())
        .args(["new", "--crate", "team-metrics", "--pme-path"])
        .arg(repo("runtime"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let krate = dir.join("team-metrics");
    for file in [
        "Cargo.toml",
        "src/main.rs",
        "metrics.yaml",
        "metrics.lock",
        "ci.sh",
        "README.md",
        ".gitignore",
    ] {
        assert!(krate.join(file).is_file(), "{file}");
    }
    let again = pme_command()
        .current_dir(dir.path())
        .args(["new", "--crate", "team-metrics"])
        .output()
        .unwrap();
    assert!(!again.status.success(), "an existing directory is refused");

    // The workspace's lock, so the build resolves the same versions
    // offline; a target directory kept between runs, so only the first
    // compiles pme's dependencies.
    std::fs::copy(repo("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let build = || {
        std::process::Command::new(&cargo)
            .current_dir(&krate)
            .args(["build", "--offline", "--quiet"])
            .env("CARGO_TARGET_DIR", repo("target/new-crate"))
            .env("PME_DENY_WARNINGS", "1")
            .env_remove("PME_LOCK")
            .output()
            .unwrap()
    };
    let built = build();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let exe = repo("target/new-crate/debug/team-metrics");
    let replay = std::process::Command::new(&exe)
        .args(["--replay", "--once"])
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&replay.stdout);
    assert!(body.contains("myapp_queue_depth 12"), "{body}");

    // Renaming a family breaks the contract: the build says where.
    let spec = std::fs::read_to_string(krate.join("metrics.yaml")).unwrap();
    let renamed = spec
        .replace("          depth:\n", "          backlog:\n")
        .replace("'myapp_queue_depth 12'", "'myapp_queue_backlog 12'");
    assert_ne!(spec, renamed);
    std::fs::write(krate.join("metrics.yaml"), &renamed).unwrap();
    let broken = build();
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(!broken.status.success());
    let line = renamed
        .lines()
        .position(|l| l == "          backlog:")
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!(
            "metrics.yaml:{line}:11: family `myapp_queue_backlog` was `myapp_queue_depth` (metrics.lock:"
        )),
        "{stderr}"
    );
}
