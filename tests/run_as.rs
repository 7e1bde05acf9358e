//! `run_as`: commands run with exactly the user's uid, gid and groups, a
//! clean environment and the declared directory; files are opened with the
//! user's rights, never pme's; without CAP_SETUID/CAP_SETGID pme refuses to
//! start (or skips an `optional` service).
//!
//! These tests need root: they create a user and a group of their own
//! (named after the test process, removed again on drop) and root-owned
//! files in a temporary directory; the spec's names for them are replaced
//! with these ([`crate::embedded::relocate`]).

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use nix::unistd::{Group, User};

use crate::embedded::{Served, optional_run_as, relocate, run_as};
use crate::util::{Dir, assert_valid_exposition, get, last_error, value_of, wait_for};

/// What the spec names: the user, its supplementary group, the directory.
const SPEC_USER: &str = "pme-ra-user";
const SPEC_GROUP: &str = "pme-ra-group";
const SPEC_DIR: &str = "/tmp/pme-run-as";

fn root_or_skip() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    crate::util::skipped("root privileges (switching users)", "run the tests as root");
    false
}

/// The test user (primary group `nogroup`, supplementary group `group`)
/// and the files; all removed on drop. The names hold the test process's
/// id, so two test runs on one machine never share them.
struct Accounts {
    user: String,
    group: String,
    dir: Dir,
}

impl Accounts {
    fn create() -> Accounts {
        let id = std::process::id();
        let accounts = Accounts {
            user: format!("pme-ra-u{id}"),
            group: format!("pme-ra-g{id}"),
            dir: Dir::new("run-as"),
        };
        // Left by a crashed run whose process had the same id.
        accounts.remove();
        run(&["groupadd", "--system", &accounts.group]);
        run(&[
            "useradd",
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            "--gid",
            "nogroup",
            "--groups",
            &accounts.group,
            &accounts.user,
        ]);
        // The test user must reach the files: the directory is 0700 as made.
        let dir = accounts.dir.display();
        run(&["chmod", "0755", &dir]);
        let root_only = accounts.dir.write("root-only", "7\n").display().to_string();
        run(&["chmod", "0600", &root_only]);
        let group_only = accounts
            .dir
            .write("group-only", "42\n")
            .display()
            .to_string();
        run(&["chown", &format!("root:{}", accounts.group), &group_only]);
        run(&["chmod", "0640", &group_only]);
        accounts
    }

    /// The run_as spec's plan with these accounts and this directory.
    fn plan(&self) -> &'static pme::__private::plan::Plan {
        relocate(
            &run_as::PLAN,
            &[
                (SPEC_DIR, self.dir.display()),
                (SPEC_USER, self.user.clone()),
                (SPEC_GROUP, self.group.clone()),
            ],
        )
    }

    fn remove(&self) {
        let _ = Command::new("userdel").arg(&self.user).output();
        let _ = Command::new("groupdel").arg(&self.group).output();
    }
}

impl Drop for Accounts {
    fn drop(&mut self) {
        self.remove();
    }
}

fn run(argv: &[&str]) {
    let out = Command::new(argv[0]).args(&argv[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{argv:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The groups `getgrouplist` gives `user` (primary included), sorted.
fn groups_of(user: &str) -> BTreeSet<u32> {
    let u = User::from_name(user).unwrap().expect("user");
    let name = std::ffi::CString::new(user).unwrap();
    nix::unistd::getgrouplist(&name, u.gid)
        .unwrap()
        .iter()
        .map(|g| g.as_raw())
        .collect()
}

/// The label `label` of every series of `family`.
fn label_values(body: &str, family: &str, label: &str) -> Vec<String> {
    let key = format!("{label}=\"");
    body.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .filter_map(|l| {
            let start = l.find(&key)? + key.len();
            let end = start + l[start..].find('"')?;
            Some(l[start..end].to_owned())
        })
        .collect()
}

fn listed_groups(body: &str, family: &str) -> BTreeSet<u32> {
    let listed = label_values(body, family, "groups");
    assert_eq!(listed.len(), 1, "{family}: {body}");
    listed[0].split(' ').map(|g| g.parse().unwrap()).collect()
}

#[test]
fn services_act_with_exactly_their_users_rights() {
    if !root_or_skip() {
        return;
    }
    let accounts = Accounts::create();
    let (user, group) = (accounts.user.as_str(), accounts.group.as_str());
    let served = Served::start(accounts.plan());
    wait_for(Duration::from_secs(20), "every group collected", || {
        (get(served.health, "/ready").status == 200).then_some(())
    });
    let body = get(served.metrics, "/metrics").text();
    let health: serde_json::Value =
        serde_json::from_slice(&get(served.health, "/health").body).unwrap();
    assert_valid_exposition(body.as_bytes());

    // Commands: nobody's uid, gid and exactly nobody's groups.
    let nobody = User::from_name("nobody").unwrap().expect("user nobody");
    assert_eq!(
        value_of(&body, "command_uid"),
        Some(f64::from(nobody.uid.as_raw()))
    );
    assert_eq!(
        value_of(&body, "command_gid"),
        Some(f64::from(nobody.gid.as_raw()))
    );
    assert_eq!(
        listed_groups(&body, "command_groups_info"),
        groups_of("nobody")
    );
    let tester_groups = groups_of(user);
    let extra = Group::from_name(group).unwrap().expect("group").gid;
    assert!(tester_groups.contains(&extra.as_raw()));
    assert_eq!(listed_groups(&body, "tester_groups_info"), tester_groups);

    // Numeric ids without passwd or group entries: that uid, only that gid.
    assert_eq!(value_of(&body, "number_uid"), Some(54321.0));
    assert_eq!(
        listed_groups(&body, "number_groups_info"),
        BTreeSet::from([54321])
    );

    // Files: a 0600 root file is denied to nobody and reported, and read by
    // a service without run_as; a group-readable file is read through the
    // supplementary group alone.
    assert_eq!(value_of(&body, "nobody_reads_root_only"), None, "{body}");
    let denied = last_error(&health, "root_only");
    assert!(denied.contains("Permission denied"), "{health}");
    assert_eq!(value_of(&body, "pme_reads_root_only"), Some(7.0));
    assert_eq!(value_of(&body, "tester_reads_group_only"), Some(42.0));

    // A clean environment: HOME, USER, LOGNAME, PATH and the declared variable.
    let vars: BTreeSet<String> = label_values(&body, "tester_environment_info", "var")
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = ["HOME", "LOGNAME", "PATH", "PME_DECLARED", "USER"]
        .map(String::from)
        .into();
    assert_eq!(vars, expected, "{body}");
    for (var, value) in [
        ("USER", user),
        ("LOGNAME", user),
        ("HOME", "/nonexistent"),
        ("PATH", pme::__private::RUN_AS_PATH),
        ("PME_DECLARED", "declared value"),
    ] {
        let series = format!("tester_environment_info{{var=\"{var}\",value=\"{value}\"}}");
        assert!(body.contains(&series), "{series} missing: {body}");
    }
    assert_eq!(
        label_values(&body, "tester_directory_info", "dir"),
        vec![accounts.dir.display()]
    );
}

/// Set in the child that runs without CAP_SETUID/CAP_SETGID.
const CHILD: &str = "PME_TEST_WITHOUT_SETUID";

#[test]
fn without_capabilities_pme_refuses_or_skips_optional_services() {
    if std::env::var_os(CHILD).is_some() {
        return check_without_capabilities();
    }
    if !root_or_skip() {
        return;
    }
    // Root, but with CAP_SETUID and CAP_SETGID out of the bounding set: the
    // child is uid 0 without the two capabilities.
    let Some(setpriv) = crate::util::peer("setpriv", "util-linux") else {
        return;
    };
    let out = Command::new(setpriv)
        .args(["--bounding-set=-setuid,-setgid", "--inh-caps=-all", "--"])
        .arg(std::env::current_exe().unwrap())
        .args([
            "run_as::without_capabilities_pme_refuses_or_skips_optional_services",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check_without_capabilities() {
    assert_eq!(
        pme::__private::missing_capabilities(),
        ["CAP_SETUID", "CAP_SETGID"]
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let refused = runtime
        .block_on(pme::once(&run_as::PLAN))
        .expect_err("a run_as service without the capabilities must stop pme");
    let message = refused.to_string();
    assert!(
        message.starts_with("service `as_nobody`: run_as:")
            && message.contains("needs CAP_SETUID and CAP_SETGID"),
        "{message}"
    );
    let (body, all_ok) = runtime
        .block_on(pme::once(&optional_run_as::PLAN))
        .expect("an optional service does not stop pme");
    let body = String::from_utf8(body).unwrap();
    assert!(!all_ok);
    assert_eq!(value_of(&body, "always_one"), Some(1.0));
    assert_eq!(value_of(&body, "optional_uid"), None);
    assert_eq!(
        value_of(&body, "pme_source_up{service=\"maybe\",group=\"uid\"}"),
        Some(0.0),
        "{body}"
    );
    println!("checked without CAP_SETUID/CAP_SETGID");
}
