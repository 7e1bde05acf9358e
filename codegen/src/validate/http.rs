//! HTTP sources: URL, method, body, headers, caching, accepted status
//! codes, credentials, TLS settings and the proxy.

use super::*;

impl Validator<'_> {
    /// A URL and its request settings; credentials only by reference.
    /// In a per-request service the URL may start with `{target}` or take
    /// a parameter as its host (`validate/targets.rs`), and nothing is
    /// cached.
    pub(super) fn http(
        &mut self,
        url: &Sp<String>,
        settings: Option<&spec::HttpSpec>,
        exec: &context::Context,
    ) -> Option<ir::HttpSource> {
        let urls = self.source_urls(url, &exec.targets);
        let mut ok = urls.is_some();
        let default = spec::HttpSpec::default();
        let s = settings.unwrap_or(&default);
        if let Some(cache) = &s.cache
            && (!exec.parameters.is_empty() || !exec.targets.is_empty())
        {
            self.d.error_help(
                cache.pos,
                "`cache` in a service collected per request",
                "each request reads its target afresh; remove `cache`",
            );
            ok = false;
        }
        let method = self.method(s);
        ok &= method.is_some();
        let method = method.unwrap_or_default();
        if let Some(body) = &s.body
            && method != "POST"
        {
            self.d.error_help(
                body.pos,
                "a request `body` needs `method: POST`",
                "add `method: POST`",
            );
            ok = false;
        }
        ok &= self.check_headers(s);
        let auth = self.auth(s);
        ok &= auth.is_some();
        let valid_status = self.valid_status(s);
        ok &= valid_status.is_some();
        // The first plain-HTTP URL, if any, is the one `tls` reports.
        let scheme_url = urls.as_ref().and_then(|u| u.first()).unwrap_or(url);
        let tls = s.tls.as_ref().map(|t| self.tls(scheme_url, t));
        ok &= !matches!(tls, Some(None));
        let proxy = s.proxy_url.as_ref().map(|p| self.proxy(p));
        ok &= !matches!(proxy, Some(None));
        ok.then(|| ir::HttpSource {
            url: url.value.clone(),
            method,
            body: s.body.as_ref().map(|b| b.value.clone()),
            headers: s
                .headers
                .iter()
                .map(|(n, v)| (n.value.clone(), v.value.clone()))
                .collect(),
            auth: auth.flatten(),
            cache: match s.cache.as_ref().map(|c| c.value) {
                None | Some(spec::CacheSpec::Headers(false)) => ir::Cache::Off,
                Some(spec::CacheSpec::Headers(true)) => ir::Cache::Headers,
                Some(spec::CacheSpec::For(t)) => ir::Cache::For(t),
            },
            valid_status: valid_status.unwrap_or_default(),
            tls: tls.flatten(),
            proxy: proxy.flatten(),
        })
    }

    /// `valid_status_codes`: a non-empty list of codes from 100 to 599.
    fn valid_status(&mut self, s: &spec::HttpSpec) -> Option<Vec<u16>> {
        let Some(codes) = &s.valid_status_codes else {
            return Some(Vec::new());
        };
        if codes.value.is_empty() {
            self.d.error_help(
                codes.pos,
                "`valid_status_codes` is empty",
                "list the codes whose body is a reading, e.g. `[200, 203]`; without the key any 2xx is",
            );
            return None;
        }
        let mut valid = Vec::new();
        for code in &codes.value {
            match u16::try_from(code.value) {
                Ok(c @ 100..=599) => valid.push(c),
                _ => {
                    self.d.error(
                        code.pos,
                        format!("`{}` is not an HTTP status code (100 to 599)", code.value),
                    );
                }
            }
        }
        (valid.len() == codes.value.len()).then_some(valid)
    }

    /// `tls:` on an `https://` URL: absolute files, a certificate with its
    /// key, and `insecure_skip_verify` alone and loud.
    fn tls(&mut self, url: &Sp<String>, t: &spec::TlsSpec) -> Option<ir::TlsClient> {
        if !url.value.starts_with("https://") {
            self.d.error_help(
                t.pos,
                "`tls` applies to `https://` URLs",
                format!("`{}` is plain HTTP", url.value),
            );
            return None;
        }
        let mut ok = true;
        for file in [&t.ca_file, &t.cert_file, &t.key_file]
            .into_iter()
            .flatten()
        {
            if !file.value.starts_with('/') {
                self.d.error(
                    file.pos,
                    format!("`{}` is not an absolute path", file.value),
                );
                ok = false;
            }
        }
        let client_cert = match (&t.cert_file, &t.key_file) {
            (Some(c), Some(k)) => Some((c.value.clone(), k.value.clone())),
            (None, None) => None,
            (Some(c), None) | (None, Some(c)) => {
                self.d.error_help(
                    c.pos,
                    "a client certificate needs both `cert_file` and `key_file`",
                    "give the PEM certificate chain and its private key",
                );
                ok = false;
                None
            }
        };
        if let Some(name) = &t.server_name
            && !pme_content::authority::is_server_name(&name.value)
        {
            self.d.error_help(
                name.pos,
                format!("`{}` is not a DNS name or an IP address", name.value),
                "the name the server's certificate carries, such as `api.internal`",
            );
            ok = false;
        }
        let insecure = t.insecure_skip_verify.as_ref().filter(|i| i.value);
        if let Some(i) = insecure {
            if let Some(ca) = &t.ca_file {
                self.d.error_help(
                    ca.pos,
                    "`ca_file` and `insecure_skip_verify: true` contradict each other",
                    "trusting the CA is the safe way to reach this server: drop `insecure_skip_verify`",
                );
                ok = false;
            } else {
                self.d.warn(
                    i.pos,
                    format!(
                        "`insecure_skip_verify: true`: the certificate of `{}` is not checked, so anyone on the path can read and change its readings; help: give the server's CA as `ca_file`",
                        url.value
                    ),
                );
            }
        }
        ok.then(|| ir::TlsClient {
            ca_file: t.ca_file.as_ref().map(|f| f.value.clone()),
            client_cert,
            server_name: t.server_name.as_ref().map(|n| n.value.clone()),
            insecure_skip_verify: insecure.is_some(),
        })
    }

    /// `proxy_url`: an `http://` proxy with a host and port, no credentials.
    fn proxy(&mut self, p: &Sp<String>) -> Option<String> {
        let Some(rest) = p.value.strip_prefix("http://") else {
            self.d.error_help(
                p.pos,
                format!("`{}` is not an `http://` proxy URL", p.value),
                "pme talks to proxies in plain HTTP (CONNECT for https:// sources), e.g. `http://proxy.internal:3128`",
            );
            return None;
        };
        let authority = rest.split('/').next().unwrap_or("");
        if authority.contains('@') {
            self.d.error_help(
                p.pos,
                "a proxy URL with credentials would compile them into the binary",
                "set `HTTPS_PROXY`/`HTTP_PROXY` in pme's environment instead, which may carry `user:password@`",
            );
            return None;
        }
        if authority.is_empty()
            || !rest
                .trim_start_matches(authority)
                .trim_matches('/')
                .is_empty()
        {
            self.d.error_help(
                p.pos,
                format!("invalid proxy URL `{}`", p.value),
                "a proxy is a host and port, e.g. `http://proxy.internal:3128`",
            );
            return None;
        }
        Some(p.value.clone())
    }

    /// An absolute `http://` or `https://` URL with a host and no spaces.
    pub(super) fn check_url(&mut self, url: &Sp<String>) -> bool {
        let valid = ["http://", "https://"].iter().any(|scheme| {
            url.value.strip_prefix(scheme).is_some_and(|rest| {
                let host = rest.split(['/', '?', '#']).next().unwrap_or("");
                !host.is_empty() && !rest.contains(char::is_whitespace)
            })
        });
        if !valid {
            self.d.error_help(
                url.pos,
                format!("invalid URL `{}`", url.value),
                "an http source is an absolute `http://` or `https://` URL",
            );
        }
        valid
    }

    /// `GET` (the default) or `POST`.
    fn method(&mut self, s: &spec::HttpSpec) -> Option<String> {
        match &s.method {
            None => Some("GET".to_owned()),
            Some(m) if m.value == "GET" || m.value == "POST" => Some(m.value.clone()),
            Some(m) => {
                self.d.error_help(
                    m.pos,
                    format!("unsupported HTTP method `{}`", m.value),
                    one_of(&m.value, &["GET", "POST"]),
                );
                None
            }
        }
    }

    /// Header names are tokens and carry no credential; values have no
    /// control characters.
    fn check_headers(&mut self, s: &spec::HttpSpec) -> bool {
        let mut ok = true;
        for (name, value) in &s.headers {
            let token = !name.value.is_empty()
                && name
                    .value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !token {
                self.d
                    .error(name.pos, format!("invalid header name `{}`", name.value));
                ok = false;
            } else if ["authorization", "proxy-authorization", "cookie"]
                .contains(&name.value.to_ascii_lowercase().as_str())
            {
                self.d.error_help(
                    name.pos,
                    format!("header `{}` would compile a credential into the binary", name.value),
                    "use `bearer_token_file`/`bearer_token_env` or `basic_auth`, which pme reads at run time",
                );
                ok = false;
            }
            if value.value.chars().any(|c| c.is_control() && c != '\t') {
                self.d.error(
                    value.pos,
                    format!(
                        "header `{}` has a control character in its value",
                        name.value
                    ),
                );
                ok = false;
            }
        }
        ok
    }

    /// The request's credentials: a bearer token or basic auth, never both.
    /// `None` when invalid, `Some(None)` when there are none.
    fn auth(&mut self, s: &spec::HttpSpec) -> Option<Option<ir::HttpAuth>> {
        let bearer = self.secret(&s.bearer_token_file, &s.bearer_token_env, "bearer_token");
        let basic = s.basic_auth.as_ref().and_then(|b| self.basic_auth(b));
        match (bearer, basic) {
            (Some(Some(_)), Some(_)) => {
                self.d
                    .error(s.pos, "use either a bearer token or `basic_auth`, not both");
                None
            }
            (Some(Some(token)), None) => Some(Some(ir::HttpAuth::Bearer(token))),
            (None, _) => None,
            (Some(None), None) if s.basic_auth.is_some() => None,
            (Some(None), basic) => Some(basic),
        }
    }

    /// `basic_auth`: a user name and a password by reference.
    fn basic_auth(&mut self, b: &spec::BasicAuthSpec) -> Option<ir::HttpAuth> {
        let Some(username) = &b.username else {
            self.d.error(b.pos, "`basic_auth` needs a `username`");
            return None;
        };
        let password = self.secret(&b.password_file, &b.password_env, "password")?;
        let Some(password) = password else {
            self.d.error_help(
                b.pos,
                "`basic_auth` needs a password",
                "set `password_file` or `password_env`",
            );
            return None;
        };
        Some(ir::HttpAuth::Basic {
            username: username.value.clone(),
            password,
        })
    }

    /// A secret named by at most one of a file and a variable. `None` when
    /// invalid, `Some(None)` when absent.
    pub(super) fn secret(
        &mut self,
        file: &Option<Sp<String>>,
        env: &Option<Sp<String>>,
        what: &str,
    ) -> Option<Option<ir::Secret>> {
        match (file, env) {
            (Some(_), Some(e)) => {
                self.d.error(
                    e.pos,
                    format!("set `{what}_file` or `{what}_env`, not both"),
                );
                None
            }
            (Some(f), None) if !f.value.starts_with('/') => {
                self.d.error(
                    f.pos,
                    format!("`{what}_file` `{}` is not an absolute path", f.value),
                );
                None
            }
            (Some(f), None) => Some(Some(ir::Secret::File(f.value.clone()))),
            (None, Some(e)) => {
                let valid = e
                    .value
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && e.value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_');
                if valid {
                    Some(Some(ir::Secret::Env(e.value.clone())))
                } else {
                    self.d.error(
                        e.pos,
                        format!("invalid environment variable name `{}`", e.value),
                    );
                    None
                }
            }
            (None, None) => Some(None),
        }
    }
}
