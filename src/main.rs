//! The pme binary: serves the spec it was built from.

fn main() -> std::process::ExitCode {
    pme::main(&pme::generated::PLAN)
}
