//! The pme binary: serves the spec it was built from.

#[allow(
    unreachable_pub,
    reason = "generated items are `pub` so a library can re-export them; here the binary is their only user"
)]
mod generated;

fn main() -> std::process::ExitCode {
    pme::main(&generated::PLAN)
}
