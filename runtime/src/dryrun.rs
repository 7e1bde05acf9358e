//! `--dry-run`: checks that the plan can run on this host and prints it,
//! without collecting anything.
//!
//! Checked for every source: its `run_as` user and groups exist and pme may
//! switch to them; a command's program is found (on the `PATH` it will run
//! with) and executable; a file opens with the rights it will be read
//! with; an HTTP host resolves; a collector is made from its options.
//! Nothing is run and no file content read.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use pme_content::duration::format as dur;

use crate::plan::{Collector, GroupPlan, Plan, SourceKind, SourcePlan};

use crate::sources::RunAsState;
use crate::sources::files::Glob;
use crate::sources::identity::RUN_AS_PATH;

/// The report, and whether every check passed.
pub async fn check(plan: &'static Plan) -> (String, bool) {
    let mut report = String::new();
    let mut all_ok = true;
    let _ = writeln!(
        report,
        "plan of {}: a tick of {}, {} sources",
        plan.spec,
        dur(plan.tick),
        plan.sources.len()
    );
    let scheduled = plan.groups.iter().map(|g| (g, Some(g.period(plan))));
    let per_request = plan
        .probes
        .iter()
        .flat_map(|p| p.groups.iter().map(|g| (g, None)));
    for (group, period) in scheduled.chain(per_request) {
        let when = match period {
            Some(p) => format!("every {}", dur(p)),
            None => format!("per request to /metrics/{}", group.service),
        };
        let _ = writeln!(
            report,
            "group {}/{}: {when}, timeout {}, source #{}",
            group.service,
            group.group,
            dur(group.timeout),
            group.source
        );
    }
    for (i, source) in plan.sources.iter().enumerate() {
        let owner = owner(plan, i);
        let result = check_source(plan, i, source).await;
        all_ok &= result.is_ok();
        let (verdict, text) = match result {
            Ok(text) => ("ok  ", text),
            Err(text) => ("FAIL", text),
        };
        let _ = writeln!(report, "{verdict} source #{i} ({owner}): {text}");
    }
    let _ = writeln!(
        report,
        "{}",
        if all_ok {
            "every check passed"
        } else {
            "some checks failed"
        }
    );
    (report, all_ok)
}

/// A collector's source `i`: its instance is made from the spec's options,
/// as at start, and dropped; `from_options` is where a bad value shows.
fn made(plan: &Plan, i: usize, name: &str) -> Result<String, String> {
    let instance = plan.groups.iter().find_map(|g| match &g.collector {
        Collector::Instance(instance) if g.source == i => Some(instance),
        _ => None,
    });
    match instance {
        None => Ok(format!("collector `{name}`")),
        Some(instance) => match (instance.new)() {
            Ok(_) => Ok(format!("collector `{name}` made from its options")),
            Err(e) => Err(format!("collector `{name}`: {e}")),
        },
    }
}

/// `service/group` of the first group reading source `i`.
fn owner(plan: &Plan, i: usize) -> String {
    plan.groups
        .iter()
        .chain(plan.probes.iter().flat_map(|p| p.groups))
        .find(|g: &&GroupPlan| g.source == i)
        .map_or_else(
            || "unused".to_owned(),
            |g| format!("{}/{}", g.service, g.group),
        )
}

async fn check_source(plan: &Plan, i: usize, source: &SourcePlan) -> Result<String, String> {
    let run_as = match &source.run_as {
        None => None,
        Some(r) => Some(RunAsState::prepare(r).map_err(|e| format!("run_as: {e}"))?),
    };
    let who = run_as.as_ref().map_or_else(String::new, |r| {
        format!(" as uid {} gid {}", r.identity.uid, r.identity.gid)
    });
    match &source.kind {
        SourceKind::Command {
            argv, environment, ..
        } => {
            let path = environment
                .iter()
                .find(|(n, _)| *n == "PATH")
                .map(|(_, v)| (*v).to_owned())
                .or_else(|| run_as.as_ref().map(|_| RUN_AS_PATH.to_owned()))
                .or_else(|| std::env::var("PATH").ok())
                .unwrap_or_default();
            let program = find_program(argv[0], &path)
                .ok_or_else(|| format!("command `{}` not found on PATH {path}", argv[0]))?;
            Ok(format!(
                "command `{}` is {}{who}",
                argv.join(" "),
                program.display()
            ))
        }
        SourceKind::File { path } => {
            open_as(path, run_as.as_ref())?;
            Ok(format!("file {path} opens{who}"))
        }
        SourceKind::Files {
            pattern, max_files, ..
        } => {
            let glob = Glob::new(pattern, *max_files)?;
            let (found, dropped) = glob.expand();
            for (path, _) in &found {
                open_as(path, run_as.as_ref())?;
            }
            let past = if dropped > 0 {
                format!("; {dropped} more past max_files {max_files} are not read")
            } else {
                String::new()
            };
            Ok(format!(
                "pattern {pattern} matches {} files that open{who}{past}",
                found.len()
            ))
        }
        SourceKind::Static { .. } => Ok("static value".to_owned()),
        SourceKind::Collector { name } => made(plan, i, name),
        SourceKind::Http(http) => {
            if !http.url.contains('{') {
                return resolve(http.url).await;
            }
            // A template: each declared target's URL, or a host per request.
            let targets = plan
                .probes
                .iter()
                .find(|p| p.groups.iter().any(|g| g.source == i))
                .map_or(&[][..], |p| p.targets);
            if targets.is_empty() {
                return Ok(format!("{}: the host is chosen per request", http.url));
            }
            let mut lines = Vec::with_capacity(targets.len());
            for t in targets {
                let url = http.url.replacen("{target}", t.url, 1);
                lines.push(format!("target {}: {}", t.name, resolve(&url).await?));
            }
            Ok(lines.join("; "))
        }
    }
}

/// Whether `url`'s host resolves, and to what.
async fn resolve(url: &str) -> Result<String, String> {
    let authority = url
        .split_once("://")
        .map(|(scheme, rest)| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            let default = if scheme == "https" { 443 } else { 80 };
            if host
                .rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            {
                host.to_owned()
            } else {
                format!("{host}:{default}")
            }
        })
        .unwrap_or_default();
    let addrs: Vec<_> = tokio::net::lookup_host(&authority)
        .await
        .map_err(|e| format!("{url}: {authority} does not resolve: {e}"))?
        .collect();
    Ok(format!("{url} resolves to {addrs:?}"))
}

/// `name` as exec would find it: a path, or the first executable file of
/// that name on `path`.
fn find_program(name: &str, path: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        let p = PathBuf::from(name);
        return executable(&p).then_some(p);
    }
    path.split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| executable(p))
}

/// Opens (and closes) `path` with the rights it will be read with.
fn open_as(path: &str, run_as: Option<&RunAsState>) -> Result<(), String> {
    let owned = path.to_owned();
    let open = move || {
        std::fs::File::open(&owned)
            .map(drop)
            .map_err(|e| format!("{owned}: {e}"))
    };
    match run_as.filter(|r| r.switch) {
        None => open(),
        Some(r) => {
            let (tx, rx) = std::sync::mpsc::channel();
            let shown = path.to_owned();
            r.identity
                .spawn_with_file_rights(move |assumed| {
                    let _ = tx.send(
                        assumed
                            .map_err(|e| format!("{shown}: {e}"))
                            .and_then(|()| open()),
                    );
                })
                .map_err(|e| format!("{path}: cannot start a thread: {e}"))?;
            rx.recv()
                .unwrap_or_else(|_| Err(format!("{path}: the check panicked")))
        }
    }
}
