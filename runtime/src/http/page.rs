//! `/`: the status page. Each scheduled group with its state, last
//! success, last error, duration and period; each output with its state;
//! the services collected per request. Plain HTML that refreshes itself
//! every few seconds: readable without JavaScript, in a terminal browser
//! too.

use std::fmt::Write;
use std::time::SystemTime;

use super::State;
use crate::health;
use crate::plan::Plan;
use crate::store::Snapshot;

/// How often the page reloads itself, in seconds.
const REFRESH_SECONDS: u32 = 5;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin-bottom:1.5em}\
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}.up{color:#176f2c;font-weight:bold}.down{color:#b00020;font-weight:bold}\
.pending{color:#7a5c00}.error{font-family:monospace;white-space:pre-wrap;max-width:40em}";

/// The page as it is now.
pub(crate) fn page(state: &State) -> Vec<u8> {
    let plan = state.exposition.plan;
    let store = &state.exposition.store;
    let snapshots = store.all();
    let now = SystemTime::now();
    let down = snapshots
        .iter()
        .filter(|s| health::state(&s.status) == "down")
        .count();
    let mut html = String::with_capacity(4096 + 512 * snapshots.len());
    let _ = write!(
        html,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">\
         <title>pme: {summary}</title><style>{STYLE}</style></head><body>\n\
         <h1>pme {version}</h1>\n<p>Built from <code>{spec}</code>. \
         <a href=\"/metrics\">Metrics</a>. <span id=\"summary\">{summary}</span>; \
         this page refreshes every {REFRESH_SECONDS} s.</p>\n{health}",
        version = env!("CARGO_PKG_VERSION"),
        spec = escape(plan.spec),
        summary = summary(snapshots.len(), down),
        health = match state.health_addr {
            Some(addr) => format!(
                "<p>Health: <code>http://{addr}/health</code>, readiness: <code>/ready</code>, \
                 status: <code>/status</code>.</p>\n"
            ),
            None => String::new(),
        },
    );
    groups(&mut html, plan, &snapshots, now);
    outputs(&mut html, &health::outputs(&store.outputs()), now);
    per_request(&mut html, plan);
    html.push_str("</body></html>\n");
    html.into_bytes()
}

fn summary(groups: usize, down: usize) -> String {
    match down {
        0 => format!("{groups} groups, none down"),
        n => format!("{groups} groups, {n} down"),
    }
}

fn groups(html: &mut String, plan: &Plan, snapshots: &[std::sync::Arc<Snapshot>], now: SystemTime) {
    html.push_str(
        "<h2>Groups</h2>\n<table id=\"groups\"><tr><th>service</th><th>group</th><th>state</th>\
         <th>last success</th><th>last error</th><th>duration</th><th>period</th></tr>\n",
    );
    for (group, snapshot) in plan.groups.iter().zip(snapshots) {
        let s = &snapshot.status;
        let state = health::state(s);
        let error = match (&s.last_error, s.up) {
            (Some((at, e)), false) => format!("{} ({})", escape(e), ago(*at, now)),
            _ => String::new(),
        };
        let _ = writeln!(
            html,
            "<tr data-service=\"{service}\" data-group=\"{name}\" data-state=\"{state}\">\
             <td>{service}</td><td>{name}</td><td class=\"{state}\">{state}</td><td>{success}</td>\
             <td class=\"error\">{error}</td><td>{duration:.1} ms</td><td>{period} s</td></tr>",
            service = escape(group.service),
            name = escape(group.group),
            success = s
                .last_success
                .map_or_else(|| "never".to_owned(), |t| ago(t, now)),
            duration = s.last_duration.as_secs_f64() * 1000.0,
            period = group.period(plan).as_secs_f64(),
        );
    }
    html.push_str("</table>\n");
}

fn outputs(html: &mut String, outputs: &[health::OutputHealth], now: SystemTime) {
    if outputs.is_empty() {
        return;
    }
    html.push_str(
        "<h2>Outputs</h2>\n<table id=\"outputs\"><tr><th>output</th><th>state</th>\
         <th>last success</th><th>last error</th><th>sends</th><th>failures</th></tr>\n",
    );
    for o in outputs {
        let state = if o.healthy { "up" } else { "down" };
        let success = o.last_success.map_or_else(
            || "never".to_owned(),
            |t| {
                ago(
                    SystemTime::UNIX_EPOCH + std::time::Duration::from_secs_f64(t),
                    now,
                )
            },
        );
        let _ = writeln!(
            html,
            "<tr data-output=\"{name}\" data-state=\"{state}\"><td>{name}</td>\
             <td class=\"{state}\">{state}</td><td>{success}</td><td class=\"error\">{error}</td>\
             <td>{sends}</td><td>{failures}</td></tr>",
            name = o.name,
            error = escape(o.last_error.as_deref().unwrap_or("")),
            sends = o.sends,
            failures = o.failures,
        );
    }
    html.push_str("</table>\n");
}

fn per_request(html: &mut String, plan: &Plan) {
    if plan.probes.is_empty() {
        return;
    }
    html.push_str(
        "<h2>Collected per request</h2>\n<table id=\"per-request\"><tr><th>service</th>\
         <th>group</th><th>period</th></tr>\n",
    );
    for probe in plan.probes {
        let query: Vec<String> = if probe.targets.is_empty() {
            probe
                .parameters
                .iter()
                .map(|p| format!("{}=…", p.name))
                .collect()
        } else {
            let names: Vec<&str> = probe.targets.iter().map(|t| t.name).collect();
            vec![format!("target={}", names.join("|"))]
        };
        for group in probe.groups {
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td>{}</td><td>per request: <code>/metrics/{}?{}</code></td></tr>",
                escape(group.service),
                escape(group.group),
                escape(probe.service),
                escape(&query.join("&")),
            );
        }
    }
    html.push_str("</table>\n");
}

/// `12 s ago`, `3 min ago`, `2 h ago`.
fn ago(at: SystemTime, now: SystemTime) -> String {
    let secs = now.duration_since(at).unwrap_or_default().as_secs();
    match secs {
        0..120 => format!("{secs} s ago"),
        120..7200 => format!("{} min ago", secs / 60),
        _ => format!("{} h ago", secs / 3600),
    }
}

/// Text for HTML content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_read_as_how_long_ago() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(100_000);
        assert_eq!(ago(now - Duration::from_secs(5), now), "5 s ago");
        assert_eq!(ago(now - Duration::from_secs(600), now), "10 min ago");
        assert_eq!(ago(now - Duration::from_secs(7200), now), "2 h ago");
        assert_eq!(ago(now + Duration::from_secs(1), now), "0 s ago");
    }

    #[test]
    fn markup_in_errors_is_text() {
        assert_eq!(
            escape("<b>\"x\" & y</b>"),
            "&lt;b&gt;&quot;x&quot; &amp; y&lt;/b&gt;"
        );
    }
}
