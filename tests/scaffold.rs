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
