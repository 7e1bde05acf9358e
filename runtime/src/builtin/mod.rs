//! Built-in collectors (`source_type: builtin` in the spec): host metrics
//! with LXC and Proxmox awareness, and pme's own process and server
//! metrics.
//!
//! Each one is a plain struct that derives [`MetricGroup`] exactly as the
//! generated collectors do (so its headers and series prefixes are byte
//! constants too) and implements [`Collect`] by hand: it reads the system
//! itself instead of extracting from one source reading. The scheduler
//! runs [`Collect::collect`] on a blocking thread under the group's
//! timeout. `docs/collectors.md` shows how to write one.
//!
//! Host collectors read below `--path.procfs`, `--path.sysfs` and
//! `--path.rootfs` ([`Paths`]), so tests point them at fixture trees, and
//! label every series with [`Identity`]'s `host_name`, `container_id` and
//! `instance`.

mod cgroup;
mod containers;
mod cpu;
pub(crate) mod environment;
mod exporter;
mod filesystem;
mod load;
mod memory;
mod network;
mod process;
mod processes;
mod read;

use std::path::PathBuf;
use std::sync::Arc;

pub(crate) use environment::{Environment, Identity};
pub(crate) use exporter::Route;
pub use exporter::ServerStats;

use crate::metric::{ExtractErrors, MetricGroup, Series};
use crate::plan::{Builtin, Plan};

/// A collector that reads the system itself.
pub trait Collect: MetricGroup {
    /// Reads what the collector covers and replaces every family's series.
    /// A family that cannot be read keeps its last values (or none) and is
    /// reported; the others are still updated.
    ///
    /// # Errors
    /// What could not be read, by family.
    fn collect(&mut self, context: &Context) -> Result<(), ExtractErrors>;
}

/// Where the host's pseudo filesystems are (node_exporter's `--path.*`).
#[derive(Clone, Debug)]
pub struct Paths {
    /// `/proc`.
    pub procfs: PathBuf,
    /// `/sys`.
    pub sysfs: PathBuf,
    /// `/`: mount points and `/etc/pve` are looked up below it.
    pub rootfs: PathBuf,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            procfs: "/proc".into(),
            sysfs: "/sys".into(),
            rootfs: "/".into(),
        }
    }
}

impl Paths {
    /// `procfs/relative`.
    pub fn proc(&self, relative: &str) -> PathBuf {
        self.procfs.join(relative)
    }

    /// `sysfs/relative`.
    pub fn sys(&self, relative: &str) -> PathBuf {
        self.sysfs.join(relative)
    }

    /// `rootfs/relative` (`relative` may start with `/`).
    pub fn root(&self, relative: &str) -> PathBuf {
        self.rootfs.join(relative.trim_start_matches('/'))
    }
}

/// What every built-in collector may read besides the system: decided once
/// at startup.
#[derive(Debug)]
pub struct Context {
    /// Where `/proc`, `/sys` and `/` are.
    pub paths: Paths,
    /// Bare host, LXC container or Proxmox host, and what that implies.
    pub environment: Environment,
    /// The `host_name`, `container_id` and `instance` labels of every host series.
    pub identity: Identity,
    /// The kernel's clock tick (`USER_HZ`), for `/proc` times.
    pub clock_ticks: f64,
    /// pme's HTTP and exposition counters.
    pub server: Arc<ServerStats>,
    /// The spec's SHA-256, for `pme_build_info`.
    pub spec_sha256: &'static str,
}

impl Context {
    /// Detects the environment below `paths`.
    pub fn new(plan: &Plan, paths: Paths, server: Arc<ServerStats>) -> Context {
        let environment = Environment::detect(&paths);
        let identity = Identity::detect(&paths, &environment);
        tracing::debug!(?environment, ?identity, "host environment");
        Context {
            paths,
            environment,
            identity,
            clock_ticks: clock_ticks(),
            server,
            spec_sha256: plan.spec_sha256,
        }
    }

    /// The real host (`/proc`, `/sys`, `/`), with fresh server counters.
    pub fn for_host(plan: &Plan) -> Context {
        Context::new(plan, Paths::default(), Arc::default())
    }
}

/// `USER_HZ`; 100 on every Linux architecture in practice.
fn clock_ticks() -> f64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(ticks)) if ticks > 0 => ticks as f64,
        _ => 100.0,
    }
}

/// Makes the collector the spec names (the build checked the name and the
/// options).
///
/// # Errors
/// An unknown name or an option that does not compile (a plan not made by
/// pme-codegen).
pub fn create(builtin: &Builtin) -> Result<Box<dyn Collect>, String> {
    Ok(match builtin.name {
        "memory" => Box::<memory::Memory>::default(),
        "filesystem" => Box::new(filesystem::Filesystem::new(builtin)?),
        "processes" => Box::<processes::Processes>::default(),
        "load" => Box::<load::Load>::default(),
        "cpu" => Box::<cpu::Cpu>::default(),
        "network" => Box::new(network::Network::new(builtin)?),
        "containers" => Box::<containers::Containers>::default(),
        "process" => Box::<process::Process>::default(),
        "exporter" => Box::<exporter::Exporter>::default(),
        other => return Err(format!("unknown built-in collector `{other}`")),
    })
}

/// A series with these label values.
fn series<const N: usize>(labels: [&str; N], value: f64) -> Series<N> {
    Series {
        labels: labels.map(Box::from),
        value,
    }
}

/// Compiles an option's regex.
fn option_regex(builtin: &Builtin, name: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(builtin.option(name))
        .map_err(|e| format!("{}: option `{name}`: {e}", builtin.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalog the build checks specs against lists exactly the
    /// families each collector declares.
    #[test]
    fn catalog_matches_the_collectors() {
        for entry in pme_codegen::builtin::BUILTINS {
            let options: Vec<(&'static str, &'static str)> = entry.options.to_vec();
            let builtin = Builtin {
                name: entry.name,
                options: Box::leak(options.into_boxed_slice()),
            };
            let collector = create(&builtin).unwrap();
            let mut declared = collector.families();
            declared.sort_unstable();
            let mut listed = entry.families.to_vec();
            listed.sort_unstable();
            assert_eq!(declared, listed, "{}", entry.name);
        }
    }
}
