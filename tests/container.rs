//! The Dockerfile: a static musl binary built with the same command as
//! CI's musl step, shipped `FROM scratch` as a numeric non-root user.
//! `.ci/run` builds the image with podman from the musl binary it has just
//! built and checks what is inside; this test keeps the file and CI's
//! command from drifting apart.

use std::path::Path;

const BUILD: &str = "cargo build --release --target x86_64-unknown-linux-musl";

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn the_dockerfile_builds_what_ci_builds_and_runs_unprivileged() {
    let dockerfile = read("Dockerfile");
    let ci = read(".ci/run");
    assert!(dockerfile.contains(&format!("RUN {BUILD}")), "{dockerfile}");
    assert!(
        ci.contains(&format!("\n{BUILD}\n")),
        "CI's musl step changed"
    );
    let stages: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(stages.last(), Some(&"FROM scratch"), "{stages:?}");
    let user = dockerfile
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER line");
    let uid: u32 = user
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("a numeric user");
    assert_ne!(uid, 0, "the image runs as root");
    assert!(dockerfile.contains("ENTRYPOINT [\"/pme\"]"));
    let ignored = read(".dockerignore");
    assert!(
        ignored.lines().any(|l| l == "target/"),
        "the build context would hold target/"
    );
}
