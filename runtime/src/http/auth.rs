//! Who may do what: basic-auth users (bcrypt, as exporter-toolkit) with
//! full access, and bearer tokens limited to their scopes.
//!
//! Secrets are never kept in the clear: a token is held as its SHA-256
//! digest and compared in constant time; a password is checked with bcrypt
//! once, and a success is remembered as a digest of user, password and
//! hash (exporter-toolkit's cache), so scrapes do not pay ~100 ms of bcrypt
//! each. Failures are never cached, and an unknown user costs a bcrypt run
//! too, so timing does not tell which users exist.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use base64::Engine;
use subtle::ConstantTimeEq;

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `metrics:read`: `/metrics` and `/metrics/<service>`.
    MetricsRead,
    /// `status:read`: the landing page, `/health` and `/ready`.
    StatusRead,
    /// `admin`: everything, including `POST /-/reload`.
    Admin,
}

impl Scope {
    /// Reads a scope as written in the web config.
    ///
    /// # Errors
    /// An unknown name.
    pub fn parse(name: &str) -> Result<Scope, String> {
        match name {
            "metrics:read" => Ok(Scope::MetricsRead),
            "status:read" => Ok(Scope::StatusRead),
            "admin" => Ok(Scope::Admin),
            other => Err(format!(
                "unknown scope `{other}`; scopes are metrics:read, status:read and admin"
            )),
        }
    }
}

/// A bearer token as configured.
#[derive(Debug)]
pub struct TokenSpec {
    /// For logs.
    pub name: String,
    /// The token itself; digested at once.
    pub token: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
}

#[derive(Debug)]
struct Token {
    name: String,
    digest: [u8; 32],
    scopes: Vec<Scope>,
}

/// The credentials a listener accepts; open when none are configured.
#[derive(Debug, Default)]
pub struct Auth {
    users: BTreeMap<String, String>,
    tokens: Vec<Token>,
    /// Digests of (user, password, hash) that bcrypt accepted.
    verified: Mutex<HashSet<[u8; 32]>>,
}

/// Why a request is turned away.
#[derive(Debug, PartialEq, Eq)]
pub enum Denied {
    /// No credentials, or wrong ones: 401.
    Unauthenticated,
    /// Valid credentials without the scope: 403.
    Forbidden,
}

/// A bcrypt hash of no password, checked for unknown users so they take as
/// long as known ones (cost 10, like the hashes `htpasswd -B` makes).
const DUMMY_HASH: &str = "$2y$10$MjAbKp16jB3Zs6/yMVMNRe/zbawI6WGMVWXX9NGa2sT/17qniIf8G";

/// More remembered successes than this, and the cache starts over.
const CACHE_LIMIT: usize = 1024;

impl Auth {
    /// Checks the users' hashes and digests the tokens.
    ///
    /// # Errors
    /// A password that is not a bcrypt hash.
    pub fn new(users: BTreeMap<String, String>, tokens: Vec<TokenSpec>) -> Result<Auth, String> {
        for (user, hash) in &users {
            if !is_bcrypt(hash) {
                return Err(format!(
                    "basic_auth_users.{user}: not a bcrypt hash (make one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'`)"
                ));
            }
        }
        let tokens = tokens
            .into_iter()
            .map(|t| Token {
                name: t.name,
                digest: sha256(t.token.as_bytes()),
                scopes: t.scopes,
            })
            .collect();
        Ok(Auth {
            users,
            tokens,
            verified: Mutex::new(HashSet::new()),
        })
    }

    /// Whether no credentials are configured (every request is allowed).
    pub fn is_open(&self) -> bool {
        self.users.is_empty() && self.tokens.is_empty()
    }

    /// Whether basic auth is configured (for the `WWW-Authenticate` challenge).
    pub fn has_users(&self) -> bool {
        !self.users.is_empty()
    }

    /// Checks an `Authorization` header value for `scope`. May run bcrypt:
    /// call it off the async threads.
    ///
    /// # Errors
    /// See [`Denied`].
    pub fn check(&self, authorization: Option<&[u8]>, scope: Scope) -> Result<(), Denied> {
        if self.is_open() {
            return Ok(());
        }
        let header = authorization.ok_or(Denied::Unauthenticated)?;
        let (kind, credentials) = split_scheme(header).ok_or(Denied::Unauthenticated)?;
        if kind.eq_ignore_ascii_case(b"bearer") {
            let token = self.token(credentials).ok_or(Denied::Unauthenticated)?;
            if token.scopes.contains(&scope) || token.scopes.contains(&Scope::Admin) {
                Ok(())
            } else {
                tracing::debug!(token = token.name, ?scope, "token lacks the scope");
                Err(Denied::Forbidden)
            }
        } else if kind.eq_ignore_ascii_case(b"basic") {
            // Basic users have full access, as in exporter-toolkit.
            self.basic(credentials)
                .then_some(())
                .ok_or(Denied::Unauthenticated)
        } else {
            Err(Denied::Unauthenticated)
        }
    }

    /// The configured token equal to `presented`. Every token is compared,
    /// each in constant time, so the time taken tells nothing.
    fn token(&self, presented: &[u8]) -> Option<&Token> {
        let digest = sha256(presented);
        let mut found = None;
        for token in &self.tokens {
            if bool::from(token.digest.ct_eq(&digest)) {
                found = Some(token);
            }
        }
        found
    }

    fn basic(&self, credentials: &[u8]) -> bool {
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(credentials) else {
            return false;
        };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else {
            return false;
        };
        let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
        let Some(hash) = std::str::from_utf8(user)
            .ok()
            .and_then(|u| self.users.get(u))
        else {
            let _ = bcrypt::verify(password, DUMMY_HASH);
            return false;
        };
        let key = cache_key(user, password, hash);
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.contains(&key) {
            return true;
        }
        drop(verified);
        let ok = bcrypt::verify(password, hash).unwrap_or(false);
        if ok {
            verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            if verified.len() >= CACHE_LIMIT {
                verified.clear();
            }
            verified.insert(key);
        }
        ok
    }
}

/// `Scheme credentials` → (scheme, credentials).
fn split_scheme(header: &[u8]) -> Option<(&[u8], &[u8])> {
    let space = header.iter().position(|&b| b == b' ')?;
    let credentials = header[space + 1..].trim_ascii();
    (!credentials.is_empty()).then_some((&header[..space], credentials))
}

fn is_bcrypt(hash: &str) -> bool {
    let parts: Vec<&str> = hash.split('$').collect();
    parts.len() == 4
        && parts[0].is_empty()
        && ["2a", "2b", "2x", "2y"].contains(&parts[1])
        && parts[2].parse::<u32>().is_ok_and(|c| (4..=31).contains(&c))
        && parts[3].len() == 53
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Length-prefixed fields, so `("ab", "c")` and `("a", "bc")` differ.
fn cache_key(user: &[u8], password: &[u8], hash: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for field in [user, password, hash.as_bytes()] {
        ctx.update(&(field.len() as u64).to_be_bytes());
        ctx.update(field);
    }
    let mut out = [0; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> Vec<u8> {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {encoded}").into_bytes()
    }

    fn auth() -> Auth {
        // Cost 4 keeps the test quick; the code path is the same.
        let hash = bcrypt::hash("right password", 4).unwrap();
        Auth::new(
            BTreeMap::from([("alice".to_owned(), hash)]),
            vec![TokenSpec {
                name: "scraper".to_owned(),
                token: "metrics-only-token-0123456789".to_owned(),
                scopes: vec![Scope::MetricsRead],
            }],
        )
        .unwrap()
    }

    #[test]
    fn users_have_full_access_tokens_their_scopes() {
        let auth = auth();
        let alice = basic("alice", "right password");
        for scope in [Scope::MetricsRead, Scope::StatusRead, Scope::Admin] {
            assert_eq!(auth.check(Some(&alice), scope), Ok(()));
        }
        // The second check is answered from the cache, with the same verdict.
        assert_eq!(auth.check(Some(&alice), Scope::Admin), Ok(()));
        let token = b"Bearer metrics-only-token-0123456789";
        assert_eq!(auth.check(Some(token), Scope::MetricsRead), Ok(()));
        assert_eq!(
            auth.check(Some(token), Scope::Admin),
            Err(Denied::Forbidden)
        );
    }

    #[test]
    fn wrong_or_missing_credentials_are_unauthenticated() {
        let auth = auth();
        for header in [
            None,
            Some(basic("alice", "wrong").as_slice()),
            Some(basic("mallory", "right password").as_slice()),
            Some(b"Bearer metrics-only-token-012345678".as_slice()),
            Some(b"Bearer".as_slice()),
            Some(b"Basic !!!".as_slice()),
            Some(b"Digest x".as_slice()),
        ] {
            assert_eq!(
                auth.check(header, Scope::MetricsRead),
                Err(Denied::Unauthenticated),
                "{:?}",
                header.map(String::from_utf8_lossy)
            );
        }
    }

    #[test]
    fn the_dummy_hash_is_a_bcrypt_hash() {
        assert!(is_bcrypt(DUMMY_HASH));
        assert!(!bcrypt::verify("", DUMMY_HASH).unwrap());
    }
}
