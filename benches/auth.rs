//! `cargo bench --bench auth`: what checking credentials costs a scrape.
//!
//! A bearer token (SHA-256 and constant-time comparison against every
//! configured token), a basic-auth password already verified once (the
//! cache of successes), and the first bcrypt verification at cost 10, the
//! cost `htpasswd -B` uses by default, which the cache exists to avoid.

use std::collections::BTreeMap;
use std::hint::black_box;

use pme::__private::{Auth, Scope, TokenSpec};

mod common;
use common::median_secs;

fn main() {
    let tokens: Vec<TokenSpec> = (0..10)
        .map(|i| TokenSpec {
            name: format!("t{i}"),
            token: format!("benchmark-token-number-{i:04}"),
            scopes: vec![Scope::MetricsRead],
        })
        .collect();
    let hash = bcrypt::hash("benchmark password", 10).unwrap();
    let auth = Auth::new(BTreeMap::from([("alice".to_owned(), hash)]), tokens).unwrap();
    let bearer = b"Bearer benchmark-token-number-0007".to_vec();
    // base64("alice:benchmark password")
    let basic = b"Basic YWxpY2U6YmVuY2htYXJrIHBhc3N3b3Jk".to_vec();

    let first = std::time::Instant::now();
    assert_eq!(auth.check(Some(&basic), Scope::MetricsRead), Ok(()));
    let bcrypt_secs = first.elapsed().as_secs_f64();

    let bearer_secs = median_secs(31, 10_000, || {
        black_box(auth.check(Some(black_box(&bearer)), Scope::MetricsRead)).unwrap();
    });
    let cached_secs = median_secs(31, 10_000, || {
        black_box(auth.check(Some(black_box(&basic)), Scope::MetricsRead)).unwrap();
    });
    println!(
        "bearer token, 10 configured:       {:>9.0} ns",
        bearer_secs * 1e9
    );
    println!(
        "basic auth, cached success:        {:>9.0} ns",
        cached_secs * 1e9
    );
    println!(
        "basic auth, first bcrypt (cost 10): {:>8.1} ms",
        bcrypt_secs * 1e3
    );
    println!(
        "the cache makes a basic-auth scrape {:.0}x cheaper",
        bcrypt_secs / cached_secs
    );
}
