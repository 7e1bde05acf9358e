//! Records the compiler's version for `pme_build_info{rustc}`. It does not
//! read the spec: the runtime is compiled once, whatever spec a binary is
//! built from.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    if let Ok(out) = std::process::Command::new(rustc).arg("--version").output() {
        let version = String::from_utf8_lossy(&out.stdout);
        println!("cargo::rustc-env=PME_RUSTC_VERSION={}", version.trim());
    }
}
