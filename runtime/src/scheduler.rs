//! Runs the plan: a global tick; on tick `n` every group with
//! `n % every == 0` is due, each due source is read once, and its bytes go
//! to every due group that reads it.
//!
//! Each source is read in its own task, so a slow source delays no other;
//! a source still being read when it is due again is not read twice (its
//! groups record a skipped collection). Results go to the [`Store`], which
//! scrapes read without waiting.

mod per_file;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::collect::{Context, Run};
use crate::encode::Format;
use crate::instances::Labeller;
use crate::metric::{ExtractErrors, MetricGroup};
use crate::plan::{self, GroupPlan, Plan, ProbePlan, SourceKind, SourcePlan};
use crate::sources::{Access, Reading, RunAsState, Source, SourceError};
use crate::store::{FileCounts, GroupStatus, Snapshot, Store};
use per_file::PerFile;

/// A group's collector and what it last parsed; locked only by the task
/// collecting the group.
#[derive(Debug)]
struct GroupState {
    collector: Collector,
    /// The version of the content last extracted, and that extraction's
    /// outcome: its error, and the series it dropped over `max_series`
    /// (counted again each time the same content is collected).
    parsed: Option<(u64, Extracted)>,
}

/// What extracting one reading gave.
#[derive(Clone, Debug)]
struct Extracted {
    error: Option<String>,
    dropped: u64,
}

/// A generated collector, fed by its source, or one that reads for itself.
#[derive(Debug)]
enum Collector {
    Extract(Box<dyn MetricGroup>),
    /// One generated collector per file a path pattern matches.
    PerFile(PerFile),
    Instance {
        /// `None` while a collection has it (see [`Taken`]).
        run: Option<Run>,
        /// The spec's labels for this instance.
        labeller: Arc<Labeller>,
    },
}

impl Collector {
    /// The generated collector of `group`, fed by `source`: one per file
    /// for a path pattern. `None` for a collector that reads for itself.
    fn fed(group: &GroupPlan, source: &SourcePlan) -> Option<Collector> {
        let plan::Collector::Extract(new) = group.collector else {
            return None;
        };
        Some(match source.kind {
            SourceKind::Files { labels, .. } => Collector::PerFile(PerFile::new(new, labels)),
            _ => Collector::Extract(new()),
        })
    }
}

type SharedCollector = Arc<Mutex<GroupState>>;

/// A problem that stops pme from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A `run_as` identity could not be resolved or assumed.
    #[error("service `{service}`: run_as: {message}")]
    RunAs {
        /// The service whose `run_as` failed.
        service: &'static str,
        /// Why.
        message: String,
    },
    /// A collector could not be made from its options.
    #[error("group `{service}/{group}`: {message}")]
    Collector {
        /// Its service.
        service: &'static str,
        /// The group.
        group: &'static str,
        /// Why.
        message: String,
    },
    /// Two collectors of different types, or a collector and a spec group,
    /// serve the same family: the exposition would carry it twice.
    #[error(
        "family `{family}` is served by {first} and by {second}; every family must come from one place"
    )]
    Family {
        /// The family.
        family: &'static str,
        /// What serves it first, in spec order.
        first: String,
        /// What serves it too.
        second: String,
    },
}

/// The running state of a plan. A clone shares it (sources, collectors,
/// store), for collections on demand (`POST /collect`).
#[derive(Clone, Debug)]
pub(crate) struct Scheduler {
    plan: &'static Plan,
    sources: Vec<Arc<Source>>,
    /// For each source, the groups that read it.
    readers: Vec<Vec<usize>>,
    collectors: Vec<SharedCollector>,
    store: Arc<Store>,
    context: Arc<Context>,
}

impl Scheduler {
    /// Prepares every source and collector; resolves `run_as` identities.
    /// Built-in collectors read the system described by `context`.
    ///
    /// # Errors
    /// An unknown user or group, or a `run_as` that needs privileges pme
    /// does not have.
    pub(crate) fn new(
        plan: &'static Plan,
        store: Arc<Store>,
        context: Arc<Context>,
    ) -> Result<Self, StartupError> {
        let mut sources = Vec::with_capacity(plan.sources.len());
        for (i, source) in plan.sources.iter().enumerate() {
            let service = plan
                .groups
                .iter()
                .find(|g| g.source == i)
                .map_or("?", |g| g.service);
            let access = match &source.run_as {
                None => Access::Own,
                Some(run_as) => match RunAsState::prepare(run_as) {
                    Ok(state) => Access::As(state),
                    Err(message) if run_as.optional => {
                        tracing::warn!(service, "optional service skipped: run_as: {message}");
                        Access::Unavailable(format!("run_as: {message}"))
                    }
                    Err(message) => return Err(StartupError::RunAs { service, message }),
                },
            };
            sources.push(Arc::new(Source::new(source, access)));
        }
        let mut collectors = Vec::with_capacity(plan.groups.len());
        for g in plan.groups {
            let collector = match &g.collector {
                plan::Collector::Extract(_) => Collector::fed(g, &plan.sources[g.source])
                    .ok_or_else(|| StartupError::Collector {
                        service: g.service,
                        group: g.group,
                        message: "no generated collector".to_owned(),
                    })?,
                plan::Collector::Instance(instance) => Collector::Instance {
                    run: Some(
                        (instance.new)()
                            .map_err(|message| StartupError::Collector {
                                service: g.service,
                                group: g.group,
                                message,
                            })?
                            .0,
                    ),
                    labeller: Arc::new(Labeller::new(instance.labels)),
                },
            };
            collectors.push(Arc::new(Mutex::new(GroupState {
                collector,
                parsed: None,
            })));
        }
        check_families(plan, &collectors)?;
        let readers = (0..plan.sources.len())
            .map(|s| {
                (0..plan.groups.len())
                    .filter(|&g| plan.groups[g].source == s)
                    .collect()
            })
            .collect();
        Ok(Scheduler {
            plan,
            sources,
            readers,
            collectors,
            store,
            context,
        })
    }

    /// Reads group `g`'s source once and extracts it with a fresh
    /// collector, leaving the scheduled state alone: what `?debug` shows.
    /// A source being read already is not read twice.
    pub(crate) async fn debug(&self, g: usize) -> Debugged {
        let group = &self.plan.groups[g];
        let source = &self.sources[group.source];
        let Some(collector) = Collector::fed(group, &self.plan.sources[group.source]) else {
            return Debugged::NotFed;
        };
        if !source.try_start() {
            return Debugged::Busy;
        }
        let (reading, snapshot) = read_once(collector, source, &[], Instant::now()).await;
        source.finish();
        Debugged::Read {
            reading: reading.map(|r| r.content).map_err(|e| e.to_string()),
            snapshot: Box::new(snapshot),
        }
    }

    /// What the built-in collectors read, as detected at start.
    pub(crate) fn context(&self) -> &Context {
        &self.context
    }

    /// What collects the services with parameters, once per request, with
    /// the sources prepared here (identities resolved).
    pub(crate) fn prober(&self) -> Prober {
        Prober {
            sources: self.sources.clone(),
            plans: self.plan.sources,
        }
    }

    /// Starts the reads due on tick `tick`; the handles finish when every
    /// due group has published.
    pub(crate) fn start_cycle(&self, tick: u64) -> Vec<JoinHandle<()>> {
        let due = |g: usize| tick.is_multiple_of(u64::from(self.plan.groups[g].every));
        let (handles, busy) = self.start(due);
        for g in busy {
            tracing::warn!(
                service = self.plan.groups[g].service,
                group = self.plan.groups[g].group,
                "previous read of this source still running; skipping this cycle"
            );
            self.record_skip(g);
        }
        handles
    }

    /// Starts a collection of the groups `chosen` now, out of schedule
    /// (`POST /collect`); the handles finish when they have published.
    /// A group whose source is being read is not started twice: it is
    /// returned as busy, and nothing is recorded for it.
    pub(crate) fn collect_now(&self, chosen: &[usize]) -> (Vec<JoinHandle<()>>, Vec<usize>) {
        self.start(|g| chosen.contains(&g))
    }

    /// Starts a read of each source with a group `due`, for those groups;
    /// also the groups whose source was still being read.
    fn start(&self, due: impl Fn(usize) -> bool) -> (Vec<JoinHandle<()>>, Vec<usize>) {
        let mut handles = Vec::new();
        let mut busy = Vec::new();
        for (source, readers) in self.sources.iter().zip(&self.readers) {
            let due: Vec<usize> = readers.iter().copied().filter(|&g| due(g)).collect();
            if due.is_empty() {
                continue;
            }
            if !source.try_start() {
                busy.extend(due);
                continue;
            }
            let source = source.clone();
            let store = self.store.clone();
            let plan = self.plan;
            let groups: Vec<(usize, SharedCollector)> = due
                .iter()
                .map(|&g| (g, self.collectors[g].clone()))
                .collect();
            if source.is_collector() {
                handles.extend(groups.into_iter().map(|(g, collector)| {
                    let timeout = plan.groups[g].timeout;
                    let run =
                        run_instance(source.clone(), collector, self.context.clone(), timeout);
                    tokio::spawn(publish_instance(run, plan, g, store.clone()))
                }));
                continue;
            }
            handles.push(tokio::spawn(async move {
                let started = Instant::now();
                let reading = source.read().await;
                source.finish();
                let exit_code = exit_code(&source, &reading);
                for (g, collector) in groups {
                    let previous = store.get(g);
                    let mut snapshot = collect(&collector, &reading, &previous, started);
                    snapshot.status.exit_code = exit_code;
                    log_transition(&plan.groups[g], &previous.status, &mut snapshot.status);
                    log_dropped_files(&plan.groups[g], &previous.status, &snapshot.status);
                    store.publish(g, snapshot);
                }
            }));
        }
        (handles, busy)
    }

    /// Ticks until `shutdown` resolves. When every read a tick started has
    /// been published, the tick's number is sent on `cycles` (outputs such
    /// as the textfile and the pushers write then).
    pub(crate) async fn run(
        self,
        cycles: watch::Sender<u64>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let mut interval = tokio::time::interval(self.plan.tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        tokio::pin!(shutdown);
        let cycles = Arc::new(cycles);
        let mut tick: u64 = 0;
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    // Reads run on their own; the tick never waits for them.
                    let handles = self.start_cycle(tick);
                    let cycles = cycles.clone();
                    tokio::spawn(async move {
                        for handle in handles {
                            let _ = handle.await;
                        }
                        cycles.send_replace(tick);
                    });
                    tick += 1;
                }
                () = &mut shutdown => break,
            }
        }
    }

    fn record_skip(&self, g: usize) {
        let previous = self.store.get(g);
        let mut status = previous.status.clone();
        status.collections += 1;
        status.errors += 1;
        status.up = false;
        status.last_error = Some((
            SystemTime::now(),
            "skipped: the previous read of this source is still running".to_owned(),
        ));
        self.store.publish(
            g,
            Snapshot {
                status,
                ..(*previous).clone()
            },
        );
    }
}

/// One group read for `?debug`.
#[derive(Debug)]
pub(crate) enum Debugged {
    /// The source's bytes (or why there are none) and what they gave.
    Read {
        reading: Result<Bytes, String>,
        snapshot: Box<Snapshot>,
    },
    /// A collector that reads for itself: there is no reading to show.
    NotFed,
    /// Its source was being read.
    Busy,
}

/// Collects the services with parameters ([`Plan::probes`]): each request
/// runs the service's groups once, through the same [`collect`] as a
/// scheduled tick.
#[derive(Debug, Clone)]
pub(crate) struct Prober {
    sources: Vec<Arc<Source>>,
    plans: &'static [SourcePlan],
}

impl Prober {
    /// Runs every group of `probe` once, with `args` put into its command
    /// arguments and URLs, and `labels` on every series; the snapshot of
    /// each group, in order. The source's own timeout bounds each read (a
    /// command is killed).
    pub(crate) async fn probe(
        &self,
        probe: &ProbePlan,
        args: &[(&str, &str)],
        labels: &[(&str, &str)],
    ) -> Vec<Snapshot> {
        let labeller = Labeller::new(labels);
        let mut snapshots = Vec::with_capacity(probe.groups.len());
        for group in probe.groups {
            let started = Instant::now();
            // The build refuses built-in collectors in services with parameters.
            let Some(collector) = Collector::fed(group, &self.plans[group.source]) else {
                let error = Some("no extractor for a built-in collector".to_owned());
                snapshots.push(next_snapshot(&Snapshot::default(), started, error, None));
                continue;
            };
            let source = &self.sources[group.source];
            let (_, mut snapshot) = read_once(collector, source, args, started).await;
            if !labels.is_empty() {
                label(&mut snapshot, &labeller);
            }
            if let Some((_, e)) = &snapshot.status.last_error {
                tracing::debug!(
                    service = group.service,
                    group = group.group,
                    "collection failed: {e}"
                );
            }
            snapshots.push(snapshot);
        }
        snapshots
    }
}

/// One read of `source` with `args`, extracted by `collector` alone (not
/// the scheduled one): a per-request collection, or `?debug`'s.
async fn read_once(
    collector: Collector,
    source: &Source,
    args: &[(&str, &str)],
    started: Instant,
) -> (Result<Reading, SourceError>, Snapshot) {
    let state = Mutex::new(GroupState {
        collector,
        parsed: None,
    });
    let reading = source.read_with(args).await;
    let mut snapshot = collect(&state, &reading, &Snapshot::default(), started);
    snapshot.status.exit_code = exit_code(source, &reading);
    (reading, snapshot)
}

/// A target's labels on every series of `snapshot`; a series that sets
/// one of them itself (a re-import can) fails the group.
fn label(snapshot: &mut Snapshot, labeller: &Labeller) {
    match (
        labeller.apply(&snapshot.body),
        labeller.apply(&snapshot.openmetrics),
    ) {
        (Ok(body), Ok(openmetrics)) => {
            snapshot.body = body.into();
            snapshot.openmetrics = openmetrics.into();
        }
        (Err(e), _) | (_, Err(e)) => {
            snapshot.body = Bytes::new();
            snapshot.openmetrics = Bytes::new();
            snapshot.status.up = false;
            snapshot.status.last_error = Some((SystemTime::now(), e));
        }
    }
}

/// A command's exit code after a read (0 when it succeeded, none when it
/// was killed); none for other sources.
fn exit_code(source: &Source, reading: &Result<Reading, SourceError>) -> Option<i32> {
    match reading {
        _ if !source.is_command() => None,
        Ok(_) => Some(0),
        Err(e) => e.exit_code(),
    }
}

/// How often a group that keeps failing the same way is logged again.
const REPEAT_WARNING: std::time::Duration = std::time::Duration::from_secs(300);

/// Logs a group going down (or failing differently) at warn and coming
/// back at info. An unchanged failure is logged again at most every
/// [`REPEAT_WARNING`], so each failing group says so a few times an hour,
/// not every tick; `after.warned` remembers when it last did.
fn log_transition(group: &GroupPlan, before: &GroupStatus, after: &mut GroupStatus) {
    let (service, group) = (group.service, group.group);
    let message = |s: &GroupStatus| s.last_error.as_ref().map(|(_, m)| m.clone());
    let reason = message(after).unwrap_or_default();
    after.warned = before.warned;
    match (before.up || before.collections == 0, after.up) {
        (_, true) if !before.up && before.collections > 0 => {
            after.warned = None;
            tracing::info!(service, group, "collection recovered");
        }
        (_, true) => {}
        (true, false) => {
            after.warned = Some(Instant::now());
            tracing::warn!(service, group, reason, "collection failed");
        }
        (false, false) if message(before) != message(after) => {
            after.warned = Some(Instant::now());
            tracing::warn!(service, group, reason, "collection failed");
        }
        (false, false) if before.warned.is_none_or(|t| t.elapsed() >= REPEAT_WARNING) => {
            after.warned = Some(Instant::now());
            tracing::warn!(
                service,
                group,
                reason,
                errors = after.errors,
                "collection still failing"
            );
        }
        (false, false) => tracing::debug!(service, group, "collection still failing"),
    }
}

/// Logs a path pattern starting to match more files than `max_files`.
fn log_dropped_files(group: &GroupPlan, before: &GroupStatus, after: &GroupStatus) {
    let Some(now) = after.files else { return };
    if now.last_dropped > 0 && before.files.is_none_or(|f| f.last_dropped == 0) {
        tracing::warn!(
            service = group.service,
            group = group.group,
            "{} more files match than max_files allows; they are not read (pme_file_matches_dropped_total)",
            now.last_dropped
        );
    }
}

/// What one collection of an instance gives: its error, and its bodies
/// in both formats unless it failed before encoding.
type Outcome = (Option<String>, Option<(Bytes, Bytes)>);

/// A collection of an instance, and whether it runs on a blocking thread
/// (which a timeout cannot stop) or as a task (which it drops).
struct Collection {
    handle: JoinHandle<Outcome>,
    blocking: bool,
}

/// Takes an instance's collector out of its state for one collection and
/// puts it back when dropped, even when the collection is dropped at its
/// timeout or panics; releases the source then too, so an instance is
/// never run twice at once.
struct Taken {
    state: SharedCollector,
    source: Arc<Source>,
    run: Option<Run>,
    labeller: Arc<Labeller>,
}

impl Taken {
    fn new(state: SharedCollector, source: Arc<Source>) -> Taken {
        let (run, labeller) = {
            let mut locked = state.lock().unwrap_or_else(|p| p.into_inner());
            match &mut locked.collector {
                Collector::Instance { run, labeller } => (run.take(), labeller.clone()),
                Collector::Extract(_) | Collector::PerFile(_) => (None, Arc::default()),
            }
        };
        Taken {
            state,
            source,
            run,
            labeller,
        }
    }

    /// The outcome of a collection that returned `error` (if any): both
    /// bodies of the collector as it is now, with the spec's labels.
    fn outcome(&self, error: Option<ExtractErrors>) -> Outcome {
        let error = error.map(|e| format!("collect: {e}"));
        let Some(run) = &self.run else {
            return (error, None);
        };
        let encode = |format| {
            let mut out = Vec::with_capacity(256);
            run.group().encode(&mut out, format);
            self.labeller.apply(&out).map(Bytes::from)
        };
        match (encode(Format::Prometheus), encode(Format::OpenMetrics)) {
            (Ok(text), Ok(openmetrics)) => (error, Some((text, openmetrics))),
            (Err(e), _) | (_, Err(e)) => (error.or(Some(format!("labels: {e}"))), None),
        }
    }
}

impl Drop for Taken {
    fn drop(&mut self) {
        if let Some(run) = self.run.take() {
            let mut locked = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if let Collector::Instance { run: slot, .. } = &mut locked.collector {
                *slot = Some(run);
            }
        }
        self.source.finish();
    }
}

/// Runs an instance: a [`Collect`](crate::collect::Collect) one on a
/// blocking thread (it reads files and calls statfs, which can hang on a
/// dead network mount), a [`CollectAsync`](crate::collect::CollectAsync)
/// one as a task, dropped at `timeout`.
fn run_instance(
    source: Arc<Source>,
    state: SharedCollector,
    context: Arc<Context>,
    timeout: std::time::Duration,
) -> Collection {
    let mut taken = Taken::new(state, source);
    let blocking = !matches!(taken.run, Some(Run::Async(_)));
    let handle = if blocking {
        tokio::task::spawn_blocking(move || {
            let error = match taken.run.as_mut() {
                Some(Run::Blocking(c)) => c.collect(&context).err(),
                _ => Some(ExtractErrors::reading("no blocking collector".to_owned())),
            };
            taken.outcome(error)
        })
    } else {
        tokio::spawn(async move {
            let result = match taken.run.as_mut() {
                Some(Run::Async(c)) => {
                    tokio::time::timeout(timeout, c.collect_boxed(&context)).await
                }
                _ => Ok(Err(ExtractErrors::reading("no async collector".to_owned()))),
            };
            match result {
                Ok(result) => taken.outcome(result.err()),
                Err(_) => (
                    Some(format!("collect: timed out after {timeout:?}; cancelled")),
                    None,
                ),
            }
        })
    };
    Collection { handle, blocking }
}

/// Every family comes from one place: one spec group, or the instances of
/// one collector type (which share it, each with its labels). The build
/// checks spec groups and built-ins; a collector from another crate is
/// known only once made.
fn check_families(plan: &Plan, collectors: &[SharedCollector]) -> Result<(), StartupError> {
    let mut owners: HashMap<&'static str, String> = HashMap::new();
    for (g, state) in plan.groups.iter().zip(collectors) {
        let owner = match &g.collector {
            plan::Collector::Instance(instance) => format!("collector `{}`", instance.collector),
            plan::Collector::Extract(_) => format!("group `{}/{}`", g.service, g.group),
        };
        let locked = state.lock().unwrap_or_else(|p| p.into_inner());
        let families = match &locked.collector {
            Collector::Extract(group) => group.families(),
            Collector::PerFile(files) => files.families(),
            Collector::Instance { run, .. } => run
                .as_ref()
                .map(|r| r.group().families())
                .unwrap_or_default(),
        };
        for family in families {
            match owners.get(family) {
                Some(first) if *first != owner => {
                    return Err(StartupError::Family {
                        family,
                        first: first.clone(),
                        second: owner,
                    });
                }
                Some(_) => {}
                None => {
                    owners.insert(family, owner.clone());
                }
            }
        }
    }
    Ok(())
}

/// Publishes what an instance's collection produced, or that it timed out.
async fn publish_instance(
    collection: Collection,
    plan: &'static Plan,
    g: usize,
    store: Arc<Store>,
) {
    let started = Instant::now();
    let group = &plan.groups[g];
    let joined = if collection.blocking {
        tokio::time::timeout(group.timeout, collection.handle).await
    } else {
        Ok(collection.handle.await)
    };
    let (error, bodies) = match joined {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) => (Some(format!("collect: {e}")), None),
        Err(_) => (
            Some(format!(
                "collect: timed out after {:?}; later cycles are skipped until it returns",
                group.timeout
            )),
            None,
        ),
    };
    let previous = store.get(g);
    let mut snapshot = next_snapshot(&previous, started, error, bodies);
    log_transition(group, &previous.status, &mut snapshot.status);
    store.publish(g, snapshot);
}

/// Applies one reading to one group and builds its next snapshot. Content
/// the group already parsed is not parsed again: the outcome is the same.
fn collect(
    state: &Mutex<GroupState>,
    reading: &Result<Reading, SourceError>,
    previous: &Snapshot,
    started: Instant,
) -> Snapshot {
    let mut guard = state.lock().unwrap_or_else(|p| p.into_inner());
    let state = &mut *guard;
    let (outcome, changed) = match reading {
        Ok(reading) => match &state.parsed {
            Some((version, outcome)) if *version == reading.version => (outcome.clone(), false),
            _ => {
                let before = series_dropped(&state.collector);
                let error = extract(&mut state.collector, reading);
                let dropped = series_dropped(&state.collector) - before;
                let outcome = Extracted { error, dropped };
                state.parsed = Some((reading.version, outcome.clone()));
                (outcome, true)
            }
        },
        Err(e) => {
            match &mut state.collector {
                Collector::Extract(group) => group.fail(),
                Collector::PerFile(files) => files.fail(),
                Collector::Instance { .. } => {}
            }
            // Whatever comes next must be parsed again, even if it is the
            // content parsed before the failure.
            state.parsed = None;
            let error = Some(format!("read: {e}"));
            (Extracted { error, dropped: 0 }, true)
        }
    };
    let Extracted { error, dropped } = outcome;
    let (error, bodies) = if changed {
        match encode(&state.collector, previous) {
            Ok(bodies) => (error, Some(bodies)),
            Err(e) => (error.or(Some(e)), None),
        }
    } else {
        (error, None)
    };
    let mut snapshot = next_snapshot(previous, started, error, bodies);
    snapshot.status.series_dropped = previous.status.series_dropped + dropped;
    if let (Collector::PerFile(_), Ok(Reading { files: Some(m), .. })) = (&state.collector, reading)
    {
        let dropped = previous.status.files.map_or(0, |f| f.dropped);
        snapshot.status.files = Some(FileCounts {
            read: m.files.len() as u64,
            last_dropped: m.dropped,
            dropped: dropped + m.dropped,
        });
    }
    snapshot
}

/// Series the collector dropped over `max_series` since it was made.
fn series_dropped(collector: &Collector) -> u64 {
    match collector {
        Collector::Extract(group) => group.series_dropped(),
        Collector::PerFile(files) => files.series_dropped(),
        Collector::Instance { .. } => 0,
    }
}

/// Extracts a reading with the group's collector (each file's, for a
/// path pattern); the error, if any.
fn extract(collector: &mut Collector, reading: &Reading) -> Option<String> {
    match (collector, &reading.files) {
        (Collector::Extract(group), None) => group
            .extract(&reading.content)
            .err()
            .map(|e| format!("extract: {e}")),
        (Collector::PerFile(files), Some(matches)) => files.extract(matches),
        _ => Some("the reading does not fit the group's collector".to_owned()),
    }
}

/// The group's families in both formats.
fn encode(collector: &Collector, previous: &Snapshot) -> Result<(Bytes, Bytes), String> {
    let encode = |format, previous: &Bytes| match collector {
        Collector::Extract(group) => {
            let mut out = Vec::with_capacity(previous.len().max(256));
            group.encode(&mut out, format);
            Ok(Bytes::from(out))
        }
        Collector::PerFile(files) => files.encode(format).map_err(|e| format!("labels: {e}")),
        Collector::Instance { .. } => Err("not a collector fed by a source".to_owned()),
    };
    Ok((
        encode(Format::Prometheus, &previous.body)?,
        encode(Format::OpenMetrics, &previous.openmetrics)?,
    ))
}

/// The snapshot after a collection that began at `started` and failed with
/// `error` (if any); `bodies` are the newly encoded families, or `None`
/// to keep the previous ones.
fn next_snapshot(
    previous: &Snapshot,
    started: Instant,
    error: Option<String>,
    bodies: Option<(Bytes, Bytes)>,
) -> Snapshot {
    let (body, openmetrics) =
        bodies.unwrap_or_else(|| (previous.body.clone(), previous.openmetrics.clone()));
    let now = SystemTime::now();
    let mut status = GroupStatus {
        collections: previous.status.collections + 1,
        last_duration: started.elapsed(),
        ..previous.status.clone()
    };
    match error {
        None => {
            status.up = true;
            status.last_success = Some(now);
        }
        Some(message) => {
            status.up = false;
            status.errors += 1;
            status.last_error = Some((now, message));
        }
    }
    Snapshot {
        body,
        openmetrics,
        status,
    }
}
