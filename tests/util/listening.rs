//! Which TCP ports a process listens on, read from `/proc`: how the tests
//! and benchmarks find the port a peer started with port 0 took. Shared by
//! `tests/util` and `benches/common` (included there by path).

use std::net::SocketAddr;

/// The TCP addresses process `pid` listens on: its own sockets (from
/// `/proc/PID/fd`) that its network namespace's tables list in state LISTEN.
pub(crate) fn listening_addrs(pid: u32) -> Vec<SocketAddr> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let inodes: std::collections::HashSet<String> = fds
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let target = target.to_str()?;
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_owned(),
            )
        })
        .collect();
    let mut found = Vec::new();
    for (table, v6) in [("tcp", false), ("tcp6", true)] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() > 9 && fields[3] == "0A" && inodes.contains(fields[9]) {
                found.push(proc_net_addr(fields[1], v6));
            }
        }
    }
    found
}

/// An address as `/proc/net/tcp{,6}` writes it: hex words in host order, then the port.
fn proc_net_addr(field: &str, v6: bool) -> SocketAddr {
    let (ip, port) = field.split_once(':').unwrap();
    let port = u16::from_str_radix(port, 16).unwrap();
    let words: Vec<u32> = (0..ip.len() / 8)
        .map(|i| u32::from_str_radix(&ip[i * 8..i * 8 + 8], 16).unwrap())
        .collect();
    let ip: std::net::IpAddr = if v6 {
        let mut bytes = [0u8; 16];
        for (chunk, word) in bytes.chunks_mut(4).zip(&words) {
            chunk.copy_from_slice(&word.to_ne_bytes());
        }
        std::net::Ipv6Addr::from(bytes).into()
    } else {
        std::net::Ipv4Addr::from(words[0].to_ne_bytes()).into()
    };
    SocketAddr::new(ip, port)
}
