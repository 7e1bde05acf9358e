//! `run_as`: the identity a service's commands run under.
//!
//! Users and groups are resolved once, at startup, in the parent (that is
//! where the NSS lookup happens); the child then only makes three plain
//! syscalls, `setgroups` → `setgid` → `setuid`, in one `pre_exec`. Never
//! mixed with `Command::uid`/`gid`: std calls those before `pre_exec`, after
//! which `setgroups` fails.

use nix::unistd::{Gid, Group, Uid, User};

use crate::plan::RunAs;

/// A resolved user, primary group and supplementary groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// User id.
    pub uid: Uid,
    /// Primary group id.
    pub gid: Gid,
    /// Supplementary groups: exactly the user's, from the group database.
    pub groups: Vec<Gid>,
}

impl Identity {
    /// Resolves `run_as` (names or numeric ids).
    ///
    /// # Errors
    /// Unknown user or group, or a failing lookup.
    pub fn resolve(run_as: &RunAs) -> Result<Identity, String> {
        let user = if let Ok(uid) = run_as.user.parse::<u32>() {
            User::from_uid(Uid::from_raw(uid)).map_err(|e| format!("looking up uid {uid}: {e}"))?
        } else {
            User::from_name(run_as.user)
                .map_err(|e| format!("looking up user `{}`: {e}", run_as.user))?
        };
        let (uid, name, primary) = match &user {
            Some(u) => (u.uid, Some(u.name.clone()), Some(u.gid)),
            // A numeric uid with no passwd entry is allowed: no groups beyond `gid`.
            None => match run_as.user.parse::<u32>() {
                Ok(uid) => (Uid::from_raw(uid), None, None),
                Err(_) => return Err(format!("user `{}` does not exist", run_as.user)),
            },
        };
        let gid = match run_as.group {
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
        let groups = match name {
            Some(name) => {
                let cname = std::ffi::CString::new(name.clone())
                    .map_err(|_| format!("user name `{name}` contains NUL"))?;
                nix::unistd::getgrouplist(&cname, gid)
                    .map_err(|e| format!("listing groups of `{name}`: {e}"))?
            }
            None => vec![gid],
        };
        Ok(Identity { uid, gid, groups })
    }

    /// Makes `command` switch to this identity in the child before exec.
    pub(super) fn apply(&self, command: &mut tokio::process::Command) {
        let Identity { uid, gid, groups } = self.clone();
        #[expect(
            unsafe_code,
            reason = "pre_exec is unsafe; the closure only makes async-signal-safe syscalls"
        )]
        // SAFETY: setgroups, setgid and setuid are single syscalls, safe
        // between fork and exec; nothing is allocated in the child.
        unsafe {
            command.pre_exec(move || {
                nix::unistd::setgroups(&groups)?;
                nix::unistd::setgid(gid)?;
                nix::unistd::setuid(uid)?;
                Ok(())
            });
        }
    }
}
