//! `run_as` for command sources: uid, gid and supplementary groups are
//! exactly the user's (setgroups → setgid → setuid in the child).

use nix::unistd::User;

use crate::embedded::{once, run_as};
use crate::util::in_ci;

#[test]
fn commands_run_as_the_service_user() {
    if !nix::unistd::geteuid().is_root() {
        assert!(!in_ci(), "CI runs as root");
        eprintln!("skipping: switching users needs root");
        return;
    }
    let nobody = User::from_name("nobody").unwrap().expect("user nobody");
    let name = std::ffi::CString::new("nobody").unwrap();
    let mut groups: Vec<u32> = nix::unistd::getgrouplist(&name, nobody.gid)
        .unwrap()
        .iter()
        .map(|g| g.as_raw())
        .collect();
    groups.sort_unstable();
    groups.dedup();

    let (body, ok) = once(&run_as::PLAN);
    assert!(ok, "{body}");
    assert_eq!(
        crate::util::value_of(&body, "command_uid"),
        Some(f64::from(nobody.uid.as_raw()))
    );
    let line = body
        .lines()
        .find(|l| l.starts_with("command_groups_info{"))
        .expect("groups line");
    let listed = &line[line.find("groups=\"").unwrap() + 8..line.rfind('"').unwrap()];
    let mut seen: Vec<u32> = listed.split(' ').map(|g| g.parse().unwrap()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen, groups,
        "supplementary groups must be exactly nobody's"
    );
}
