//! `/metrics/<service>`: one service's metrics.
//!
//! For a scheduled service, its groups' latest snapshots. For a service
//! collected per request, a collection run for this request:
//!
//! - With `parameters`, the query string must give every parameter
//!   exactly once, each value must match its pattern, and values that
//!   could act as an option (`-…`), climb a path (`..`) or carry control
//!   characters are refused too. A value that fills a URL's host must be a
//!   host name or address (and port), nothing that could move the request
//!   elsewhere. Values reach a command as whole arguments, never through
//!   a shell.
//! - With `targets`, the query names one declared target (`target=<name>`)
//!   and nothing else; its URL and labels are the spec's.
//!
//! Nothing in a request chooses a command, a file, a scheme or a path:
//! only values for the places the spec marked.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;
use regex::Regex;
use tokio::sync::Semaphore;

use super::routes::{self, text};
use super::{State, negotiate};
use crate::encode::Format;
use crate::exposition;
use crate::plan::{Fills, Plan, ProbePlan};
use crate::scheduler::Prober;
use crate::selfmetrics::Entry;
use hyper::header::ACCEPT;

/// Per-request collections allowed at once (each may run commands).
const IN_FLIGHT: usize = 8;

/// The services with parameters, their patterns compiled once, and what
/// collects them.
#[derive(Debug)]
pub(crate) struct Probes {
    /// For each [`Plan::probes`] entry, each parameter's anchored pattern.
    patterns: Vec<Vec<Regex>>,
    in_flight: Semaphore,
    prober: Prober,
}

impl Probes {
    /// Compiles every parameter pattern of `plan`; `prober` collects them.
    ///
    /// # Errors
    /// A pattern that does not compile (the build checks them, so only a
    /// hand-written plan can fail here).
    pub(crate) fn new(plan: &Plan, prober: Prober) -> Result<Probes, String> {
        let patterns = plan
            .probes
            .iter()
            .map(|probe| {
                probe
                    .parameters
                    .iter()
                    .map(|p| {
                        Regex::new(&format!("^(?:{})$", p.pattern)).map_err(|e| {
                            format!("service `{}`: parameter `{}`: {e}", probe.service, p.name)
                        })
                    })
                    .collect()
            })
            .collect::<Result<_, String>>()?;
        Ok(Probes {
            patterns,
            in_flight: Semaphore::new(IN_FLIGHT),
            prober,
        })
    }
}

type Reply = Response<Full<Bytes>>;

/// Answers `/metrics/<service>` (`path` is what follows `/metrics/`).
pub(crate) async fn metrics<B>(req: &Request<B>, service: &str, state: &State) -> Reply {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return routes::method_not_allowed("GET, HEAD");
    }
    let query = req.uri().query().unwrap_or("");
    let choice = negotiate::format(routes::header(req, ACCEPT));
    let plan = state.exposition.plan;
    let reply = if let Some(i) = plan.probes.iter().position(|p| p.service == service) {
        let probe = &plan.probes[i];
        match arguments(probe, &state.probes.patterns[i], query) {
            Err(why) => text(StatusCode::BAD_REQUEST, why),
            Ok(request) => match state.probes.in_flight.try_acquire() {
                Err(_) => text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("{IN_FLIGHT} collections are running; try again\n"),
                ),
                Ok(_permit) => {
                    let body =
                        probe_body(&state.probes.prober, probe, &request, choice.format).await;
                    routes::exposition_reply(choice.content_type, Bytes::from(body), false)
                }
            },
        }
    } else if plan.groups.iter().any(|g| g.service == service) {
        if query == "debug" {
            return routes::head_if(req, super::debug::debug(service, state).await);
        }
        if query.is_empty() {
            let body = state.exposition.service(service, choice.format);
            routes::exposition_reply(choice.content_type, Bytes::from(body), false)
        } else {
            text(
                StatusCode::BAD_REQUEST,
                format!("service `{service}` takes no parameters (`?debug` shows its readings)\n"),
            )
        }
    } else {
        return routes::not_found();
    };
    routes::head_if(req, reply)
}

/// What a checked query asks for.
#[derive(Debug, PartialEq)]
struct Checked {
    /// `(name, value)` of every parameter, or `("target", url)` of the
    /// named target.
    args: Vec<(&'static str, String)>,
    /// The named target's labels.
    labels: &'static [(&'static str, &'static str)],
}

/// The checked query, or why it is refused.
fn arguments(probe: &ProbePlan, patterns: &[Regex], query: &str) -> Result<Checked, String> {
    if !probe.targets.is_empty() {
        return target(probe, query);
    }
    let mut values: Vec<Option<String>> = vec![None; probe.parameters.len()];
    for pair in pairs(query) {
        let (name, raw_value) = pair?;
        let Some(i) = probe.parameters.iter().position(|p| p.name == name) else {
            return Err(format!(
                "unknown parameter `{}`; `{}` takes {}\n",
                name.escape_debug(),
                probe.service,
                names(probe)
            ));
        };
        if values[i].is_some() {
            return Err(format!("parameter `{name}` given twice\n"));
        }
        let value = decode(raw_value).map_err(|e| format!("parameter `{name}`: {e}\n"))?;
        check_value(&value, &patterns[i], probe.parameters[i].fills)
            .map_err(|why| format!("parameter `{name}`: {why}\n"))?;
        values[i] = Some(value);
    }
    let args = probe
        .parameters
        .iter()
        .zip(values)
        .map(|(p, v)| {
            v.map(|v| (p.name, v)).ok_or_else(|| {
                format!(
                    "missing parameter `{}`; `{}` takes {}\n",
                    p.name,
                    probe.service,
                    names(probe)
                )
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Checked { args, labels: &[] })
}

/// `target=<name>` of a declared target, and nothing else.
fn target(probe: &ProbePlan, query: &str) -> Result<Checked, String> {
    let declared = || listed(probe.targets.iter().map(|t| t.name));
    let mut named = None;
    for pair in pairs(query) {
        let (name, raw_value) = pair?;
        if name != "target" {
            return Err(format!(
                "unknown parameter `{}`; `{}` takes `target` only\n",
                name.escape_debug(),
                probe.service
            ));
        }
        if named.is_some() {
            return Err("parameter `target` given twice\n".to_owned());
        }
        let value = decode(raw_value).map_err(|e| format!("parameter `target`: {e}\n"))?;
        let Some(t) = probe.targets.iter().find(|t| t.name == value) else {
            return Err(format!(
                "unknown target `{}`; `{}` declares {}\n",
                value.escape_debug(),
                probe.service,
                declared()
            ));
        };
        named = Some(t);
    }
    let t = named.ok_or_else(|| {
        format!(
            "missing parameter `target`; `{}` declares {}\n",
            probe.service,
            declared()
        )
    })?;
    Ok(Checked {
        args: vec![("target", t.url.to_owned())],
        labels: t.labels,
    })
}

fn names(probe: &ProbePlan) -> String {
    listed(probe.parameters.iter().map(|p| p.name))
}

/// `` `a`, `b` ``.
fn listed<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each `name=value` of a query: the name decoded, the value as sent.
pub(super) fn pairs(query: &str) -> impl Iterator<Item = Result<(String, &str), String>> {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(raw_name).map_err(|e| format!("parameter name: {e}\n"))?;
        Ok((name, raw_value))
    })
}

/// Query-string decoding: `+` is a space, `%XX` a byte; the result must
/// be UTF-8.
pub(super) fn decode(raw: &str) -> Result<String, &'static str> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|v| v.into_owned())
        .map_err(|_| "not UTF-8 once decoded")
}

/// The rules every value obeys, whatever its pattern allows, and those of
/// the place it fills.
fn check_value(value: &str, pattern: &Regex, fills: Fills) -> Result<(), String> {
    if value.chars().any(char::is_control) {
        return Err("control characters are not allowed".to_owned());
    }
    if value.starts_with('-') {
        return Err("a value may not start with `-` (it would read as an option)".to_owned());
    }
    if value.split(['/', '\\']).any(|segment| segment == "..") {
        return Err("`..` path segments are not allowed".to_owned());
    }
    if !pattern.is_match(value) {
        return Err(format!(
            "`{}` does not match `{}`",
            value.escape_debug(),
            pattern.as_str()
        ));
    }
    match fills {
        Fills::Argument => Ok(()),
        Fills::Host => pme_content::authority::check_host(value),
        Fills::HostAndPort => pme_content::authority::check_host_port(value),
    }
}

/// Collects `probe` once for `request` and writes its exposition: the
/// groups' series and self-metrics (no period, so no counters).
async fn probe_body(
    prober: &Prober,
    probe: &ProbePlan,
    request: &Checked,
    format: Format,
) -> Vec<u8> {
    let args: Vec<(&str, &str)> = request.args.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let snapshots = prober.probe(probe, &args, request.labels).await;
    let entries: Vec<Entry<'_>> = probe
        .groups
        .iter()
        .zip(&snapshots)
        .map(|(group, snapshot)| Entry {
            group,
            period: None,
            snapshot,
        })
        .collect();
    exposition::assemble(&entries, &[], &[], format)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Parameter, Target};

    static PROBE: ProbePlan = ProbePlan {
        service: "ping",
        parameters: &[
            Parameter {
                name: "target",
                pattern: "[a-z0-9.-]+",
                fills: Fills::Argument,
            },
            Parameter {
                name: "path",
                pattern: "[a-z0-9./]+",
                fills: Fills::Argument,
            },
        ],
        targets: &[],
        groups: &[],
    };

    static NODES: ProbePlan = ProbePlan {
        service: "nodes",
        parameters: &[Parameter {
            name: "target",
            pattern: ".+",
            fills: Fills::HostAndPort,
        }],
        targets: &[],
        groups: &[],
    };

    static SITES: ProbePlan = ProbePlan {
        service: "sites",
        parameters: &[],
        targets: &[
            Target {
                name: "eu",
                url: "https://eu.example",
                labels: &[("region", "eu")],
            },
            Target {
                name: "us",
                url: "https://us.example",
                labels: &[],
            },
        ],
        groups: &[],
    };

    fn check_with(probe: &ProbePlan, query: &str) -> Result<Checked, String> {
        let patterns: Vec<Regex> = probe
            .parameters
            .iter()
            .map(|p| Regex::new(&format!("^(?:{})$", p.pattern)).unwrap())
            .collect();
        arguments(probe, &patterns, query)
    }

    fn check(query: &str) -> Result<Vec<(&'static str, String)>, String> {
        check_with(&PROBE, query).map(|c| c.args)
    }

    #[test]
    fn good_values_pass_decoded() {
        assert_eq!(
            check("target=db1.example&path=var%2Flib").unwrap(),
            [
                ("target", "db1.example".to_owned()),
                ("path", "var/lib".to_owned())
            ]
        );
    }

    #[test]
    fn hostile_values_are_refused_with_the_reason() {
        for (query, reason) in [
            ("target=a;rm+-rf+/&path=x", "does not match"),
            ("target=$(id)&path=x", "does not match"),
            ("target=a%60id%60&path=x", "does not match"),
            ("target=a|b&path=x", "does not match"),
            ("target=a&path=../../etc/passwd", "`..` path segments"),
            ("target=a&path=x/..", "`..` path segments"),
            ("target=--output=x&path=x", "may not start with `-`"),
            ("target=a%0Ab&path=x", "control characters"),
            ("target=a%00&path=x", "control characters"),
            ("target=%ff&path=x", "not UTF-8"),
            ("target=a&target=b&path=x", "given twice"),
            ("target=a", "missing parameter `path`"),
            ("target=a&path=x&cmd=ls", "unknown parameter `cmd`"),
        ] {
            let err = check(query).expect_err(query);
            assert!(err.contains(reason), "{query}: {err}");
        }
    }

    #[test]
    fn a_host_value_is_a_host_whatever_its_pattern_allows() {
        let ok = check_with(&NODES, "target=127.0.0.1%3A9100").unwrap();
        assert_eq!(ok.args, [("target", "127.0.0.1:9100".to_owned())]);
        for (query, reason) in [
            ("target=evil.example%40127.0.0.1", "not a host name"),
            ("target=127.0.0.1%2Fadmin", "not a host name"),
            ("target=http://127.0.0.1", "not a host name"),
            ("target=127.0.0.1:99999", "port `99999`"),
            ("target=127.0.0.1%23frag", "not a host name"),
        ] {
            let err = check_with(&NODES, query).expect_err(query);
            assert!(err.contains(reason), "{query}: {err}");
        }
    }

    #[test]
    fn a_target_is_named_and_brings_its_url_and_labels() {
        let eu = check_with(&SITES, "target=eu").unwrap();
        assert_eq!(eu.args, [("target", "https://eu.example".to_owned())]);
        assert_eq!(eu.labels, [("region", "eu")]);
        for (query, reason) in [
            ("target=https://evil.example", "unknown target"),
            ("target=EU", "unknown target"),
            ("target=eu&target=us", "given twice"),
            ("target=eu&url=x", "unknown parameter `url`"),
            (
                "",
                "missing parameter `target`; `sites` declares `eu`, `us`",
            ),
        ] {
            let err = check_with(&SITES, query).expect_err(query);
            assert!(err.contains(reason), "{query}: {err}");
        }
    }
}
