//! `filesystem`: size, free, available and used bytes of every mounted
//! filesystem, node_exporter's way: the mount table of PID 1, pseudo
//! filesystems left out by the spec's `exclude_fstypes` and
//! `exclude_mountpoints` patterns, `statfs(2)` below `--path.rootfs`.

use regex::Regex;

use super::{Collect, Context, FromOptions, read, regex_option, series};
use crate::Gauge;
use crate::metric::ExtractErrors;

const LABELS: usize = 6;

/// Space per filesystem, in bytes.
#[derive(Debug, crate::MetricGroup)]
#[group(labels(
    "host_name",
    "container_id",
    "instance",
    "device",
    "mountpoint",
    "fstype"
))]
pub struct Filesystem {
    #[metric(
        name = "node_filesystem_size_bytes",
        help = "Filesystem size in bytes."
    )]
    size: Gauge<LABELS>,
    #[metric(
        name = "node_filesystem_free_bytes",
        help = "Filesystem free space in bytes, including what only root may use."
    )]
    free: Gauge<LABELS>,
    #[metric(
        name = "node_filesystem_avail_bytes",
        help = "Filesystem space available to non-root users in bytes."
    )]
    avail: Gauge<LABELS>,
    #[metric(
        name = "node_filesystem_usage_bytes",
        help = "Filesystem space used in bytes: size minus free."
    )]
    usage: Gauge<LABELS>,
    #[metric(
        name = "node_filesystem_device_error",
        help = "Whether statfs(2) failed for the filesystem (1) or not (0)."
    )]
    device_error: Gauge<LABELS>,
    exclude_fstypes: Regex,
    exclude_mountpoints: Regex,
}

/// The `options:` of `filesystem`: which mounts to leave out.
#[derive(Clone, Debug)]
pub struct FilesystemOptions {
    /// Filesystem types left out (a regex); node_exporter's
    /// `--collector.filesystem.fs-types-exclude` default: pseudo and
    /// read-only image filesystems, which have no space to report.
    pub exclude_fstypes: String,
    /// Mount points left out (a regex); node_exporter's
    /// `--collector.filesystem.mount-points-exclude` default.
    pub exclude_mountpoints: String,
}

impl Default for FilesystemOptions {
    fn default() -> Self {
        FilesystemOptions {
            exclude_fstypes: "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$".to_owned(),
            exclude_mountpoints: "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)".to_owned(),
        }
    }
}

impl FromOptions for Filesystem {
    type Options = FilesystemOptions;

    fn from_options(options: FilesystemOptions) -> Result<Filesystem, String> {
        Ok(Filesystem {
            size: Gauge::default(),
            free: Gauge::default(),
            avail: Gauge::default(),
            usage: Gauge::default(),
            device_error: Gauge::default(),
            exclude_fstypes: regex_option("exclude_fstypes", &options.exclude_fstypes)?,
            exclude_mountpoints: regex_option("exclude_mountpoints", &options.exclude_mountpoints)?,
        })
    }
}

/// One line of the mount table.
#[derive(Debug, PartialEq, Eq)]
struct Mount {
    device: String,
    mountpoint: String,
    fstype: String,
}

impl Collect for Filesystem {
    fn collect(&mut self, context: &Context) -> Result<(), ExtractErrors> {
        let paths = &context.paths;
        // PID 1's view, as node_exporter: pme may run in a mount namespace
        // of its own (systemd's ProtectSystem, PrivateTmp).
        let table = read::text(&paths.proc("1/mounts"))
            .or_else(|_| read::text(&paths.proc("self/mounts")))
            .map_err(ExtractErrors::reading)?;
        let rootfs = paths.rootfs.to_string_lossy();
        let mut seen = std::collections::HashSet::new();
        let [h, c, i] = context.identity.labels();
        let (mut size, mut free, mut avail, mut usage, mut errors) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for mount in mounts(&table) {
            // Under --path.rootfs the table may list the host's paths with
            // the prefix; the label shows them as the host sees them.
            let shown = match mount.mountpoint.strip_prefix(rootfs.trim_end_matches('/')) {
                Some(rest) if rootfs != "/" => {
                    if rest.is_empty() {
                        "/"
                    } else {
                        rest
                    }
                }
                _ => mount.mountpoint.as_str(),
            };
            if self.exclude_fstypes.is_match(&mount.fstype)
                || self.exclude_mountpoints.is_match(shown)
                || !seen.insert((mount.device.clone(), shown.to_owned(), mount.fstype.clone()))
            {
                continue;
            }
            let labels = [h, c, i, mount.device.as_str(), shown, mount.fstype.as_str()];
            match nix::sys::statfs::statfs(&paths.root(shown)) {
                Ok(fs) => {
                    let block = fs.block_size() as f64;
                    let total = fs.blocks() as f64 * block;
                    let unused = fs.blocks_free() as f64 * block;
                    size.push(series(labels, total));
                    free.push(series(labels, unused));
                    avail.push(series(labels, fs.blocks_available() as f64 * block));
                    usage.push(series(labels, total - unused));
                    errors.push(series(labels, 0.0));
                }
                Err(e) => {
                    tracing::debug!(mountpoint = shown, "statfs failed: {e}");
                    errors.push(series(labels, 1.0));
                }
            }
        }
        self.size.replace(size);
        self.free.replace(free);
        self.avail.replace(avail);
        self.usage.replace(usage);
        self.device_error.replace(errors);
        Ok(())
    }
}

/// The mounts of a `/proc/*/mounts` table, with `\040`-style escapes
/// decoded.
fn mounts(table: &str) -> impl Iterator<Item = Mount> + '_ {
    table.lines().filter_map(|line| {
        let mut fields = line.split_whitespace();
        Some(Mount {
            device: unescape(fields.next()?),
            mountpoint: unescape(fields.next()?),
            fstype: unescape(fields.next()?),
        })
    })
}

/// The kernel writes space, tab, newline and backslash in mount paths as
/// three octal digits after a backslash.
fn unescape(field: &str) -> String {
    if !field.contains('\\') {
        return field.to_owned();
    }
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            d.iter()
                .all(|b| (b'0'..=b'7').contains(b))
                .then(|| d.iter().fold(0u32, |n, b| n * 8 + u32::from(b - b'0')))
        });
        match (bytes[i], octal) {
            (b'\\', Some(n)) if n <= 0xff => {
                out.push(n as u8);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_table_with_escapes() {
        let table = "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /mnt/my\\040disk xfs rw 0 0\nbad\n";
        let all: Vec<Mount> = mounts(table).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].mountpoint, "/mnt/my disk");
        assert_eq!(unescape("a\\134b\\011c"), "a\\b\tc");
        assert_eq!(unescape("trailing\\04"), "trailing\\04");
    }
}
