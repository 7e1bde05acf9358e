//! Host names and `host:port` authorities: what may stand in a URL's
//! authority when it comes from outside the spec (a request's `target`)
//! or is checked at build time (`server_name`).
//!
//! A host is a DNS name (dot-separated labels of letters, digits and `-`,
//! none starting or ending with `-`), an IPv4 address, or an IPv6 address
//! in brackets. Nothing else: no `@` (credentials would move the request
//! to another host), no `/`, `?`, `#`, `%` or whitespace (they would
//! change the path, the query or the encoding), no empty label. A port is
//! 1 to 65535 in decimal.
//!
//! Read by the spec's validator and by the runtime's request checks, so
//! the build and a running pme agree on one grammar.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Whether `name` is a DNS name or an IP address (IPv6 without brackets),
/// as a TLS server name is.
#[must_use]
pub fn is_server_name(name: &str) -> bool {
    name.parse::<std::net::IpAddr>().is_ok() || is_dns_name(name)
}

/// Checks a URL host: a DNS name, an IPv4 address or `[IPv6]`.
///
/// # Errors
/// Why `host` is not one, for the person who sent it.
pub fn check_host(host: &str) -> Result<(), String> {
    if let Some(inner) = host.strip_prefix('[') {
        return match inner.strip_suffix(']').map(str::parse::<Ipv6Addr>) {
            Some(Ok(_)) => Ok(()),
            _ => Err(format!(
                "`{}` is not an IPv6 address in brackets",
                host.escape_debug()
            )),
        };
    }
    if host.parse::<Ipv4Addr>().is_ok() || is_dns_name(host) {
        return Ok(());
    }
    Err(format!(
        "`{}` is not a host name or IP address (letters, digits, `-` and `.`; IPv6 in brackets)",
        host.escape_debug()
    ))
}

/// Checks `host` or `host:port`.
///
/// # Errors
/// Why `authority` is not one.
pub fn check_host_port(authority: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-.:[]".contains(c);
    if !authority.chars().all(allowed) {
        return Err(format!(
            "`{}` is not a host name or IP address and port (letters, digits, `-` and `.`; IPv6 in brackets)",
            authority.escape_debug()
        ));
    }
    let (host, port) = split_port(authority);
    check_host(host)?;
    match port {
        None => Ok(()),
        Some(port) => check_port(port),
    }
}

/// `host` and, after its last `:` (outside brackets), the port text.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    let host_end = if authority.starts_with('[') {
        authority.find(']').map_or(authority.len(), |i| i + 1)
    } else {
        authority.rfind(':').unwrap_or(authority.len())
    };
    let (host, rest) = authority.split_at(host_end);
    match rest.strip_prefix(':') {
        Some(port) => (host, Some(port)),
        None if rest.is_empty() => (host, None),
        // `[::1]x`: the junk after the bracket stays with the host.
        None => (authority, None),
    }
}

/// Checks a port: 1 to 65535 in decimal, no sign.
///
/// # Errors
/// Why `port` is not one.
pub fn check_port(port: &str) -> Result<(), String> {
    let valid = !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "port `{}` is not a number from 1 to 65535",
            port.escape_debug()
        ))
    }
}

fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports_that_are_accepted() {
        for ok in [
            "localhost",
            "db-1.example.com",
            "127.0.0.1",
            "127.0.0.1:9100",
            "[::1]",
            "[::1]:8080",
            "node.internal:65535",
        ] {
            assert_eq!(check_host_port(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn anything_that_could_move_the_request_is_refused() {
        for bad in [
            "",
            "evil.example@127.0.0.1",
            "127.0.0.1/admin",
            "127.0.0.1?x=1",
            "127.0.0.1#x",
            "127.0.0.1%2fadmin",
            "a b",
            "-x",
            "x-",
            "a..b",
            ".",
            "127.0.0.1:",
            "127.0.0.1:0",
            "127.0.0.1:65536",
            "127.0.0.1:+80",
            "127.0.0.1:80:80",
            "[::1",
            "[::1]x",
            "[not-ipv6]",
            "http://127.0.0.1",
            "ünicode.example",
        ] {
            assert!(check_host_port(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(check_host("127.0.0.1:80").is_err());
    }

    #[test]
    fn server_names_take_bare_ipv6() {
        assert!(is_server_name("::1"));
        assert!(is_server_name("pme.test"));
        assert!(!is_server_name("[::1]"));
    }
}
