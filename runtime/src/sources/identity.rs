//! `run_as`: the identity a service's commands run under and its files
//! are opened with.
//!
//! Users and groups are resolved once, at startup, in the parent (that is
//! where the NSS lookup happens). A command's child then makes three plain
//! syscalls, `setgroups` → `setgid` → `setuid`, in one `pre_exec`; never
//! mixed with `Command::uid`/`gid`, which std calls before `pre_exec`, after
//! which `setgroups` fails. A file is opened on a thread of its own that
//! first takes the identity's filesystem rights (`setfsuid`, `setfsgid`,
//! and a thread-local `setgroups`), so the kernel checks the file's mode
//! against the service's user, never against pme's.

use nix::unistd::{Gid, Group, Uid, User};

use crate::plan::RunAs;

/// `PATH` for commands under `run_as`: the usual system directories, never
/// pme's own `PATH`, which the other user may not be meant to trust.
pub const RUN_AS_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A resolved user, primary group and supplementary groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    /// User id.
    pub uid: Uid,
    /// Primary group id.
    pub gid: Gid,
    /// Supplementary groups: exactly the user's, from the group database.
    pub groups: Vec<Gid>,
    /// The user name (the uid as text when it has no passwd entry), for
    /// `USER` and `LOGNAME`.
    pub name: String,
    /// The home directory (`/` when it has no passwd entry), for `HOME`.
    pub home: String,
}

impl Identity {
    /// Resolves `run_as`.
    ///
    /// # Errors
    /// Unknown user or group, or a failing lookup.
    pub(crate) fn of(run_as: &RunAs) -> Result<Identity, String> {
        Identity::resolve(run_as.user, run_as.group)
    }

    /// Resolves a user and optionally a group other than its primary one
    /// (names or numeric ids).
    ///
    /// # Errors
    /// Unknown user or group, or a failing lookup.
    pub(crate) fn resolve(user: &str, group: Option<&str>) -> Result<Identity, String> {
        let account = if let Ok(uid) = user.parse::<u32>() {
            User::from_uid(Uid::from_raw(uid)).map_err(|e| format!("looking up uid {uid}: {e}"))?
        } else {
            User::from_name(user).map_err(|e| format!("looking up user `{user}`: {e}"))?
        };
        let (uid, name, primary, home) = match &account {
            Some(u) => (
                u.uid,
                Some(u.name.clone()),
                Some(u.gid),
                u.dir.display().to_string(),
            ),
            // A numeric uid with no passwd entry is allowed: no groups beyond `gid`.
            None => match user.parse::<u32>() {
                Ok(uid) => (Uid::from_raw(uid), None, None, "/".to_owned()),
                Err(_) => return Err(format!("user `{user}` does not exist")),
            },
        };
        let gid = match group {
            Some(g) => match g.parse::<u32>() {
                Ok(gid) => Gid::from_raw(gid),
                Err(_) => {
                    Group::from_name(g)
                        .map_err(|e| format!("looking up group `{g}`: {e}"))?
                        .ok_or_else(|| format!("group `{g}` does not exist"))?
                        .gid
                }
            },
            None => primary.ok_or_else(|| {
                format!(
                    "uid {} has no passwd entry, so `run_as` needs a `group`",
                    uid.as_raw()
                )
            })?,
        };
        let mut groups = match &name {
            Some(name) => {
                let cname = std::ffi::CString::new(name.clone())
                    .map_err(|_| format!("user name `{name}` contains NUL"))?;
                nix::unistd::getgrouplist(&cname, gid)
                    .map_err(|e| format!("listing groups of `{name}`: {e}"))?
            }
            None => vec![gid],
        };
        groups.sort_unstable_by_key(|g| g.as_raw());
        groups.dedup();
        Ok(Identity {
            uid,
            gid,
            groups,
            name: name.unwrap_or_else(|| uid.to_string()),
            home,
        })
    }

    /// Whether pme already is this identity (same uid, gid and groups), so
    /// nothing needs switching.
    pub(crate) fn is_current(&self) -> bool {
        let mut mine = nix::unistd::getgroups().unwrap_or_default();
        mine.push(nix::unistd::getegid());
        mine.sort_unstable_by_key(|g| g.as_raw());
        mine.dedup();
        let mut wanted = self.groups.clone();
        wanted.push(self.gid);
        wanted.sort_unstable_by_key(|g| g.as_raw());
        wanted.dedup();
        nix::unistd::geteuid() == self.uid && nix::unistd::getegid() == self.gid && mine == wanted
    }

    /// The environment a command of this identity starts with.
    pub(crate) fn environment(&self) -> [(&'static str, &str); 4] {
        [
            ("HOME", &self.home),
            ("USER", &self.name),
            ("LOGNAME", &self.name),
            ("PATH", RUN_AS_PATH),
        ]
    }

    /// Makes `command` switch to this identity in the child before exec.
    pub(super) fn apply(&self, command: &mut tokio::process::Command) {
        let Identity {
            uid, gid, groups, ..
        } = self.clone();
        #[expect(
            unsafe_code,
            reason = "pre_exec is unsafe; the closure only makes async-signal-safe syscalls"
        )]
        // SAFETY: setgroups, setgid, setuid and prctl are single syscalls,
        // safe between fork and exec; nothing is allocated in the child.
        unsafe {
            command.pre_exec(move || {
                nix::unistd::setgroups(&groups)?;
                nix::unistd::setgid(gid)?;
                nix::unistd::setuid(uid)?;
                // A non-root pme granted CAP_SETUID as an ambient capability
                // would pass it on through exec; the command gets none.
                // (Root loses every capability in setuid already; kernels
                // before 4.3 have no ambient set and answer EINVAL.)
                let _ = libc::prctl(
                    libc::PR_CAP_AMBIENT,
                    libc::PR_CAP_AMBIENT_CLEAR_ALL,
                    0,
                    0,
                    0,
                );
                Ok(())
            });
        }
    }

    /// Runs `work` on a thread of its own that first takes this identity's
    /// rights on the filesystem, never on a pooled thread: the thread keeps
    /// them until it exits, right after `work`. `work` gets the reason when
    /// the rights could not be taken, and must then not touch the file.
    ///
    /// # Errors
    /// The thread could not be started.
    pub(crate) fn spawn_with_file_rights(
        &self,
        work: impl FnOnce(Result<(), String>) + Send + 'static,
    ) -> std::io::Result<()> {
        let identity = self.clone();
        std::thread::Builder::new()
            .name("pme-read-as".to_owned())
            .spawn(move || {
                let assumed = identity
                    .assume_for_files()
                    .map_err(|e| format!("cannot take the rights of uid {}: {e}", identity.uid));
                work(assumed);
            })
            .map(drop)
    }

    /// Gives the calling thread this identity's rights on the filesystem,
    /// for good: call it only on a thread that exits after its file work.
    ///
    /// Only the filesystem ids change (`setfsuid`/`setfsgid` change nothing
    /// else, and the kernel drops the DAC-override capabilities with a
    /// non-zero fsuid); the supplementary groups are set with the raw
    /// syscall, which, unlike libc's `setgroups`, changes this thread only.
    ///
    /// # Errors
    /// The kernel refused (pme lacks CAP_SETUID/CAP_SETGID).
    fn assume_for_files(&self) -> std::io::Result<()> {
        let groups: Vec<libc::gid_t> = self.groups.iter().map(|g| g.as_raw()).collect();
        #[expect(
            unsafe_code,
            reason = "a thread-local setgroups exists only as a raw syscall"
        )]
        // SAFETY: the pointer and length describe `groups`, which outlives
        // the call; the kernel only reads from it.
        let rc = unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // setfsgid/setfsuid report no error: they return the previous id,
        // so a second call (with an invalid id, which changes nothing) tells
        // whether the first one took.
        nix::unistd::setfsgid(self.gid);
        nix::unistd::setfsuid(self.uid);
        let fsgid = nix::unistd::setfsgid(Gid::from_raw(u32::MAX));
        let fsuid = nix::unistd::setfsuid(Uid::from_raw(u32::MAX));
        if fsgid != self.gid || fsuid != self.uid {
            return Err(std::io::Error::from_raw_os_error(libc::EPERM));
        }
        Ok(())
    }
}

/// Which of CAP_SETUID and CAP_SETGID pme lacks in its effective set (read
/// from `/proc/self/status`, so a non-root pme granted them by systemd's
/// `AmbientCapabilities=` counts as able).
pub fn missing_capabilities() -> Vec<&'static str> {
    const CAP_SETGID: u32 = 6;
    const CAP_SETUID: u32 = 7;
    let effective = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("CapEff:"))?;
            u64::from_str_radix(line["CapEff:".len()..].trim(), 16).ok()
        })
        .unwrap_or(0);
    [(CAP_SETUID, "CAP_SETUID"), (CAP_SETGID, "CAP_SETGID")]
        .into_iter()
        .filter(|(bit, _)| effective & (1 << bit) == 0)
        .map(|(_, name)| name)
        .collect()
}

/// A resolved `run_as`.
#[derive(Debug)]
pub(crate) struct RunAsState {
    /// The identity.
    pub identity: Identity,
    /// Whether pme must switch to it (it is not already that identity).
    pub switch: bool,
}

impl RunAsState {
    /// Resolves a `run_as` and checks pme may take it.
    ///
    /// # Errors
    /// Unknown user or group, or missing capabilities.
    pub(crate) fn prepare(run_as: &RunAs) -> Result<RunAsState, String> {
        let identity = Identity::of(run_as)?;
        let switch = !identity.is_current();
        if switch {
            let missing = missing_capabilities();
            if !missing.is_empty() {
                return Err(format!(
                    "acting as uid {} needs {}, which pme (uid {}) lacks; run pme as root, grant it the capabilities, or mark the service `optional: true`",
                    identity.uid,
                    missing.join(" and "),
                    nix::unistd::geteuid()
                ));
            }
        }
        Ok(RunAsState { identity, switch })
    }
}
