//! The memory controller of a cgroup, v2 or v1: limit, usage and the
//! page cache the kernel can reclaim.

use std::path::{Path, PathBuf};

use super::Paths;
use super::read;

/// A v1 limit this large means "no limit" (the kernel reports
/// `PAGE_COUNTER_MAX` pages, about 2^63 bytes).
const V1_UNLIMITED: u64 = 1 << 62;

/// pme's own cgroup (its memory controller's directory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cgroup {
    /// The unified hierarchy: `memory.max`, `memory.current`, `memory.stat`.
    V2 {
        /// The cgroup's directory.
        dir: PathBuf,
        /// The hierarchy's root: limits are looked for up to here.
        root: PathBuf,
    },
    /// The v1 memory controller: `memory.limit_in_bytes`,
    /// `memory.usage_in_bytes`, `memory.stat`.
    V1 {
        /// The cgroup's directory.
        dir: PathBuf,
        /// The controller's root.
        root: PathBuf,
    },
}

/// A cgroup's memory accounting, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Memory {
    /// The tightest limit on the way to the root; `None` if unlimited.
    pub limit: Option<u64>,
    /// Everything charged to the cgroup, page cache included.
    pub usage: u64,
    /// Page cache not recently used, which the kernel reclaims first.
    pub inactive_file: u64,
}

impl Memory {
    /// What the cgroup really holds: usage without the inactive page cache
    /// (the "working set" of cAdvisor and the kubelet).
    pub(crate) fn working_set(&self) -> u64 {
        self.usage.saturating_sub(self.inactive_file)
    }
}

impl Cgroup {
    /// The cgroup of the process reading `procfs/self/cgroup`: v2 when the
    /// unified hierarchy is mounted at `sysfs/fs/cgroup`, else v1's memory
    /// controller.
    pub(crate) fn own(paths: &Paths) -> Option<Cgroup> {
        let membership = read::text(&paths.proc("self/cgroup")).ok()?;
        let root_v2 = paths.sys("fs/cgroup");
        if root_v2.join("cgroup.controllers").exists()
            && let Some(path) = membership.lines().find_map(|l| l.strip_prefix("0::"))
        {
            return Some(Cgroup::V2 {
                dir: below(&root_v2, path),
                root: root_v2,
            });
        }
        let root_v1 = paths.sys("fs/cgroup/memory");
        membership.lines().find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            controllers
                .split(',')
                .any(|c| c == "memory")
                .then(|| Cgroup::V1 {
                    dir: below(&root_v1, path),
                    root: root_v1.clone(),
                })
        })
    }

    /// Reads the accounting now.
    ///
    /// # Errors
    /// A file that should be there cannot be read.
    pub(crate) fn memory(&self) -> Result<Memory, String> {
        match self {
            Cgroup::V2 { dir, root } => {
                let stat = read::text(&dir.join("memory.stat"))?;
                Ok(Memory {
                    limit: tightest(dir, root, "memory.max", u64::MAX)?,
                    usage: read::number(&dir.join("memory.current"))?.unwrap_or(0),
                    inactive_file: read::keyed(&stat, "inactive_file").unwrap_or(0),
                })
            }
            Cgroup::V1 { dir, root } => {
                let stat = read::text(&dir.join("memory.stat"))?;
                Ok(Memory {
                    limit: tightest(dir, root, "memory.limit_in_bytes", V1_UNLIMITED)?,
                    usage: read::number(&dir.join("memory.usage_in_bytes"))?.unwrap_or(0),
                    inactive_file: read::keyed(&stat, "total_inactive_file")
                        .or_else(|| read::keyed(&stat, "inactive_file"))
                        .unwrap_or(0),
                })
            }
        }
    }
}

/// `root` + the cgroup path of `/proc/self/cgroup`.
fn below(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim().trim_start_matches('/'))
}

/// The smallest `file` value from `dir` up to `root` (a parent's limit
/// binds its children); values at or above `unlimited` do not count.
fn tightest(dir: &Path, root: &Path, file: &str, unlimited: u64) -> Result<Option<u64>, String> {
    let mut limit: Option<u64> = None;
    let mut at = Some(dir);
    while let Some(d) = at {
        let path = d.join(file);
        if path.exists()
            && let Some(v) = read::number(&path)?
            && v < unlimited
        {
            limit = Some(limit.map_or(v, |l| l.min(v)));
        }
        if d == root {
            break;
        }
        at = d.parent().filter(|p| p.starts_with(root));
    }
    Ok(limit)
}
