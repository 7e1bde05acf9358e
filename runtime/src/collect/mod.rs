//! Collectors that read for themselves (`source_type: collector` and
//! `source_type: builtin` in the spec): the interface another crate
//! implements, and pme's built-in host and self collectors, which use it
//! like any other crate would.
//!
//! A collector is a struct that derives [`MetricGroup`]
//! (so its headers and series prefixes are byte constants), is made from
//! its typed [`FromOptions::Options`], and implements [`Collect`] (it reads
//! on a blocking thread) or [`CollectAsync`] (it reads on pme's runtime).
//! The scheduler runs it under its group's timeout, never twice at once;
//! the spec's `labels:` of the service and the group are added to every
//! series it serves, so several instances of one collector share its
//! families. `docs/collectors.md` shows how to write one.
//!
//! Built-in host collectors read below `--path.procfs`, `--path.sysfs` and
//! `--path.rootfs` ([`Paths`]), so tests point them at fixture trees, and
//! label every series with the host's `host_name`, `container_id` and
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

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

pub(crate) use environment::{Environment, Identity};
pub(crate) use exporter::Route;
pub use exporter::ServerStats;

use crate::metric::MetricGroup;
/// What a collector fills its families with and reports failures in.
pub use crate::metric::{ExtractError, ExtractErrors, Family, Series};

/// pme's built-in collectors, by the name `source_type: builtin` gives
/// them. `source: memory` is shorthand for
/// `source_type: collector` with `collector: pme::collect::builtin::Memory`.
pub mod builtin {
    pub use super::containers::Containers;
    pub use super::cpu::Cpu;
    pub use super::exporter::Exporter;
    pub use super::filesystem::{Filesystem, FilesystemOptions};
    pub use super::load::Load;
    pub use super::memory::Memory;
    pub use super::network::{Network, NetworkOptions};
    pub use super::process::Process;
    pub use super::processes::Processes;
}

/// How a collector is made from its spec entry's `options:`.
///
/// The generated code builds `Options` as a struct literal from the
/// spec's keys, `..Default::default()` for the rest, so an unknown key or
/// a value of the wrong type fails `cargo build`. Checks only the value
/// can tell (a regex that does not compile, a path that must be absolute)
/// belong in [`FromOptions::from_options`]: its error stops pme at start,
/// naming the group.
pub trait FromOptions: Sized {
    /// The settings a spec entry may give; `()` for none.
    type Options: Default;

    /// Makes the collector.
    ///
    /// # Errors
    /// An option that is not valid, said in words an operator can act on.
    fn from_options(options: Self::Options) -> Result<Self, String>;
}

/// A collector whose reads block (files, `statfs`, system calls): pme
/// runs [`Collect::collect`] on a blocking thread. A read that outlives the
/// group's timeout is reported, and the collector is not run again until
/// it returns.
pub trait Collect: MetricGroup {
    /// Reads what the collector covers and replaces every family's series.
    /// A family that cannot be read keeps its last values (or none) and is
    /// reported; the others are still updated.
    ///
    /// # Errors
    /// What could not be read, by family.
    fn collect(&mut self, context: &Context) -> Result<(), ExtractErrors>;
}

/// A collector that awaits its reads (network peers, tokio I/O): pme polls
/// [`CollectAsync::collect`] on its runtime and drops the future at the
/// group's timeout.
pub trait CollectAsync: MetricGroup {
    /// As [`Collect::collect`].
    fn collect(
        &mut self,
        context: &Context,
    ) -> impl Future<Output = Result<(), ExtractErrors>> + Send;
}

/// A collector ready to run, blocking or async: what a spec entry makes.
#[derive(Debug)]
pub struct Instance(pub(crate) Run);

/// The two ways the scheduler runs an [`Instance`].
#[derive(Debug)]
pub(crate) enum Run {
    Blocking(Box<dyn Collect>),
    Async(Box<dyn CollectBoxed>),
}

impl Instance {
    /// A collector that blocks.
    pub fn blocking(collector: impl Collect) -> Instance {
        Instance(Run::Blocking(Box::new(collector)))
    }

    /// A collector that awaits.
    pub fn nonblocking(collector: impl CollectAsync) -> Instance {
        Instance(Run::Async(Box::new(collector)))
    }

    /// The families the collector declares.
    pub fn families(&self) -> Vec<&'static str> {
        match &self.0 {
            Run::Blocking(c) => c.families(),
            Run::Async(c) => c.families(),
        }
    }

    /// The same, each with its type keyword.
    pub fn family_types(&self) -> Vec<(&'static str, &'static str)> {
        match &self.0 {
            Run::Blocking(c) => c.family_types(),
            Run::Async(c) => c.family_types(),
        }
    }
}

impl Run {
    /// The collector's families, to encode.
    pub(crate) fn group(&self) -> &dyn MetricGroup {
        match self {
            Run::Blocking(c) => &**c,
            Run::Async(c) => &**c,
        }
    }
}

/// The future of a [`CollectAsync`] collector, boxed so that collectors of
/// different types fit one table.
pub(crate) type Collecting<'a> =
    Pin<Box<dyn Future<Output = Result<(), ExtractErrors>> + Send + 'a>>;

/// [`CollectAsync`] as a trait object.
pub(crate) trait CollectBoxed: MetricGroup {
    fn collect_boxed<'a>(&'a mut self, context: &'a Context) -> Collecting<'a>;
}

impl<T: CollectAsync> CollectBoxed for T {
    fn collect_boxed<'a>(&'a mut self, context: &'a Context) -> Collecting<'a> {
        Box::pin(self.collect(context))
    }
}

/// For generated code: [`Instance::blocking`] or [`Instance::nonblocking`],
/// whichever trait the collector implements. The spec names a type, not
/// how it reads; method resolution picks the impl whose bound holds
/// (`(&Pick::<T>::new()).instance(c)`, with both traits in scope).
#[doc(hidden)]
pub mod pick {
    use super::{Collect, CollectAsync, Instance};

    /// A type to pick for.
    #[derive(Debug)]
    pub struct Pick<T>(std::marker::PhantomData<T>);

    impl<T> Pick<T> {
        /// The picker.
        #[allow(clippy::new_without_default)]
        pub fn new() -> Pick<T> {
            Pick(std::marker::PhantomData)
        }
    }

    /// Chosen for a [`Collect`] collector.
    pub trait PickBlocking<T> {
        /// The instance.
        fn instance(&self, collector: T) -> Instance;
    }

    impl<T: Collect> PickBlocking<T> for Pick<T> {
        fn instance(&self, collector: T) -> Instance {
            Instance::blocking(collector)
        }
    }

    /// Chosen for a [`CollectAsync`] collector.
    pub trait PickAsync<T> {
        /// The instance.
        fn instance(&self, collector: T) -> Instance;
    }

    impl<T: CollectAsync> PickAsync<T> for &Pick<T> {
        fn instance(&self, collector: T) -> Instance {
            Instance::nonblocking(collector)
        }
    }
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

/// What every collector may read besides the system: decided once at
/// startup and shared by every collection.
#[derive(Debug)]
pub struct Context {
    /// Where `/proc`, `/sys` and `/` are.
    pub(crate) paths: Paths,
    /// Bare host, LXC container or Proxmox host, and what that implies.
    pub(crate) environment: Environment,
    /// The `host_name`, `container_id` and `instance` labels of every host series.
    pub(crate) identity: Identity,
    /// The kernel's clock tick (`USER_HZ`), for `/proc` times.
    pub(crate) clock_ticks: f64,
    /// pme's HTTP and exposition counters.
    pub(crate) server: Arc<ServerStats>,
    /// The spec's SHA-256, for `pme_build_info`.
    pub(crate) spec_sha256: &'static str,
}

impl Context {
    /// The host below `paths` (environment and identity detected now), as
    /// a collector's own tests make it.
    pub fn new(paths: Paths) -> Context {
        Context::for_run("", paths, Arc::default())
    }

    /// The context of a running plan.
    pub(crate) fn for_run(
        spec_sha256: &'static str,
        paths: Paths,
        server: Arc<ServerStats>,
    ) -> Context {
        let environment = Environment::detect(&paths);
        let identity = Identity::detect(&paths, &environment);
        let [host_name, container_id, instance] = identity.labels();
        tracing::info!(
            environment = environment.name(),
            host_name,
            container_id,
            instance,
            "host environment"
        );
        Context {
            paths,
            environment,
            identity,
            clock_ticks: clock_ticks(),
            server,
            spec_sha256,
        }
    }

    /// Where `/proc`, `/sys` and `/` are (`--path.procfs`, …).
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The values of the `host_name`, `container_id` and `instance` labels
    /// pme's host collectors put on every series, in that order.
    pub fn host_labels(&self) -> [&str; 3] {
        self.identity.labels()
    }
}

/// `USER_HZ`; 100 on every Linux architecture in practice.
fn clock_ticks() -> f64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(ticks)) if ticks > 0 => ticks as f64,
        _ => 100.0,
    }
}

/// A series with these label values.
fn series<const N: usize>(labels: [&str; N], value: f64) -> Series<N> {
    Series {
        labels: labels.map(Box::from),
        value,
    }
}

/// Compiles a regex option (the build checked built-ins' already).
fn regex_option(name: &str, pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| format!("option `{name}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::builtin::*;
    use super::*;

    /// A built-in with its default options, by catalog name.
    fn by_name(name: &str) -> Instance {
        fn make<T: FromOptions + Collect>() -> Instance {
            Instance::blocking(T::from_options(T::Options::default()).unwrap())
        }
        match name {
            "memory" => make::<Memory>(),
            "filesystem" => make::<Filesystem>(),
            "processes" => make::<Processes>(),
            "load" => make::<Load>(),
            "cpu" => make::<Cpu>(),
            "network" => make::<Network>(),
            "containers" => make::<Containers>(),
            "process" => make::<Process>(),
            "exporter" => make::<Exporter>(),
            other => panic!("the catalog names `{other}`, which this test does not know"),
        }
    }

    /// The catalog the build checks specs against lists exactly the
    /// families each collector declares, and names its type.
    #[test]
    fn catalog_matches_the_collectors() {
        for entry in pme_codegen::builtin::BUILTINS {
            let mut declared = by_name(entry.name).families();
            declared.sort_unstable();
            let mut listed = entry.families.to_vec();
            listed.sort_unstable();
            assert_eq!(declared, listed, "{}", entry.name);
        }
    }
}
