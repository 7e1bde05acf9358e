//! The collection plan the generated code declares: sources, groups and
//! their periods. Everything here is `'static` data written by
//! `pme-codegen`; the scheduler only reads it.

use std::time::Duration;

pub(crate) mod describe;

use crate::collect::Instance;
use crate::metric::MetricGroup;

/// A whole spec's plan (the binary's `generated::PLAN` for the built-in spec).
#[derive(Debug)]
pub struct Plan {
    /// The spec file it was generated from.
    pub spec: &'static str,
    /// SHA-256 of the spec's bytes, in hex.
    pub spec_sha256: &'static str,
    /// The global tick; every period is a multiple of it.
    pub tick: Duration,
    /// Distinct sources: groups that read the same thing share an entry.
    pub sources: &'static [SourcePlan],
    /// Every scheduled group and standalone metric, in spec order.
    pub groups: &'static [GroupPlan],
    /// Services with parameters or targets, collected per request at
    /// `/metrics/<service>`.
    pub probes: &'static [ProbePlan],
    /// Application instruments (`instruments:` of a service), which the
    /// application updates and every exposition includes.
    pub instruments: &'static [InstrumentsPlan],
    /// Every family the spec declares, for `pme describe`.
    pub catalog: &'static [CatalogEntry],
}

/// One family (or, for a re-import or a collector, one set of families)
/// the binary can serve, as the spec declares it.
#[derive(Debug)]
pub struct CatalogEntry {
    /// The family name; a re-import's selector; a collector's type.
    pub name: &'static str,
    /// `counter`, `gauge`, `info`, `untyped`, `histogram`; `imported` for
    /// a re-import, `collector` for a collector's families.
    pub kind: &'static str,
    /// The base unit its name ends in (`seconds`, `bytes`), or `""`.
    pub unit: &'static str,
    /// HELP text (empty for imports and collectors: theirs come with them).
    pub help: &'static str,
    /// Its labels, in order.
    pub labels: &'static [CatalogLabel],
    /// Service id, and the group (or instrument) id.
    pub service: &'static str,
    pub group: &'static str,
    /// `command`, `file`, `files`, `static`, `http`, `collector` or
    /// `instrument`.
    pub source: &'static str,
    /// Collected every this many ticks; 0 per request or for instruments.
    pub every: u32,
    /// Line in the spec.
    pub line: u32,
    /// The most series it can have (closed labels, `max_series`); `None`
    /// when the source decides.
    pub max_series: Option<u64>,
}

/// A label of a catalogued family.
#[derive(Debug)]
pub struct CatalogLabel {
    /// Label name.
    pub name: &'static str,
    /// Every value it can take, when the spec closes them (a constant, an
    /// instrument's declared values); `None` when the source decides.
    pub values: Option<&'static [&'static str]>,
}

/// One service's application instruments.
#[derive(Debug)]
pub struct InstrumentsPlan {
    /// Service id.
    pub service: &'static str,
    /// Appends the service's instrument families.
    pub encode: fn(&mut Vec<u8>, pme_content::exposition::Format),
    /// The family of that name, for updates addressed by name (statsd).
    pub find: fn(&str) -> Option<crate::instrument::Target<'static>>,
}

/// A service collected per request: each request to
/// `/metrics/<service>?name=value` runs its groups once, with the values
/// put into its command arguments or its URLs' host and port, or with one
/// of its declared targets (`?target=<name>`).
#[derive(Debug)]
pub struct ProbePlan {
    /// Service id.
    pub service: &'static str,
    /// Every parameter a request must pass.
    pub parameters: &'static [Parameter],
    /// The declared targets; a request names one (`target=<name>`) and
    /// passes no parameters.
    pub targets: &'static [Target],
    /// Its groups; `every` is unused.
    pub groups: &'static [GroupPlan],
}

/// A request parameter.
#[derive(Debug)]
pub struct Parameter {
    /// Name in the query string and in `{name}` placeholders.
    pub name: &'static str,
    /// The whole value must match it (compiled once, at startup).
    pub pattern: &'static str,
    /// Where the value goes, and so what else it must be.
    pub fills: Fills,
}

/// Where a parameter's value goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fills {
    /// Command arguments only.
    Argument,
    /// A URL's host (`http://{name}:9100/…`): a DNS name, an IPv4
    /// address or `[IPv6]`.
    Host,
    /// A URL's host and optional port (`http://{name}/…`).
    HostAndPort,
}

/// A target a per-request service declares: `{target}` at the start of
/// its HTTP sources is this URL, and its labels go on every series of
/// the groups.
#[derive(Debug)]
pub struct Target {
    /// Name in `?target=<name>`.
    pub name: &'static str,
    /// Base URL (scheme, host, port, optionally a path).
    pub url: &'static str,
    /// Labels on the target's series.
    pub labels: &'static [(&'static str, &'static str)],
}

/// One source to read.
#[derive(Debug)]
pub struct SourcePlan {
    /// What to read.
    pub kind: SourceKind,
    /// Largest content accepted; more is an error.
    pub max_bytes: usize,
    /// Longest a read may take.
    pub timeout: Duration,
    /// Identity to read as.
    pub run_as: Option<RunAs>,
}

/// The kinds of sources.
#[derive(Debug)]
pub enum SourceKind {
    /// A program and its arguments; stdout is the content.
    Command {
        /// `argv[0]` is looked up in `PATH`.
        argv: &'static [&'static str],
        /// Variables set on top of the base environment (pme's own, or a
        /// clean one under `run_as`).
        environment: &'static [(&'static str, &'static str)],
        /// Where the command starts (default: pme's directory, or `/` under `run_as`).
        working_directory: Option<&'static str>,
    },
    /// A file's content.
    File {
        /// Absolute path.
        path: &'static str,
    },
    /// Every file a path pattern matches (`pme_content::glob`), each
    /// read and extracted on its own, its series labelled with the
    /// pattern's captures.
    Files {
        /// Absolute path pattern.
        pattern: &'static str,
        /// The captures' names, in the pattern's order.
        labels: &'static [&'static str],
        /// The most files read per collection, in path order; the rest
        /// are counted.
        max_files: u32,
    },
    /// A value written in the spec.
    Static {
        /// The content.
        content: &'static str,
    },
    /// An HTTP(S) request; the response body is the content.
    Http(HttpSource),
    /// Nothing for pme to read: the collector reads for itself
    /// ([`Collector::Instance`]). The entry still gives the group its
    /// timeout and keeps two of its collections from overlapping.
    Collector {
        /// The collector's type, as the spec names it.
        name: &'static str,
    },
}

/// An HTTP request as the spec declares it.
#[derive(Debug)]
pub struct HttpSource {
    /// `http://` or `https://` URL.
    pub url: &'static str,
    /// Request method.
    pub method: Method,
    /// Request body (POST).
    pub body: Option<&'static str>,
    /// Extra request headers.
    pub headers: &'static [(&'static str, &'static str)],
    /// Credentials, read at run time.
    pub auth: Option<HttpAuth>,
    /// Which responses are reused, and how long.
    pub cache: Cache,
    /// The status codes whose body is a reading; empty: any `2xx`.
    pub valid_status: &'static [u16],
    /// TLS settings other than the defaults.
    pub tls: Option<TlsClient>,
    /// An explicit `http://` proxy; without one, `HTTPS_PROXY`,
    /// `HTTP_PROXY` and `NO_PROXY` from the environment apply.
    pub proxy: Option<&'static str>,
}

/// How an HTTP source reuses responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cache {
    /// Every read is a request.
    Off,
    /// `Cache-Control: max-age` and `ETag`, as the server sends them.
    Headers,
    /// Every response is reused this long, then revalidated with its
    /// `ETag` if it had one.
    For(Duration),
}

/// TLS client settings of an HTTPS source. Files are read when the client
/// is made and again whenever one of them changes.
#[derive(Debug)]
pub struct TlsClient {
    /// PEM certificates trusted instead of the Mozilla roots.
    pub ca_file: Option<&'static str>,
    /// PEM client certificate chain and private key, for mutual TLS.
    pub client_cert: Option<(&'static str, &'static str)>,
    /// The name the server's certificate must carry, when not the URL's host.
    pub server_name: Option<&'static str>,
    /// Accept any certificate.
    pub insecure_skip_verify: bool,
}

/// HTTP methods a source may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST, with the spec's body.
    Post,
}

/// How an HTTP source authenticates.
#[derive(Debug)]
pub enum HttpAuth {
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic …`.
    Basic {
        /// User name.
        username: &'static str,
        /// Where the password is.
        password: Secret,
    },
}

/// Where a credential is read from, at each request (so rotation works).
#[derive(Debug)]
pub enum Secret {
    /// A file's contents, without the trailing newline.
    File(&'static str),
    /// An environment variable.
    Env(&'static str),
}

impl Secret {
    /// Reads the secret now.
    ///
    /// # Errors
    /// The file cannot be read or the variable is not set; the message names
    /// where, never what.
    pub fn read(&self) -> Result<String, String> {
        match self {
            Secret::File(path) => std::fs::read_to_string(path)
                .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
                .map_err(|e| format!("cannot read credential file {path}: {e}")),
            Secret::Env(var) => {
                std::env::var(var).map_err(|_| format!("credential variable {var} is not set"))
            }
        }
    }
}

/// A user (and group) to run commands as.
#[derive(Debug)]
pub struct RunAs {
    /// User name or numeric uid.
    pub user: &'static str,
    /// Group name or numeric gid; the user's primary group if `None`.
    pub group: Option<&'static str>,
    /// Where the identity cannot be assumed, the service is skipped (its
    /// groups report why) instead of pme refusing to start.
    pub optional: bool,
}

/// One metric group or standalone metric.
#[derive(Clone, Copy, Debug)]
pub struct GroupPlan {
    /// Service id.
    pub service: &'static str,
    /// Group id (the metric id for a standalone metric).
    pub group: &'static str,
    /// Index into [`Plan::sources`].
    pub source: usize,
    /// Collected on ticks that are multiples of this.
    pub every: u32,
    /// Read timeout (shared sources use the longest of their groups').
    pub timeout: Duration,
    /// What collects the group's metrics.
    pub collector: Collector,
    /// The most series its families can serve, from the spec's closed
    /// labels and `max_series`; `None` when the source decides (a
    /// collector, `match: all` without `max_series`).
    pub max_series: Option<u64>,
    /// The spec's `sample:`, served instead of the source by `--replay`.
    pub sample: Option<&'static str>,
}

/// What collects a group's metrics.
#[derive(Clone, Copy, Debug)]
pub enum Collector {
    /// A generated collector: makes the empty struct, which extracts its
    /// metrics from each reading of its source.
    Extract(fn() -> Box<dyn MetricGroup>),
    /// A collector that reads for itself (`source_type: collector`, or a
    /// built-in), made once at start.
    Instance(InstancePlan),
}

/// One instance of a collector that reads for itself.
#[derive(Clone, Copy, Debug)]
pub struct InstancePlan {
    /// Its type, as the spec names it (`pme::collect::builtin::Memory`):
    /// the instances of one type share its families in the exposition.
    pub collector: &'static str,
    /// Makes it from the spec's options.
    pub new: fn() -> Result<Instance, String>,
    /// The service's and then the group's `labels:`, added first to each
    /// of its series.
    pub labels: &'static [(&'static str, &'static str)],
}

impl Plan {
    /// The plan with only the groups `names` choose (service ids, group
    /// ids or `service/group`, as `--collectors.enabled` takes them), and
    /// only the per-request services named or holding a named group.
    /// Empty `names`: the plan itself. The new plan lives for the rest of
    /// the process.
    ///
    /// # Errors
    /// A name that matches nothing, with the names there are.
    pub fn only(&'static self, names: &[String]) -> Result<&'static Plan, String> {
        if names.is_empty() {
            return Ok(self);
        }
        let all = || {
            self.groups
                .iter()
                .chain(self.probes.iter().flat_map(|p| p.groups))
        };
        let names_group = |n: &str, g: &GroupPlan| {
            n == g.service || n == g.group || n == format!("{}/{}", g.service, g.group)
        };
        let chosen = |g: &GroupPlan| names.iter().any(|n| names_group(n, g));
        if let Some(unknown) = names.iter().find(|n| !all().any(|g| names_group(n, g))) {
            let mut known: Vec<String> = all()
                .map(|g| format!("{}/{}", g.service, g.group))
                .collect();
            known.sort();
            return Err(format!(
                "--collectors.enabled: `{unknown}` is no service or group of the spec; it has {}",
                known.join(", ")
            ));
        }
        let groups: Vec<GroupPlan> = self.groups.iter().copied().filter(|g| chosen(g)).collect();
        let probes: Vec<ProbePlan> = self
            .probes
            .iter()
            .filter(|p| p.groups.iter().any(chosen))
            .map(|p| ProbePlan {
                groups: p
                    .groups
                    .iter()
                    .copied()
                    .filter(|g| chosen(g))
                    .collect::<Vec<_>>()
                    .leak(),
                ..*p
            })
            .collect();
        Ok(Box::leak(Box::new(Plan {
            groups: groups.leak(),
            probes: probes.leak(),
            ..*self
        })))
    }
}

impl Plan {
    /// The plan `--replay` runs: each group with a `sample:` reads that
    /// sample instead of its source (a static source of its own), on its
    /// schedule, and a static value stays; every other group, and every
    /// per-request service, is left out, so no source is read. Also the ids of the groups left out.
    pub fn replay(&'static self) -> (&'static Plan, Vec<String>) {
        let mut sources: Vec<SourcePlan> = Vec::new();
        let mut groups = Vec::new();
        let mut left_out = Vec::new();
        for g in self.groups {
            let source = &self.sources[g.source];
            let replayable = !matches!(source.kind, SourceKind::Files { .. });
            // A static value reads nothing: it is its own sample.
            let own = match source.kind {
                SourceKind::Static { content } => Some(content),
                _ => None,
            };
            match g.sample.filter(|_| replayable).or(own) {
                Some(content) => {
                    sources.push(SourcePlan {
                        kind: SourceKind::Static { content },
                        max_bytes: source.max_bytes.max(content.len()),
                        timeout: g.timeout,
                        run_as: None,
                    });
                    groups.push(GroupPlan {
                        source: sources.len() - 1,
                        ..*g
                    });
                }
                None => left_out.push(format!("{}/{}", g.service, g.group)),
            }
        }
        for p in self.probes {
            left_out.extend(
                p.groups
                    .iter()
                    .map(|g| format!("{}/{}", g.service, g.group)),
            );
        }
        let plan = Plan {
            sources: sources.leak(),
            groups: groups.leak(),
            probes: &[],
            ..*self
        };
        (Box::leak(Box::new(plan)), left_out)
    }
}

impl GroupPlan {
    /// A fresh generated collector; `None` for one that reads for itself.
    pub fn new_extractor(&self) -> Option<Box<dyn MetricGroup>> {
        match &self.collector {
            Collector::Extract(new) => Some(new()),
            Collector::Instance(_) => None,
        }
    }

    /// The effective period: `every` ticks.
    pub fn period(&self, plan: &Plan) -> Duration {
        plan.tick * self.every
    }
}

/// A fresh collector of type `T`, for [`Collector::Extract`].
pub fn new_group<T: MetricGroup + Default>() -> Box<dyn MetricGroup> {
    Box::<T>::default()
}
