//! The catalog of built-in collectors (`source_type: builtin`): their
//! names, the families each one serves and the options it takes.
//!
//! The collectors themselves are hand-written in the runtime's `runtime/src/builtin/`;
//! this table is what the spec is checked against at build time (a family
//! may come from one place only, options must be known and valid). A unit
//! test in `pme` checks that it matches the collectors' own declarations.

/// One built-in collector.
#[derive(Debug)]
pub struct Builtin {
    /// Its `source:` name.
    pub name: &'static str,
    /// What it reads, for docs and messages.
    pub reads: &'static str,
    /// Every family it serves.
    pub families: &'static [&'static str],
    /// The options it takes: name and default (all are regexes).
    pub options: &'static [(&'static str, &'static str)],
}

/// node_exporter's defaults (`--collector.filesystem.fs-types-exclude`):
/// pseudo and read-only image filesystems that have no space to report.
pub const DEFAULT_EXCLUDE_FSTYPES: &str = "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$";
/// node_exporter's default (`--collector.filesystem.mount-points-exclude`).
pub const DEFAULT_EXCLUDE_MOUNTPOINTS: &str =
    "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";

/// Every built-in collector.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "memory",
        reads: "/proc/meminfo, or the container's cgroup inside LXC",
        families: &[
            "node_memory_total_bytes",
            "node_memory_free_bytes",
            "node_memory_available_bytes",
            "node_memory_usage_bytes",
        ],
        options: &[],
    },
    Builtin {
        name: "filesystem",
        reads: "the mount table and statfs(2) of each mount",
        families: &[
            "node_filesystem_size_bytes",
            "node_filesystem_free_bytes",
            "node_filesystem_avail_bytes",
            "node_filesystem_usage_bytes",
            "node_filesystem_device_error",
        ],
        options: &[
            ("exclude_fstypes", DEFAULT_EXCLUDE_FSTYPES),
            ("exclude_mountpoints", DEFAULT_EXCLUDE_MOUNTPOINTS),
        ],
    },
    Builtin {
        name: "processes",
        reads: "the process directories of /proc",
        families: &["node_processes_total"],
        options: &[],
    },
    Builtin {
        name: "load",
        reads: "/proc/loadavg",
        families: &["node_load1", "node_load5", "node_load15"],
        options: &[],
    },
    Builtin {
        name: "cpu",
        reads: "/proc/stat",
        families: &["node_cpu_seconds_total"],
        options: &[],
    },
    Builtin {
        name: "network",
        reads: "/proc/net/dev",
        families: &[
            "node_network_receive_bytes_total",
            "node_network_transmit_bytes_total",
            "node_network_receive_packets_total",
            "node_network_transmit_packets_total",
            "node_network_receive_errs_total",
            "node_network_transmit_errs_total",
            "node_network_receive_drop_total",
            "node_network_transmit_drop_total",
        ],
        options: &[("exclude_devices", "^$")],
    },
    Builtin {
        name: "containers",
        reads: "a Proxmox host's container configs and their cgroup v2 tree",
        families: &[
            "pve_container_up",
            "pve_container_memory_usage_bytes",
            "pve_container_memory_limit_bytes",
            "pve_container_cpu_seconds_total",
            "pve_container_io_read_bytes_total",
            "pve_container_io_write_bytes_total",
            "pve_container_processes",
        ],
        options: &[],
    },
    Builtin {
        name: "process",
        reads: "pme's own /proc/self",
        families: &[
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_virtual_memory_bytes",
            "process_open_fds",
            "process_max_fds",
            "process_start_time_seconds",
        ],
        options: &[],
    },
    Builtin {
        name: "exporter",
        reads: "pme's own counters",
        families: &[
            "pme_build_info",
            "pme_uptime_seconds",
            "pme_http_requests_total",
            "pme_http_request_seconds_total",
            "pme_exposition_builds_total",
            "pme_exposition_build_seconds_total",
        ],
        options: &[],
    },
];

/// pme's own names: the per-group and per-output self-metrics, and the
/// families of the `exporter` built-in, which a spec may only get by
/// enabling it.
pub fn reserved() -> impl Iterator<Item = &'static str> {
    let exporter = find("exporter").map_or(&[][..], |b| b.families);
    crate::names::RESERVED_METRIC_NAMES
        .iter()
        .chain(exporter)
        .copied()
}

/// Whether `name` is one of [`reserved`].
pub fn is_reserved(name: &str) -> bool {
    reserved().any(|r| r == name)
}

/// The collector called `name`.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// Every collector name, for "expected one of" messages.
pub fn names() -> Vec<&'static str> {
    BUILTINS.iter().map(|b| b.name).collect()
}

/// What a `source_type: builtin` group may and may not say, checked
/// against the catalog. Returns the source (options with defaults filled
/// in) when the group is valid; every problem is reported.
pub(crate) fn check(
    g: &crate::spec::Group,
    d: &mut crate::diagnostic::Diagnostics,
) -> Option<(&'static Builtin, crate::ir::SourceKind)> {
    let mut ok = refuse_source_keys(g, d);
    let builtin = named(g, d)?;
    let given = g
        .options
        .as_ref()
        .map(|(_, o)| o.as_slice())
        .unwrap_or_default();
    ok &= check_options(builtin, given, d);
    let options = builtin
        .options
        .iter()
        .map(|(name, default)| {
            let value = given
                .iter()
                .find(|(k, _)| k.value == *name)
                .map_or(*default, |(_, v)| v.value.as_str());
            ((*name).to_owned(), value.to_owned())
        })
        .collect();
    ok.then(|| {
        (
            builtin,
            crate::ir::SourceKind::Builtin {
                name: builtin.name.to_owned(),
                options,
            },
        )
    })
}

/// The group keys of other sources, which a built-in does not read.
fn refuse_source_keys(g: &crate::spec::Group, d: &mut crate::diagnostic::Diagnostics) -> bool {
    let not_here = [
        ("shell", g.shell.as_ref().map(|s| s.pos)),
        ("content_type", g.content_type.as_ref().map(|s| s.pos)),
        ("max_bytes", g.max_bytes.as_ref().map(|s| s.pos)),
        ("http", g.http.as_ref().map(|s| s.pos)),
        ("sample", g.sample.as_ref().map(|s| s.pos)),
        ("expect", g.expect.as_ref().map(|(pos, _)| *pos)),
    ];
    let mut ok = true;
    for (key, pos) in not_here {
        if let Some(pos) = pos {
            d.error_help(
                pos,
                format!("`{key}` does not apply to a built-in collector"),
                "a built-in reads the system itself; only `source`, `options`, `collection_frequency` and `timeout` apply",
            );
            ok = false;
        }
    }
    ok
}

/// The collector `source` names: one known word.
fn named(
    g: &crate::spec::Group,
    d: &mut crate::diagnostic::Diagnostics,
) -> Option<&'static Builtin> {
    use crate::diagnostic::one_of;
    use crate::spec::SourceText;
    match &g.source {
        Some(SourceText::Text(name)) => {
            let found = find(&name.value);
            if found.is_none() {
                d.error_help(
                    name.pos,
                    format!("unknown built-in collector `{}`", name.value),
                    one_of(&name.value, &names()),
                );
            }
            found
        }
        Some(SourceText::Argv(pos, _)) => {
            d.error_help(
                *pos,
                "a built-in collector is named by one word",
                one_of("", &names()),
            );
            None
        }
        None => {
            d.error_help(
                g.id.pos,
                format!("`{}` has no `source`", g.id.value),
                one_of("", &names()),
            );
            None
        }
    }
}

/// Every option given is one the collector takes, and a valid regex.
fn check_options(
    builtin: &Builtin,
    given: &[(crate::spec::Sp<String>, crate::spec::Sp<String>)],
    d: &mut crate::diagnostic::Diagnostics,
) -> bool {
    let mut ok = true;
    for (key, value) in given {
        if !builtin.options.iter().any(|(name, _)| *name == key.value) {
            let known: Vec<&str> = builtin.options.iter().map(|(n, _)| *n).collect();
            let help = if known.is_empty() {
                format!("`{}` takes no options", builtin.name)
            } else {
                crate::diagnostic::one_of(&key.value, &known)
            };
            d.error_help(key.pos, format!("unknown option `{}`", key.value), help);
            ok = false;
        } else if let Err(e) = regex::Regex::new(&value.value) {
            d.error(
                value.pos,
                format!("option `{}`: invalid regex: {e}", key.value),
            );
            ok = false;
        }
    }
    ok
}

/// Built-ins have fixed names and labels and read as pme itself: a
/// service setting that would silently not apply to them is refused.
pub(crate) fn check_service(
    service: &crate::spec::Service,
    d: &mut crate::diagnostic::Diagnostics,
) {
    let Some(first) = service
        .groups
        .iter()
        .find(|g| g.source_type.as_ref().is_some_and(|t| t.value == "builtin"))
    else {
        return;
    };
    let settings = [
        ("labels", service.labels.first().map(|(k, _)| k.pos)),
        (
            "metric_prefix",
            service.metric_prefix.as_ref().map(|p| p.pos),
        ),
        ("run_as", service.run_as.as_ref().map(|r| r.pos)),
        ("parameters", service.parameters.first().map(|p| p.name.pos)),
    ];
    for (key, pos) in settings {
        if let Some(pos) = pos {
            d.error_help(
                pos,
                format!(
                    "service `{}` sets `{key}`, which its built-in collector `{}` cannot honour",
                    service.id.value, first.id.value
                ),
                "built-ins keep node_exporter's names and labels and read as pme; put them in a service of their own",
            );
        }
    }
}
