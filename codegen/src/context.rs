//! As whom, where and with what environment a service's sources run:
//! `run_as`, `optional`, `environment`, `working_directory`, and the
//! request `parameters` its commands and URLs take (its `targets` are
//! checked in `validate/targets.rs`).

use crate::diagnostic::Diagnostics;
use crate::ir;
use crate::spec::{self, Sp};

/// The checked context of one service.
#[derive(Debug, Default)]
pub(crate) struct Context {
    pub(crate) run_as: Option<ir::RunAs>,
    pub(crate) environment: Vec<(String, String)>,
    pub(crate) working_directory: Option<String>,
    pub(crate) parameters: Vec<ir::Parameter>,
    /// Declared targets (`validate/targets.rs` checks them).
    pub(crate) targets: Vec<ir::Target>,
}

pub(crate) fn check(s: &spec::Service, d: &mut Diagnostics) -> Context {
    let optional = s.optional.as_ref().is_some_and(|o| o.value);
    if let (Some(o), None) = (&s.optional, &s.run_as) {
        d.error_help(
            o.pos,
            format!("`optional` in service `{}` without `run_as`", s.id.value),
            "`optional: true` lets pme start without the rights `run_as` needs; without `run_as` there is nothing to skip",
        );
    }
    let run_as = s.run_as.as_ref().and_then(|r| run_as(r, optional, d));
    let environment = s
        .environment
        .iter()
        .filter(|(name, value)| env_var(name, value, d))
        .map(|(name, value)| (name.value.clone(), value.value.clone()))
        .collect();
    let working_directory = s.working_directory.as_ref().and_then(|w| {
        if w.value.starts_with('/') && !w.value.contains('\0') {
            Some(w.value.clone())
        } else {
            d.error_help(
                w.pos,
                format!("working_directory `{}` is not an absolute path", w.value),
                "write the whole path, e.g. `/var/lib/app`",
            );
            None
        }
    });
    let parameters = s
        .parameters
        .iter()
        .filter_map(|p| parameter(p, d))
        .collect();
    Context {
        run_as,
        environment,
        working_directory,
        parameters,
        targets: Vec::new(),
    }
}

fn parameter(p: &spec::Parameter, d: &mut Diagnostics) -> Option<ir::Parameter> {
    let name = &p.name.value;
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        d.error_help(
            p.name.pos,
            format!("invalid parameter name `{name}`"),
            "lowercase letters, digits and `_`, not starting with a digit",
        );
        return None;
    }
    let Some(pattern) = &p.pattern else {
        d.error_help(
            p.name.pos,
            format!("parameter `{name}` has no `pattern`"),
            "every value a request may pass must match a pattern, e.g. `pattern: '[a-z0-9.-]+'`",
        );
        return None;
    };
    if let Err(e) = regex::Regex::new(&format!("^(?:{})$", pattern.value)) {
        d.error(
            pattern.pos,
            format!("pattern of parameter `{name}` does not compile: {e}"),
        );
        return None;
    }
    Some(ir::Parameter {
        name: name.clone(),
        pattern: pattern.value.clone(),
        // Raised to a URL's rules where a URL uses it (`check_placeholders`).
        fills: ir::Fills::Argument,
    })
}

/// The parameters `text` names as `{name}`. Other braces are literal, so
/// `awk '{print $1}'` needs no escaping.
pub(crate) fn referenced<'p>(
    text: &str,
    parameters: &'p [ir::Parameter],
) -> Vec<&'p ir::Parameter> {
    parameters
        .iter()
        .filter(|p| text.contains(&format!("{{{}}}", p.name)))
        .collect()
}

/// Every parameter must be used by some source of its service.
pub(crate) fn check_parameters_used(
    s: &spec::Service,
    valid: &[ir::Parameter],
    used: &[(String, ir::Fills)],
    d: &mut Diagnostics,
) {
    for p in &s.parameters {
        let checked = valid.iter().any(|v| v.name == p.name.value);
        if checked && !used.iter().any(|(name, _)| *name == p.name.value) {
            d.error_help(
                p.name.pos,
                format!("parameter `{}` is used by no command or URL", p.name.value),
                format!(
                    "write `{{{0}}}` in a command argument or as a URL's host (`http://{{{0}}}/path`), or remove the parameter",
                    p.name.value
                ),
            );
        }
    }
}

/// `environment` and `working_directory` apply to commands only: set in a
/// service without one, they are a mistake worth reporting.
pub(crate) fn check_used(s: &spec::Service, has_command: bool, d: &mut Diagnostics) {
    if has_command {
        return;
    }
    let first_var = s.environment.first().map(|(name, _)| name.pos);
    let workdir = s.working_directory.as_ref().map(|w| w.pos);
    for pos in [first_var, workdir].into_iter().flatten() {
        d.error_help(
            pos,
            format!("service `{}` runs no command", s.id.value),
            "`environment` and `working_directory` apply to command sources only",
        );
    }
}

fn env_var(name: &Sp<String>, value: &Sp<String>, d: &mut Diagnostics) -> bool {
    let n = &name.value;
    let valid = n
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        d.error_help(
            name.pos,
            format!("invalid environment variable name `{n}`"),
            "letters, digits and `_`, not starting with a digit",
        );
        return false;
    }
    if value.value.contains('\0') {
        d.error(value.pos, format!("the value of `{n}` contains a NUL byte"));
        return false;
    }
    true
}

fn run_as(r: &spec::RunAs, optional: bool, d: &mut Diagnostics) -> Option<ir::RunAs> {
    let Some(user) = &r.user else {
        d.error_help(
            r.pos,
            "`run_as` has no `user`",
            "name a user, or a numeric uid",
        );
        return None;
    };
    let mut ok = account(user, "user", d);
    if let Some(group) = &r.group {
        ok &= account(group, "group", d);
    }
    ok.then(|| ir::RunAs {
        user: user.value.clone(),
        group: r.group.as_ref().map(|g| g.value.clone()),
        optional,
    })
}

/// A user or group: a POSIX-style name or a number.
fn account(name: &Sp<String>, what: &str, d: &mut Diagnostics) -> bool {
    let n = &name.value;
    let numeric =
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && n.parse::<u32>().is_ok();
    let named = n.len() <= 32
        && n.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c));
    if !numeric && !named {
        d.error_help(
            name.pos,
            format!("invalid {what} `{n}`"),
            format!(
                "a {what} is a name like `nobody` (lowercase letters, digits, `_`, `-`) or a number"
            ),
        );
    }
    numeric || named
}
