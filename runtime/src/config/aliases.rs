//! The environment variables other exporters' documentation uses, read
//! where pme has the same setting: they fill what neither a flag nor a
//! `PME_*` variable set (flag > `PME_*` > alias > default), and a value
//! pme cannot honour stops it at start with the reason.
//!
//! | variable | pme setting |
//! | --- | --- |
//! | `METRICS_PORT`, `PORT` | `--web.listen-address=:PORT` |
//! | `LOG_LEVEL` | `--log.level` (`INFO`, `WARNING`, … accepted) |
//! | `PROMETHEUS_FILE` | `--textfile.directory` and `--textfile.name` |
//! | `EXPORT_FORMAT` | `prometheus` (what pme serves anyway) or `otlp` (needs an endpoint) |
//! | `ENABLED_COLLECTORS` | `--collectors.enabled` |
//! | `WORKERS` | `--runtime.worker-threads` |
//! | `COLLECTION_INTERVAL` | the spec's compiled tick: only its own value is accepted |
//!
//! `OTEL_INSECURE` is read with the OTLP variables (`outputs/otlp.rs`).

use std::time::Duration;

use clap::ArgMatches;
use clap::parser::ValueSource;

use super::Options;

/// Fills `options` from the aliases in `env`, where `matches` says the
/// value is still the default. `tick` is the spec's compiled tick;
/// `otlp_configured` says whether the options and environment give an
/// OTLP endpoint (the outputs' own reading of them).
///
/// # Errors
/// A value pme cannot take, naming the variable.
pub(crate) fn apply(
    options: &mut Options,
    matches: &ArgMatches,
    tick: Duration,
    env: &dyn Fn(&str) -> Option<String>,
    otlp_configured: &dyn Fn(&Options) -> bool,
) -> Result<(), String> {
    let unset = |id: &str| {
        matches!(
            matches.value_source(id),
            None | Some(ValueSource::DefaultValue)
        )
    };
    let alias = |names: &[&'static str]| {
        names
            .iter()
            .find_map(|name| env(name).map(|value| (*name, value)))
    };
    if unset("web_listen_address")
        && let Some((name, port)) = alias(&["METRICS_PORT", "PORT"])
    {
        let port: u16 = port
            .trim()
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{name}=`{port}` is not a port from 1 to 65535"))?;
        options.web_listen_address = ([0, 0, 0, 0], port).into();
    }
    if unset("log_level")
        && let Some((name, level)) = alias(&["LOG_LEVEL"])
    {
        options.log_level = match level.trim().to_ascii_lowercase().as_str() {
            l @ ("error" | "warn" | "info" | "debug" | "trace") => l.to_owned(),
            "warning" => "warn".to_owned(),
            "critical" | "fatal" => "error".to_owned(),
            _ => {
                return Err(format!(
                    "{name}=`{level}` is not a level: error, warn, info, debug or trace"
                ));
            }
        };
    }
    if unset("textfile_directory")
        && let Some((name, file)) = alias(&["PROMETHEUS_FILE"])
    {
        let path = std::path::Path::new(file.trim());
        let (Some(dir), Some(stem), true) = (
            path.parent().filter(|d| d.is_absolute()),
            path.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".prom")),
            path.is_absolute(),
        ) else {
            return Err(format!(
                "{name}=`{file}` is not an absolute path ending in `.prom`"
            ));
        };
        options.textfile_directory = Some(dir.to_path_buf());
        options.textfile_name = stem.to_owned();
    }
    if let Some((name, format)) = alias(&["EXPORT_FORMAT"]) {
        match format.trim().to_ascii_lowercase().as_str() {
            "prometheus" => {}
            "otlp" => {
                if !otlp_configured(options) {
                    return Err(format!(
                        "{name}=otlp needs an endpoint: set OTEL_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT or --otlp.endpoint"
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "{name}=`{format}` is not `prometheus` or `otlp` (pme serves /metrics either way)"
                ));
            }
        }
    }
    if unset("collectors_enabled")
        && let Some((_, list)) = alias(&["ENABLED_COLLECTORS"])
    {
        options.collectors_enabled = list;
    }
    if unset("runtime_worker_threads")
        && let Some((name, workers)) = alias(&["WORKERS"])
    {
        let n: u16 = workers
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=256).contains(n))
            .ok_or_else(|| {
                format!("{name}=`{workers}` is not a number of threads from 1 to 256")
            })?;
        options.runtime_worker_threads = Some(n);
    }
    if let Some((name, interval)) = alias(&["COLLECTION_INTERVAL"]) {
        let seconds: Option<f64> = interval.trim().parse().ok();
        if seconds != Some(tick.as_secs_f64()) {
            return Err(format!(
                "{name}=`{interval}`: the collection interval is compiled in from the spec ({}s, `exporter.collection_frequency`); change it there and rebuild",
                tick.as_secs_f64()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;

    fn with(env: &[(&str, &str)], argv: &[&str]) -> Result<Options, String> {
        let matches = Options::command()
            .try_get_matches_from(std::iter::once("pme").chain(argv.iter().copied()))
            .unwrap();
        let mut options = Options::from_arg_matches(&matches).unwrap();
        let lookup = |name: &str| {
            env.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        };
        // What the outputs would find: here, only OTEL_ENDPOINT.
        let otlp = |_: &Options| lookup("OTEL_ENDPOINT").is_some();
        apply(
            &mut options,
            &matches,
            Duration::from_secs(15),
            &lookup,
            &otlp,
        )
        .map(|()| options)
    }

    #[test]
    fn aliases_fill_defaults_and_flags_win() {
        let o = with(
            &[
                ("PORT", "9200"),
                ("METRICS_PORT", "9100"),
                ("LOG_LEVEL", "WARNING"),
                ("PROMETHEUS_FILE", "/opt/data/metrics.prom"),
                ("ENABLED_COLLECTORS", "memory, disk"),
                ("WORKERS", "2"),
                ("COLLECTION_INTERVAL", "15"),
                ("EXPORT_FORMAT", "prometheus"),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(o.web_listen_address, "0.0.0.0:9100".parse().unwrap());
        assert_eq!(o.log_level, "warn");
        assert_eq!(
            o.textfile_directory.as_deref(),
            Some(std::path::Path::new("/opt/data"))
        );
        assert_eq!(o.textfile_name, "metrics");
        assert_eq!(
            super::super::split_list(&o.collectors_enabled),
            ["memory", "disk"]
        );
        assert_eq!(o.runtime_worker_threads, Some(2));
        let o = with(&[("PORT", "9200")], &["--web.listen-address=127.0.0.1:1"]).unwrap();
        assert_eq!(o.web_listen_address, "127.0.0.1:1".parse().unwrap());
    }

    #[test]
    fn what_pme_cannot_honour_is_refused_with_the_variable() {
        for (env, reason) in [
            (("PORT", "http"), "PORT=`http` is not a port"),
            (("LOG_LEVEL", "loud"), "LOG_LEVEL=`loud` is not a level"),
            (("PROMETHEUS_FILE", "metrics.txt"), "ending in `.prom`"),
            (("EXPORT_FORMAT", "otlp"), "needs an endpoint"),
            (("EXPORT_FORMAT", "influx"), "not `prometheus` or `otlp`"),
            (("WORKERS", "0"), "WORKERS=`0`"),
            (
                ("COLLECTION_INTERVAL", "30"),
                "compiled in from the spec (15s",
            ),
        ] {
            let err = with(&[env], &[]).unwrap_err();
            assert!(err.contains(reason), "{env:?}: {err}");
        }
        assert!(
            with(
                &[("EXPORT_FORMAT", "otlp"), ("OTEL_ENDPOINT", "c:4317")],
                &[]
            )
            .is_ok()
        );
    }
}
