//! `Conntrack`: the netfilter connection-tracking table's size and limit,
//! under node_exporter's names.

use std::path::PathBuf;

use pme::Gauge;
use pme::collect::{Collect, Context, ExtractErrors, FromOptions};

/// How full the connection-tracking table is.
#[derive(Debug, pme::MetricGroup)]
pub struct Conntrack {
    #[metric(
        name = "node_nf_conntrack_entries",
        help = "Number of currently allocated flow entries for connection tracking."
    )]
    entries: Gauge,
    #[metric(
        name = "node_nf_conntrack_entries_limit",
        help = "Maximum size of connection tracking table."
    )]
    limit: Gauge,
    /// Where the two files are, relative to `--path.procfs`.
    directory: PathBuf,
}

/// `options:` of a `Conntrack` entry.
#[derive(Debug)]
pub struct ConntrackOptions {
    /// The directory of `nf_conntrack_count` and `nf_conntrack_max`,
    /// relative to `--path.procfs` (default `sys/net/netfilter`).
    pub directory: String,
}

impl Default for ConntrackOptions {
    fn default() -> Self {
        ConntrackOptions {
            directory: "sys/net/netfilter".to_owned(),
        }
    }
}

impl FromOptions for Conntrack {
    type Options = ConntrackOptions;

    fn from_options(options: ConntrackOptions) -> Result<Conntrack, String> {
        if options.directory.starts_with('/') {
            return Err(format!(
                "`directory` is relative to --path.procfs; `{}` is absolute",
                options.directory
            ));
        }
        Ok(Conntrack {
            entries: Gauge::default(),
            limit: Gauge::default(),
            directory: options.directory.into(),
        })
    }
}

impl Collect for Conntrack {
    fn collect(&mut self, context: &Context) -> Result<(), ExtractErrors> {
        let directory = context.paths().procfs.join(&self.directory);
        let read = |file: &str| -> Result<f64, ExtractErrors> {
            let path = directory.join(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ExtractErrors::reading(format!("{}: {e}", path.display())))?;
            text.trim().parse().map_err(|_| {
                ExtractErrors::reading(format!(
                    "{}: `{}` is not a number",
                    path.display(),
                    text.trim()
                ))
            })
        };
        let (entries, limit) = (read("nf_conntrack_count")?, read("nf_conntrack_max")?);
        self.entries.set([], entries);
        self.limit.set([], limit);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pme::collect::Paths;
    use pme::{Format, MetricGroup};

    fn procfs(count: &str, max: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let netfilter = dir.path().join("sys/net/netfilter");
        std::fs::create_dir_all(&netfilter).unwrap();
        std::fs::write(netfilter.join("nf_conntrack_count"), count).unwrap();
        std::fs::write(netfilter.join("nf_conntrack_max"), max).unwrap();
        dir
    }

    fn context(procfs: &tempfile::TempDir) -> Context {
        Context::new(Paths {
            procfs: procfs.path().to_owned(),
            ..Paths::default()
        })
    }

    #[test]
    fn reads_both_files() {
        let dir = procfs("123\n", "262144\n");
        let mut c = Conntrack::from_options(ConntrackOptions::default()).unwrap();
        c.collect(&context(&dir)).unwrap();
        let mut out = Vec::new();
        c.encode(&mut out, Format::Prometheus);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\nnode_nf_conntrack_entries 123\n"), "{text}");
        assert!(
            text.contains("\nnode_nf_conntrack_entries_limit 262144\n"),
            "{text}"
        );
    }

    #[test]
    fn a_bad_file_is_an_error_and_keeps_the_last_values() {
        let dir = procfs("7", "9");
        let mut c = Conntrack::from_options(ConntrackOptions::default()).unwrap();
        c.collect(&context(&dir)).unwrap();
        std::fs::write(dir.path().join("sys/net/netfilter/nf_conntrack_count"), "x").unwrap();
        let error = c.collect(&context(&dir)).unwrap_err().to_string();
        assert!(error.contains("`x` is not a number"), "{error}");
        assert_eq!(c.entries.series()[0].value, 7.0);
    }

    #[test]
    fn an_absolute_directory_is_refused() {
        let error = Conntrack::from_options(ConntrackOptions {
            directory: "/proc/sys".into(),
        })
        .unwrap_err();
        assert!(error.contains("relative to --path.procfs"), "{error}");
    }
}
