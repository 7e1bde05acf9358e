//! A small HTTP proxy for the proxy tests, on an ephemeral loopback port:
//! `CONNECT host:port` opens a tunnel and an absolute-form request is
//! forwarded, each to the loopback address its `host:port` is mapped to
//! (no name is ever resolved). It records every request head, and with
//! credentials set it answers `407` to a request without them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Each request's first line and `Proxy-Authorization`.
type Heads = Mutex<Vec<(String, Option<String>)>>;

/// A running proxy, stopped on drop.
pub struct Proxy {
    pub addr: SocketAddr,
    /// The first line and the `Proxy-Authorization` of each request.
    pub seen: Arc<Heads>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Proxy {
    /// A proxy sending `host:port` to `routes[host:port]`; with `auth`
    /// (`Basic …`), only requests that carry it.
    pub fn start(routes: &[(&str, SocketAddr)], auth: Option<&str>) -> Proxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind the proxy");
        let addr = listener.local_addr().unwrap();
        let routes: Arc<HashMap<String, SocketAddr>> = Arc::new(
            routes
                .iter()
                .map(|(name, addr)| ((*name).to_owned(), *addr))
                .collect(),
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let auth = auth.map(str::to_owned);
        let recorded = seen.clone();
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (routes, seen, auth) = (routes.clone(), recorded.clone(), auth.clone());
                tokio::spawn(async move {
                    let _ = serve(client, &routes, &seen, auth.as_deref()).await;
                });
            }
        });
        Proxy {
            addr,
            seen,
            runtime: Some(runtime),
        }
    }

    /// The request lines seen so far.
    pub fn lines(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(l, _)| l.clone())
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn serve(
    mut client: TcpStream,
    routes: &HashMap<String, SocketAddr>,
    seen: &Heads,
    auth: Option<&str>,
) -> std::io::Result<()> {
    // The head, and whatever of the body came with it (bounded).
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = client.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let line = text.lines().next().unwrap_or("").to_owned();
    let given = text.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("proxy-authorization")
            .then(|| value.trim().to_owned())
    });
    seen.lock().unwrap().push((line.clone(), given.clone()));
    if auth.is_some() && given.as_deref() != auth {
        client
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await?;
        return Ok(());
    }
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let authority = if method == "CONNECT" {
        target.to_owned()
    } else {
        let rest = target.strip_prefix("http://").unwrap_or("");
        rest.split('/').next().unwrap_or("").to_owned()
    };
    let Some(backend) = routes.get(&authority) else {
        client
            .write_all(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await?;
        return Ok(());
    };
    let mut upstream = TcpStream::connect(backend).await?;
    if method == "CONNECT" {
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await?;
        upstream.write_all(&head[end..]).await?;
    } else {
        upstream.write_all(&head).await?;
    }
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}
