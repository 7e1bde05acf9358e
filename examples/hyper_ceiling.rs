//! The ceiling for `bench/scrape.sh`: a bare hyper server answering every
//! request with the same bytes from memory (and their gzip, precompressed,
//! when the client accepts it). Nothing an exporter could do is faster, so
//! pme's requests per second over this one is the cost of being pme.
//!
//! `cargo run --release --example hyper_ceiling -- ADDR FILE`

use std::convert::Infallible;
use std::io::Write;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(file)) = (args.next(), args.next()) else {
        eprintln!("usage: hyper_ceiling ADDR FILE");
        std::process::exit(2);
    };
    let plain = Bytes::from(std::fs::read(&file).expect("read the body"));
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&plain).unwrap();
    let gzip = Bytes::from(encoder.finish().unwrap());
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!("serving {} bytes on {addr}", plain.len());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (plain, gzip) = (plain.clone(), gzip.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let zipped = req
                    .headers()
                    .get(ACCEPT_ENCODING)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("gzip"));
                let mut response =
                    Response::new(Full::new(if zipped { gzip.clone() } else { plain.clone() }));
                response.headers_mut().insert(
                    CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8".parse().unwrap(),
                );
                if zipped {
                    response
                        .headers_mut()
                        .insert(CONTENT_ENCODING, "gzip".parse().unwrap());
                }
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
