//! The pme binary: serves the spec it was built from.

fn main() -> std::process::ExitCode {
    pme::app::main(&pme::generated::PLAN)
}
