//! Where a per-request service's requests may point: its declared
//! `targets` (names, base URLs, labels) and `{target}` at the start of an
//! HTTP source, which each target's URL fills; and a parameter that fills
//! a URL's host and port (`http://{host}/…`), never its scheme or path.

use super::*;

/// The placeholder a declared target's URL fills.
const TARGET: &str = "{target}";

impl Validator<'_> {
    /// The service's targets, each checked.
    pub(super) fn targets(&mut self, s: &spec::Service) -> Vec<ir::Target> {
        if let (Some(first), Some(_)) = (s.targets.first(), s.parameters.first()) {
            self.d.error_help(
                first.name.pos,
                format!("service `{}` has both `targets` and `parameters`", s.id.value),
                "a request names a declared target or passes parameters, not both; make two services",
            );
        }
        s.targets
            .iter()
            .filter_map(|t| self.target(t, &s.labels))
            .collect()
    }

    fn target(&mut self, t: &spec::Target, service_labels: &spec::Labels) -> Option<ir::Target> {
        let name = &t.name.value;
        let mut ok = true;
        if !is_target_name(name) {
            self.d.error_help(
                t.name.pos,
                format!("invalid target name `{name}`"),
                "letters, digits, `_`, `-`, `.` and `:`, starting with a letter or digit (it goes in `?target=`)",
            );
            ok = false;
        }
        let url = match &t.url {
            None => {
                self.d.error_help(
                    t.name.pos,
                    format!("target `{name}` has no `url`"),
                    "give its base URL, e.g. `url: https://eu.example.com:8443`",
                );
                None
            }
            // Without a trailing `/`: the groups' sources start their paths with one.
            Some(url) => match base_url(&url.value) {
                Ok(()) => Some(url.value.trim_end_matches('/').to_owned()),
                Err(why) => {
                    self.d.error_help(
                        url.pos,
                        format!("target `{name}`: invalid URL `{}`: {why}", url.value),
                        "a target's URL is `http://` or `https://`, a host, an optional port and path; the groups' sources add the rest",
                    );
                    None
                }
            },
        };
        for (label, _) in &t.labels {
            ok &= self.check_label_name(label);
            if let Some((first, _)) = service_labels.iter().find(|(n, _)| n.value == label.value) {
                self.d.error(
                    label.pos,
                    format!(
                        "label `{}` is already set at line {}, column {}",
                        label.value, first.pos.line, first.pos.column
                    ),
                );
                ok = false;
            }
        }
        Some(ir::Target {
            name: name.clone(),
            url: url.filter(|_| ok)?,
            labels: t
                .labels
                .iter()
                .map(|(n, v)| (n.value.clone(), v.value.clone()))
                .collect(),
        })
    }

    /// An HTTP source's URL: a whole URL, or `{target}` and the rest of
    /// the URL after each declared target's base. Every URL it stands for
    /// must be valid; they are returned, the first plain-HTTP one first.
    pub(super) fn source_urls(
        &mut self,
        url: &Sp<String>,
        targets: &[ir::Target],
    ) -> Option<Vec<Sp<String>>> {
        let Some(rest) = url.value.strip_prefix(TARGET) else {
            return self.check_url(url).then(|| vec![url.clone()]);
        };
        if targets.is_empty() {
            self.d.error_help(
                url.pos,
                format!("`{TARGET}` in a service without `targets`"),
                "declare the service's `targets:`, whose URLs `{target}` stands for; a parameter fills a URL's host only: `http://{name}/path`",
            );
            return None;
        }
        if !(rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')) {
            self.d.error_help(
                url.pos,
                format!("`{}`: `{TARGET}` must be followed by a path", url.value),
                "write `{target}/path` (or `{target}` alone): the target's URL gives the scheme, host and port",
            );
            return None;
        }
        if rest.contains(TARGET) {
            self.d.error(url.pos, format!("`{TARGET}` more than once"));
            return None;
        }
        self.target_used = true;
        let mut urls: Vec<Sp<String>> = targets
            .iter()
            .map(|t| Sp {
                value: format!("{}{rest}", t.url),
                pos: url.pos,
            })
            .collect();
        // Every URL checked, so each bad one is reported.
        let checked: Vec<bool> = urls.iter().map(|u| self.check_url(u)).collect();
        let ok = checked.iter().all(|&ok| ok);
        urls.sort_by_key(|u| u.value.starts_with("https://"));
        ok.then_some(urls)
    }

    /// A parameter in an HTTP source's URL must be the whole host and
    /// port (`http://{name}/…`) or the host before a fixed port
    /// (`http://{name}:9100/…`): a request then picks which machine, never
    /// which scheme, path or credentials. Its use is recorded.
    pub(super) fn check_url_parameters(
        &mut self,
        url: &str,
        pos: Pos,
        parameters: &[ir::Parameter],
    ) -> bool {
        let referenced = context::referenced(url, parameters);
        let Some(first) = referenced.first() else {
            return true;
        };
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .unwrap_or(url);
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, after) = rest.split_at(end);
        let fills = referenced.iter().find_map(|p| {
            let placeholder = format!("{{{}}}", p.name);
            let port = authority.strip_prefix(&placeholder)?;
            match port.strip_prefix(':') {
                None if port.is_empty() => Some((p, ir::Fills::HostAndPort)),
                Some(port) if pme_content::authority::check_port(port).is_ok() => {
                    Some((p, ir::Fills::Host))
                }
                _ => None,
            }
        });
        match fills {
            Some((p, fills))
                if referenced.len() == 1 && !after.contains(&format!("{{{}}}", p.name)) =>
            {
                self.used_parameters.push((p.name.clone(), fills));
                true
            }
            _ => {
                // Refused here, so not reported again as unused.
                self.used_parameters.extend(
                    referenced
                        .iter()
                        .map(|p| (p.name.clone(), ir::Fills::Argument)),
                );
                self.d.error_help(
                    pos,
                    format!("parameter `{}` outside a URL's host and port", first.name),
                    "a request may choose the machine, never the scheme or path: write `http://{name}/path` or `http://{name}:9100/path`",
                );
                false
            }
        }
    }

    /// `{target}` goes at the start of an HTTP URL only; a service with
    /// targets where no source uses it would read the same for each.
    pub(super) fn check_targets_used(&mut self, s: &spec::Service, targets: &[ir::Target]) {
        let used = std::mem::take(&mut self.target_used);
        if let (false, Some(first)) = (used, s.targets.first())
            && !targets.is_empty()
        {
            self.d.error_help(
                first.name.pos,
                format!("no http source of service `{}` uses `{TARGET}`", s.id.value),
                "start an http source's URL with `{target}`, e.g. `source: '{target}/status'`",
            );
        }
    }
}

/// A name a request can pass as `?target=` unescaped.
fn is_target_name(name: &str) -> bool {
    name.len() <= 128
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c))
}

/// `http(s)://host[:port][/path]`: no credentials, query or fragment.
fn base_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("not `http://` or `https://`")?;
    if rest.contains(['?', '#']) {
        return Err("a query or fragment would come before the groups' paths".to_owned());
    }
    if rest.contains(char::is_whitespace) {
        return Err("whitespace".to_owned());
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return Err("credentials would be compiled into the binary; use `http.auth`".to_owned());
    }
    pme_content::authority::check_host_port(authority)
}
