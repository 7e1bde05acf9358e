//! Wiring: plan → scheduler → store → listeners and outputs, for the
//! binary and for tests or applications that embed a spec. The top of the
//! crate: nothing else imports this module.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches, Parser};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::collect::{Context, Paths, ServerStats};
use crate::config::{Command, Options};
use crate::encode::Format;
use crate::exposition::Exposition;
use crate::http::embedded::MetricsService;
use crate::http::service::Probes;
use crate::http::{self, Endpoint, State, Web};
use crate::plan::Plan;
use crate::scheduler::{Scheduler, StartupError};
use crate::sources::identity::Identity;
use crate::store::Store;
use crate::{exposition, outputs, statsd};

/// Why pme could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec cannot run here (e.g. an unknown `run_as` user).
    #[error(transparent)]
    Startup(#[from] StartupError),
    /// A parameter pattern does not compile.
    #[error("{0}")]
    Parameters(String),
    /// `--web.config.file` does not load.
    #[error("--web.config.file: {0}")]
    WebConfig(String),
    /// `--user` could not be honoured.
    #[error("--user: {0}")]
    User(String),
    /// `--collectors.enabled` names something the spec does not have.
    #[error("{0}")]
    Collectors(String),
    /// A statsd listener cannot run.
    #[error("statsd: {0}")]
    Statsd(String),
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A running exporter: its bound addresses and a way to stop it.
#[derive(Debug)]
pub struct Running {
    /// Where `/metrics` is served.
    pub metrics_addr: SocketAddr,
    /// Where `/health` is served.
    pub health_addr: SocketAddr,
    /// Where statsd lines are received over UDP (`--statsd.listen-udp`).
    pub statsd_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops collecting and serving; waits for requests in flight.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// The groups `--collectors.enabled` keeps (all without it).
fn enabled(plan: &'static Plan, options: &Options) -> Result<&'static Plan, String> {
    plan.only(&crate::config::split_list(&options.collectors_enabled))
}

/// `pme new --crate NAME`: the crate, in the current directory.
fn new_crate(
    name: &str,
    kind: crate::scaffold::Template,
    pme_path: Option<&std::path::Path>,
) -> ExitCode {
    use crate::scaffold::Dependency;
    let pme = match pme_path {
        Some(path) => match std::fs::canonicalize(path) {
            Ok(path) => Dependency::Path(path),
            Err(e) => {
                eprintln!("pme new: --pme-path {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => Dependency::Version(env!("CARGO_PKG_VERSION")),
    };
    match crate::scaffold::write_crate(std::path::Path::new("."), name, kind, &pme) {
        Ok(dir) => {
            println!(
                "wrote {dir}: cd {dir} && cargo run --release (./ci.sh is what CI runs)",
                dir = dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pme new: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The binary's entry point for `plan`: parses the command line, runs
/// until SIGTERM/SIGINT (or once, with `--once`).
pub fn main(plan: &'static Plan) -> ExitCode {
    crate::allocator::tune();
    let matches = Options::command().get_matches();
    let mut options = match Options::from_arg_matches(&matches) {
        Ok(options) => options,
        Err(e) => e.exit(),
    };
    match &options.command {
        Some(Command::SystemdUnit { flags }) => return print_unit(plan, flags),
        Some(Command::Completions { shell }) => {
            let mut command = Options::command();
            clap_complete::generate(*shell, &mut command, "pme", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Some(Command::New {
            kind, krate: None, ..
        }) => {
            print!("{}", kind.text());
            return ExitCode::SUCCESS;
        }
        Some(Command::New {
            kind,
            krate: Some(name),
            pme_path,
        }) => return new_crate(name, *kind, pme_path.as_deref()),
        Some(Command::Describe { format }) => {
            print!("{}", crate::plan::describe::describe(plan, *format));
            return ExitCode::SUCCESS;
        }
        Some(Command::Schema) => {
            print!("{}", pme_content::spec::schema::render());
            return ExitCode::SUCCESS;
        }
        Some(Command::Dashboard { job }) => {
            print!("{}", crate::dashboard::dashboard(plan, job));
            return ExitCode::SUCCESS;
        }
        Some(Command::Alerts { job }) => {
            print!("{}", crate::alerts::rules(plan, job));
            return ExitCode::SUCCESS;
        }
        Some(Command::Man) => {
            let man = clap_mangen::Man::new(Options::command());
            return match man.render(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("pme man: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        None => {}
    }
    let env = |name: &str| std::env::var(name).ok();
    let otlp = |o: &Options| crate::outputs::otlp_config(o, &env).is_some();
    if let Err(e) = crate::config::aliases::apply(&mut options, &matches, plan.tick, &env, &otlp) {
        eprintln!("pme: {e}");
        return ExitCode::from(2);
    }
    let plan = match enabled(plan, &options) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("pme: {e}");
            return ExitCode::from(2);
        }
    };
    crate::logs::init(options.log_format, &options.log_level);
    let plan = if options.replay {
        let (replayed, left_out) = plan.replay();
        tracing::info!(
            groups = replayed.groups.len(),
            left_out = %left_out.join(","),
            "replaying the spec's samples: no source is read"
        );
        replayed
    } else {
        plan
    };

    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = options.runtime_worker_threads {
        builder.worker_threads(usize::from(n));
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async {
        if options.dry_run {
            let (report, all_ok) = crate::dryrun::check(plan).await;
            print!("{report}");
            return if all_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
        if options.once {
            return run_once(plan, &options).await;
        }
        // Installed before the listeners exist, so a SIGTERM that arrives as
        // soon as the "serving" line is printed is already handled.
        let stop = shutdown_signal();
        match start(plan, &options).await {
            Ok(running) => {
                tokio::spawn(crate::allocator::upkeep());
                stop.await;
                tracing::info!("shutting down");
                running.shutdown().await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!("{e}");
                ExitCode::FAILURE
            }
        }
    });
    // A read stuck in the kernel (a FIFO, statfs of a dead NFS mount) keeps
    // its blocking thread; dropping the runtime would wait for it forever.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}

/// `--once`: collects every group once, prints the exposition, and hands
/// it to every output the flags name, once (the cron pattern: a textfile
/// written, a push sent); fails if a group or an output did.
async fn run_once(plan: &'static Plan, options: &Options) -> ExitCode {
    let server = Arc::new(ServerStats::default());
    let context = Context::for_run(plan.spec_sha256, options.paths(), server.clone());
    let (store, mut all_ok) = match collect_once_with(plan, Arc::new(context)).await {
        Ok(collected) => collected,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let body = exposition::build(plan, &store, None, Format::Prometheus);
    {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        if stdout
            .write_all(&body)
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return ExitCode::FAILURE;
        }
    }
    let outputs = outputs::configured(options);
    if !outputs.is_empty() {
        let exposition = Arc::new(Exposition::new(plan, store.clone(), server));
        let (cycle, cycles) = watch::channel(0);
        let tasks: Vec<_> = outputs
            .into_iter()
            .map(|o| {
                o.once()
                    .start(exposition.clone(), cycles.clone(), std::future::pending())
            })
            .collect();
        // One cycle, then none: each output sends once and returns.
        cycle.send_replace(1);
        drop((cycle, cycles));
        for task in tasks {
            let _ = task.await;
        }
        for status in store.outputs() {
            if let Some(e) = status.last_error() {
                tracing::error!(output = status.name, "{e}");
                all_ok = false;
            }
        }
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Collects every group once and returns the exposition and whether every
/// group succeeded (failed groups are logged).
///
/// # Errors
/// The spec cannot run here.
pub async fn once(plan: &'static Plan) -> Result<(Vec<u8>, bool), StartupError> {
    once_with(
        plan,
        Arc::new(Context::for_run(
            plan.spec_sha256,
            Paths::default(),
            Arc::default(),
        )),
    )
    .await
}

/// [`once`], with built-in collectors reading the system `context` describes.
///
/// # Errors
/// The spec cannot run here.
pub(crate) async fn once_with(
    plan: &'static Plan,
    context: Arc<Context>,
) -> Result<(Vec<u8>, bool), StartupError> {
    let (store, all_ok) = collect_once_with(plan, context).await?;
    Ok((
        exposition::build(plan, &store, None, Format::Prometheus),
        all_ok,
    ))
}

/// Collects every group once into a fresh store; also says whether every
/// group succeeded.
///
/// # Errors
/// The spec cannot run here.
pub async fn collect_once(plan: &'static Plan) -> Result<(Arc<Store>, bool), StartupError> {
    collect_once_with(
        plan,
        Arc::new(Context::for_run(
            plan.spec_sha256,
            Paths::default(),
            Arc::default(),
        )),
    )
    .await
}

/// [`collect_once`], with built-in collectors reading the system `context`
/// describes.
///
/// # Errors
/// The spec cannot run here.
pub(crate) async fn collect_once_with(
    plan: &'static Plan,
    context: Arc<Context>,
) -> Result<(Arc<Store>, bool), StartupError> {
    let store = Arc::new(Store::new(plan.groups.len()));
    let scheduler = Scheduler::new(plan, store.clone(), context)?;
    for handle in scheduler.start_cycle(0) {
        let _ = handle.await;
    }
    let all_ok = store.all().iter().all(|s| s.status.up);
    Ok((store, all_ok))
}

/// Binds the listeners and starts collecting; returns at once.
///
/// # Errors
/// The spec cannot run here, or an address cannot be bound.
pub async fn start(plan: &'static Plan, options: &Options) -> Result<Running, Error> {
    let plan = enabled(plan, options).map_err(Error::Collectors)?;
    let prepared = Prepared::new(plan, options)?;
    let statsd = Statsd::bind(plan, options).await?;
    let statsd_addr = statsd.udp_addr;
    let (metrics_listener, metrics_addr) = bind(options.web_listen_address).await?;
    let (health_listener, health_addr) = bind(options.health_listen_address).await?;
    if let Some(user) = &options.user {
        // After binding (a port below 1024 needs root), before any source
        // is read.
        drop_privileges(plan, user)?;
    }
    let mut core = prepared.run(options, Some(health_addr), statsd);
    let scheme = if core.state.web.current().tls.is_some() {
        "https"
    } else {
        "http"
    };
    for (listener, endpoint) in [
        (metrics_listener, Endpoint::Metrics),
        (health_listener, Endpoint::Health),
    ] {
        core.tasks.push(tokio::spawn(http::serve(
            listener,
            endpoint,
            core.state.clone(),
            options.web_max_connections,
            until_stopped(core.stopped.clone()),
        )));
    }
    tracing::info!("serving metrics on {scheme}://{metrics_addr}/metrics");
    tracing::info!("serving health on {scheme}://{health_addr}/health");
    Ok(Running {
        metrics_addr,
        health_addr,
        statsd_addr,
        stop: core.stop,
        tasks: core.tasks,
    })
}

/// The embedded pattern: collects and runs the outputs as [`start`] does,
/// but binds nothing; the application serves [`Embedded::service`] on its
/// own server (it answers `/metrics` and `/metrics/<service>`, with the
/// content negotiation, gzip, credentials and rate limit of
/// `--web.config.file`).
///
/// # Errors
/// The spec cannot run here, or an option does not apply: `--user` (the
/// application drops its own privileges).
pub async fn embed(plan: &'static Plan, options: &Options) -> Result<Embedded, Error> {
    if options.user.is_some() {
        return Err(Error::User(
            "applies to the pme binary; an application that embeds pme drops its own privileges"
                .to_owned(),
        ));
    }
    let prepared = Prepared::new(plan, options)?;
    let statsd = Statsd::bind(plan, options).await?;
    let core = prepared.run(options, None, statsd);
    Ok(Embedded {
        service: MetricsService::new(core.state.clone()),
        stop: core.stop,
        tasks: core.tasks,
    })
}

/// A spec running inside an application: what serves its metrics, and a
/// way to stop it.
#[derive(Debug)]
pub struct Embedded {
    service: MetricsService,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Embedded {
    /// A `tower::Service` (and hyper `Service`) answering `/metrics`; clone
    /// it freely. With axum: `Router::new().route_service("/metrics", embedded.service())`.
    pub fn service(&self) -> MetricsService {
        self.service.clone()
    }

    /// Stops collecting and the outputs.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// What both [`start`] and [`embed`] build before they serve.
struct Prepared {
    scheduler: Scheduler,
    state: State,
    exposition: Arc<Exposition>,
}

/// The statsd listeners the options ask for, bound.
#[derive(Default)]
struct Statsd {
    sockets: Vec<statsd::Socket>,
    udp_addr: Option<SocketAddr>,
}

impl Statsd {
    async fn bind(plan: &Plan, options: &Options) -> Result<Statsd, Error> {
        let wanted =
            options.statsd_listen_udp.is_some() || options.statsd_listen_unixgram.is_some();
        if wanted && plan.instruments.is_empty() {
            return Err(Error::Statsd(
                "the spec declares no instruments, so statsd lines would have nothing to update; declare them under a service's `instruments:`".to_owned(),
            ));
        }
        let mut out = Statsd::default();
        if let Some(addr) = options.statsd_listen_udp {
            let socket = tokio::net::UdpSocket::bind(addr)
                .await
                .map_err(|source| Error::Bind { addr, source })?;
            let local = socket
                .local_addr()
                .map_err(|source| Error::Bind { addr, source })?;
            tracing::info!("receiving statsd lines on udp://{local}");
            out.sockets.push(statsd::Socket::Udp(socket));
            out.udp_addr = Some(local);
        }
        if let Some(path) = &options.statsd_listen_unixgram {
            let socket = statsd::bind_unix(path)
                .map_err(|e| Error::Statsd(format!("{}: {e}", path.display())))?;
            tracing::info!("receiving statsd lines on unixgram://{}", path.display());
            out.sockets.push(statsd::Socket::Unix(socket));
        }
        Ok(out)
    }
}

/// A started plan: its shared state, its tasks, and their stop signal.
struct Core {
    state: Arc<State>,
    stop: watch::Sender<bool>,
    stopped: watch::Receiver<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Resolves when `rx` says stop.
async fn until_stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

impl Prepared {
    fn new(plan: &'static Plan, options: &Options) -> Result<Prepared, Error> {
        let store = Arc::new(Store::new(plan.groups.len()));
        let server = Arc::new(ServerStats::default());
        let context = Context::for_run(plan.spec_sha256, options.paths(), server.clone());
        let scheduler = Scheduler::new(plan, store.clone(), Arc::new(context))?;
        let web = Web::load(options.web_config_file.clone()).map_err(Error::WebConfig)?;
        let probes = Probes::new(plan, scheduler.prober()).map_err(Error::Parameters)?;
        let exposition = Arc::new(Exposition::new(plan, store, server.clone()));
        let on_demand = scheduler.clone();
        Ok(Prepared {
            scheduler,
            state: State {
                exposition: exposition.clone(),
                health_addr: None,
                web,
                probes,
                server,
                on_demand,
                started: std::time::SystemTime::now(),
                last_collect: std::sync::Mutex::new(None),
            },
            exposition,
        })
    }

    /// Starts collecting, the outputs and the SIGHUP reload of the web
    /// configuration.
    fn run(self, options: &Options, health_addr: Option<SocketAddr>, statsd: Statsd) -> Core {
        let (stop, stopped) = watch::channel(false);
        let state = Arc::new(State {
            health_addr,
            ..self.state
        });
        let (cycles, cycles_done) = watch::channel(0);
        let mut tasks = vec![tokio::spawn(
            self.scheduler.run(cycles, until_stopped(stopped.clone())),
        )];
        if options.web_config_file.is_some() {
            tasks.push(tokio::spawn(reload_on_sighup(
                state.clone(),
                until_stopped(stopped.clone()),
            )));
        }
        let plan = self.exposition.plan;
        for socket in statsd.sockets {
            tasks.push(tokio::spawn(statsd::serve(
                socket,
                plan,
                until_stopped(stopped.clone()),
            )));
        }
        for output in outputs::configured(options) {
            tasks.push(output.start(
                self.exposition.clone(),
                cycles_done.clone(),
                until_stopped(stopped.clone()),
            ));
        }
        Core {
            state,
            stop,
            stopped,
            tasks,
        }
    }
}

/// Connections the kernel queues for a listener that has reached
/// `--web.max-connections` (tokio's default is 128; Go servers such as
/// node_exporter take the system's maximum). Beyond it, new connections'
/// SYNs are dropped and clients retry.
const LISTEN_BACKLOG: u32 = 1024;

/// A listener on `addr`, and the address it took (the port, for `:0`).
async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), Error> {
    let error = |source| Error::Bind { addr, source };
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(error)?;
    // As std's and tokio's `bind` do: a restart may rebind at once.
    socket.set_reuseaddr(true).map_err(error)?;
    socket.bind(addr).map_err(error)?;
    let listener = socket.listen(LISTEN_BACKLOG).map_err(error)?;
    let local = listener.local_addr().map_err(error)?;
    Ok((listener, local))
}

/// Registers SIGTERM and SIGINT handlers now; the future resolves on either.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            // Without handlers the default action (exit) still applies.
            _ => std::future::pending().await,
        }
    }
}

/// Becomes `user` (`USER` or `USER:GROUP`) for good, in every thread (libc
/// applies set*id calls process-wide).
fn drop_privileges(plan: &Plan, user: &str) -> Result<(), Error> {
    if let Some(service) = plan
        .sources
        .iter()
        .enumerate()
        .find(|(_, s)| s.run_as.is_some())
        .and_then(|(i, _)| plan.groups.iter().find(|g| g.source == i))
    {
        return Err(Error::User(format!(
            "service `{}` uses run_as, which needs pme's privileges; drop --user or run_as",
            service.service
        )));
    }
    let (name, group) = match user.split_once(':') {
        Some((name, group)) => (name, Some(group)),
        None => (user, None),
    };
    let identity = Identity::resolve(name, group).map_err(Error::User)?;
    nix::unistd::setgroups(&identity.groups)
        .and_then(|()| nix::unistd::setgid(identity.gid))
        .and_then(|()| nix::unistd::setuid(identity.uid))
        .map_err(|e| Error::User(format!("cannot become uid {}: {e}", identity.uid)))?;
    tracing::info!("running as uid {} gid {}", identity.uid, identity.gid);
    Ok(())
}

/// Re-reads the web configuration on each SIGHUP until `stop` resolves.
async fn reload_on_sighup(state: Arc<State>, stop: impl std::future::Future<Output = ()>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangup) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; reload with POST /-/reload");
        return;
    };
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = hangup.recv() => {
                if let Err(e) = state.web.reload() {
                    tracing::error!("reload failed, the previous web configuration stays: {e}");
                }
            }
            () = &mut stop => return,
        }
    }
}

/// `pme systemd-unit`: checks the flags as pme would read them, then
/// prints the unit.
fn print_unit(plan: &Plan, flags: &[String]) -> ExitCode {
    let argv = std::iter::once("pme".to_owned()).chain(flags.iter().cloned());
    let options = match Options::try_parse_from(argv) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("the flags after `--` are not pme's: {e}");
            return ExitCode::FAILURE;
        }
    };
    let exe = std::env::current_exe().unwrap_or_else(|_| "/usr/local/bin/pme".into());
    print!("{}", crate::systemd::unit(plan, &exe, flags, &options));
    ExitCode::SUCCESS
}
