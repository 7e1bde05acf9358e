//! HTTP sources: URL, method, body, headers, caching and credentials.

use super::*;

impl Validator<'_> {
    /// A URL and its request settings; credentials only by reference.
    pub(super) fn http(
        &mut self,
        url: &Sp<String>,
        settings: Option<&spec::HttpSpec>,
    ) -> Option<ir::HttpSource> {
        let mut ok = self.check_url(url);
        let default = spec::HttpSpec::default();
        let s = settings.unwrap_or(&default);
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
            cache: s.cache.as_ref().is_some_and(|c| c.value),
        })
    }

    /// An absolute `http://` or `https://` URL with a host and no spaces.
    fn check_url(&mut self, url: &Sp<String>) -> bool {
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
