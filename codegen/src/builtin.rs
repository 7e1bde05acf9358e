//! The catalog of built-in collectors (`source_type: builtin`): their
//! names, types, the families each one serves and the options it takes.
//!
//! The collectors themselves are hand-written in the runtime's
//! `runtime/src/collect/`, as any crate writes one; this table lets the
//! build check a spec's use of them at its line (a family may come from
//! one place only, options must be known and valid regexes), which it
//! cannot do for another crate's collector. A unit test in `pme` checks
//! that it matches the collectors' own declarations.

/// One built-in collector.
#[derive(Debug)]
pub struct Builtin {
    /// Its `source:` name.
    pub name: &'static str,
    /// Its type in `pme::collect::builtin`.
    pub rust: &'static str,
    /// What it reads, for docs and messages.
    pub reads: &'static str,
    /// Every family it serves.
    pub families: &'static [&'static str],
    /// The options it takes (all are regexes; their defaults are the
    /// `Default` of its options struct).
    pub options: &'static [&'static str],
}

/// Every built-in collector.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "memory",
        rust: "Memory",
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
        rust: "Filesystem",
        reads: "the mount table and statfs(2) of each mount",
        families: &[
            "node_filesystem_size_bytes",
            "node_filesystem_free_bytes",
            "node_filesystem_avail_bytes",
            "node_filesystem_usage_bytes",
            "node_filesystem_device_error",
        ],
        options: &["exclude_fstypes", "exclude_mountpoints"],
    },
    Builtin {
        name: "processes",
        rust: "Processes",
        reads: "the process directories of /proc",
        families: &["node_processes_total"],
        options: &[],
    },
    Builtin {
        name: "load",
        rust: "Load",
        reads: "/proc/loadavg",
        families: &["node_load1", "node_load5", "node_load15"],
        options: &[],
    },
    Builtin {
        name: "cpu",
        rust: "Cpu",
        reads: "/proc/stat",
        families: &["node_cpu_seconds_total"],
        options: &[],
    },
    Builtin {
        name: "network",
        rust: "Network",
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
        options: &["exclude_devices"],
    },
    Builtin {
        name: "containers",
        rust: "Containers",
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
        rust: "Process",
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
        rust: "Exporter",
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
/// against the catalog. Returns the collector and the options the spec
/// gives when the group is valid; every problem is reported.
pub(crate) fn check(
    g: &crate::spec::Group,
    d: &mut crate::diagnostic::Diagnostics,
) -> Option<(&'static Builtin, Vec<(String, crate::ir::OptionValue)>)> {
    let mut ok = crate::collector::refuse_source_keys(g, d);
    if let Some(collector) = &g.collector {
        d.error_help(
            collector.pos,
            "`collector` names the type of a `source_type: collector` group",
            "a built-in is named by `source`; or write `source_type: collector`",
        );
        ok = false;
    }
    let builtin = named(g, d)?;
    let given = g
        .options
        .as_ref()
        .map(|(_, o)| o.as_slice())
        .unwrap_or_default();
    ok &= check_options(builtin, given, d);
    let options = given
        .iter()
        .map(|(k, v)| (k.value.clone(), crate::collector::value(v)))
        .collect();
    ok.then_some((builtin, options))
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
    given: &[(crate::spec::Sp<String>, crate::spec::OptionValue)],
    d: &mut crate::diagnostic::Diagnostics,
) -> bool {
    let mut ok = true;
    for (key, value) in given {
        if !builtin.options.contains(&key.value.as_str()) {
            let known: Vec<&str> = builtin.options.to_vec();
            let help = if known.is_empty() {
                format!("`{}` takes no options", builtin.name)
            } else {
                crate::diagnostic::one_of(&key.value, &known)
            };
            d.error_help(key.pos, format!("unknown option `{}`", key.value), help);
            ok = false;
        } else {
            let crate::spec::OptionKind::Str(pattern) = &value.kind else {
                d.error(
                    value.pos,
                    format!("option `{}` is a regex: write a string", key.value),
                );
                ok = false;
                continue;
            };
            if let Err(e) = regex::Regex::new(pattern) {
                d.error(
                    value.pos,
                    format!("option `{}`: invalid regex: {e}", key.value),
                );
                ok = false;
            }
        }
    }
    ok
}

/// Collectors have fixed names and read as pme: a service setting that
/// would silently not apply to them is refused. (Its `labels` apply: they
/// are added to each series.)
pub(crate) fn check_service(
    service: &crate::spec::Service,
    d: &mut crate::diagnostic::Diagnostics,
) {
    let Some(first) = service
        .groups
        .iter()
        .find(|g| crate::collector::is_collector(g))
    else {
        return;
    };
    let settings = [
        (
            "metric_prefix",
            service.metric_prefix.as_ref().map(|p| p.pos),
        ),
        ("run_as", service.run_as.as_ref().map(|r| r.pos)),
        ("parameters", service.parameters.first().map(|p| p.name.pos)),
        ("targets", service.targets.first().map(|t| t.name.pos)),
    ];
    for (key, pos) in settings {
        if let Some(pos) = pos {
            d.error_help(
                pos,
                format!(
                    "service `{}` sets `{key}`, which its collector `{}` cannot honour",
                    service.id.value, first.id.value
                ),
                "collectors keep their own family names, are collected on schedule and read as pme; put them in a service of their own",
            );
        }
    }
}
