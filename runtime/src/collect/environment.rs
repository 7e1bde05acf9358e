//! Where pme runs — a bare host, an LXC container or a Proxmox VE host —
//! and the labels that say so (one strategy per environment).
//!
//! Detected once at startup from files below [`Paths`], so a fixture tree
//! is detected exactly as the machine it was copied from.

use super::Paths;
use super::cgroup::Cgroup;
use super::read;

/// The kind of machine, and what collecting on it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Environment {
    /// A machine or VM: `/proc` tells the truth.
    Host,
    /// Inside an LXC container. Unless LXCFS virtualizes `/proc`, its
    /// `meminfo` is the host's, so memory comes from the container's own
    /// cgroup (when pme can find it).
    Lxc {
        /// The container's cgroup, if found.
        cgroup: Option<Cgroup>,
    },
    /// A Proxmox VE host (`/etc/pve`): a host, whose containers are also
    /// reported one by one from `/sys/fs/cgroup/lxc/<id>`.
    Proxmox,
}

impl Environment {
    /// Proxmox when `/etc/pve` exists; LXC when PID 1's environment or
    /// systemd says `container=lxc`; otherwise a host.
    pub(crate) fn detect(paths: &Paths) -> Environment {
        if paths.root("etc/pve").is_dir() {
            return Environment::Proxmox;
        }
        if in_lxc(paths) {
            return Environment::Lxc {
                cgroup: Cgroup::own(paths),
            };
        }
        Environment::Host
    }

    /// The name used in logs and the landing page.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Environment::Host => "host",
            Environment::Lxc { .. } => "lxc",
            Environment::Proxmox => "proxmox",
        }
    }
}

/// LXC sets `container=lxc` in PID 1's environment, and systemd copies it
/// to `/run/systemd/container`. PID 1's environment needs root; the file
/// does not.
fn in_lxc(paths: &Paths) -> bool {
    let environ = std::fs::read(paths.proc("1/environ")).unwrap_or_default();
    environ
        .split(|&b| b == 0)
        .any(|var| var == b"container=lxc")
        || read::text(&paths.root("run/systemd/container")).is_ok_and(|t| t.trim() == "lxc")
}

/// The labels every host series carries: `host_name`, `container_id`, `instance`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    /// The machine's (or container's) host name.
    pub host_name: String,
    /// The LXC container id when inside one, else empty (an empty label
    /// value is the same as no label to Prometheus).
    pub container_id: String,
    /// `$INSTANCE_ID`, else `host_name:container_id`, else `host_name`.
    pub instance: String,
}

impl Identity {
    /// Reads the host name below `paths` and, in a container, its id.
    pub(crate) fn detect(paths: &Paths, environment: &Environment) -> Identity {
        let read_name = |path: std::path::PathBuf| {
            read::text(&path)
                .map(|t| t.trim().to_owned())
                .ok()
                .filter(|h| !h.is_empty())
        };
        let host_name = read_name(paths.proc("sys/kernel/hostname"))
            .or_else(|| read_name(paths.root("etc/hostname")))
            .unwrap_or_default();
        let container_id = match environment {
            Environment::Lxc { .. } => container_id(paths).unwrap_or_default(),
            _ => String::new(),
        };
        let instance = std::env::var("INSTANCE_ID")
            .ok()
            .filter(|i| !i.is_empty())
            .unwrap_or_else(|| instance(&host_name, &container_id));
        Identity {
            host_name,
            container_id,
            instance,
        }
    }

    /// `[host_name, container_id, instance]`, in the label order every
    /// host family declares.
    pub(crate) fn labels(&self) -> [&str; 3] {
        [&self.host_name, &self.container_id, &self.instance]
    }
}

/// `host:id`, or `host` without an id.
pub(crate) fn instance(host_name: &str, container_id: &str) -> String {
    if container_id.is_empty() {
        host_name.to_owned()
    } else {
        format!("{host_name}:{container_id}")
    }
}

/// A Proxmox container's id, as seen from inside: the root filesystem's
/// volume (`subvol-105-disk-0` on ZFS, `vm-105-disk-0` on LVM, which
/// device-mapper shows as `pve-vm--105--disk--0`), else an `lxc/105`
/// cgroup path (without a cgroup namespace).
fn container_id(paths: &Paths) -> Option<String> {
    let mounts = read::text(&paths.proc("self/mounts")).ok()?;
    let root_device = mounts.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let device = fields.next()?;
        (fields.next()? == "/").then_some(device)
    });
    if let Some(id) = root_device.and_then(volume_id) {
        return Some(id);
    }
    let cgroups = read::text(&paths.proc("self/cgroup")).ok()?;
    cgroups.lines().find_map(|line| {
        let path = line.splitn(3, ':').nth(2)?;
        let rest = path
            .split_once("/lxc/")
            .or_else(|| path.split_once("/lxc.payload."))?
            .1;
        let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
        (!id.is_empty()).then_some(id)
    })
}

/// `105` out of a volume name holding `-105-disk-` (or `--105--disk--`).
fn volume_id(device: &str) -> Option<String> {
    let name = device.rsplit('/').next()?;
    for (before, after) in [("vm--", "--disk"), ("vm-", "-disk"), ("subvol-", "-disk")] {
        if let Some((_, rest)) = name.split_once(before)
            && let Some((id, _)) = rest.split_once(after)
            && !id.is_empty()
            && id.chars().all(|c| c.is_ascii_digit())
        {
            return Some(id.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_ids_of_proxmox_storages() {
        assert_eq!(
            volume_id("rpool/data/subvol-105-disk-0").as_deref(),
            Some("105")
        );
        assert_eq!(
            volume_id("/dev/mapper/pve-vm--231--disk--1").as_deref(),
            Some("231")
        );
        assert_eq!(volume_id("/dev/loop3").as_deref(), None);
        assert_eq!(volume_id("/dev/vm-x-disk-0").as_deref(), None);
    }

    #[test]
    fn instance_joins_host_and_container() {
        assert_eq!(instance("web", "105"), "web:105");
        assert_eq!(instance("web", ""), "web");
    }
}
