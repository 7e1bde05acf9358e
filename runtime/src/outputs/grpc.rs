//! One unary gRPC call over HTTP/2, as the gRPC wire protocol
//! (`PROTOCOL-HTTP2.md`) describes it: a `POST` to `/package.Service/Method`
//! with `content-type: application/grpc` and `te: trailers`, the message in
//! a length-prefixed frame (one flag byte, then its length as a big-endian
//! `u32`), and the outcome in the `grpc-status` and `grpc-message`
//! trailers (or headers, for a trailers-only answer). Enough for OTLP's
//! `MetricsService/Export`; no streaming.

use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Method, Request};

use super::{ATTEMPTS, FIRST_WAIT, Sender};
use crate::https::error_chain;

/// The codes worth trying again, as the OTLP exporter specification lists
/// them: CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED,
/// OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS.
const RETRYABLE: &[u32] = &[1, 4, 8, 10, 11, 14, 15];

/// The code names, for messages.
const NAMES: &[&str] = &[
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// `message` in one gRPC frame; `compressed` sets the flag byte (the
/// message is then already compressed with the call's `grpc-encoding`).
pub(crate) fn frame(message: &[u8], compressed: bool) -> Bytes {
    let mut out = BytesMut::with_capacity(5 + message.len());
    out.put_u8(u8::from(compressed));
    out.put_u32(message.len() as u32);
    out.extend_from_slice(message);
    out.freeze()
}

/// Calls `url` (the method's full URL) with `framed`, retrying what
/// [`RETRYABLE`] and transport failures allow, three attempts in all.
/// Returns the reply message (unframed; empty when the server sent none).
///
/// # Errors
/// The last attempt's failure: no answer, an HTTP status other than 200,
/// or a `grpc-status` other than OK, with its name and message.
pub(crate) async fn call(
    sender: &Sender,
    url: &str,
    headers: &[(&str, &str)],
    framed: Bytes,
) -> Result<Bytes, String> {
    let mut wait = FIRST_WAIT;
    let mut attempt = 1;
    loop {
        match once(sender, url, headers, framed.clone()).await {
            Ok(reply) => return Ok(reply),
            Err((true, e)) if attempt < ATTEMPTS => {
                tracing::debug!("attempt {attempt} failed, retrying in {wait:?}: {e}");
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
            Err((_, e)) => return Err(e),
        }
    }
}

/// One attempt; a failure says whether another may succeed.
async fn once(
    sender: &Sender,
    url: &str,
    headers: &[(&str, &str)],
    framed: Bytes,
) -> Result<Bytes, (bool, String)> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(url)
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    for (name, value) in sender.delivery.headers().map_err(|e| (true, e))? {
        request = request.header(name, value);
    }
    let request = request
        .body(Full::new(framed))
        .map_err(|e| (false, format!("{url}: {e}")))?;
    let timeout = sender.delivery.timeout;
    let exchange = async {
        let response = sender
            .client
            .request(request)
            .await
            .map_err(|e| (true, format!("gRPC {url}: {}", error_chain(&e))))?;
        let (parts, body) = response.into_parts();
        if parts.status != hyper::StatusCode::OK {
            let retry = parts.status.is_server_error()
                || parts.status == hyper::StatusCode::TOO_MANY_REQUESTS;
            return Err((retry, format!("gRPC {url} answered HTTP {}", parts.status)));
        }
        let collected = body
            .collect()
            .await
            .map_err(|e| (true, format!("gRPC {url}: {}", error_chain(&e))))?;
        let trailers = collected.trailers().cloned().unwrap_or_default();
        let data = collected.to_bytes();
        status(&parts.headers, &trailers)
            .map_err(|(retry, e)| (retry, format!("gRPC {url}: {e}")))?;
        Ok(unframe(&data))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => Err((true, format!("gRPC {url}: timed out after {timeout:?}"))),
        Ok(result) => result,
    }
}

/// The call's outcome from `grpc-status` (trailers, or headers in a
/// trailers-only answer).
fn status(headers: &HeaderMap, trailers: &HeaderMap) -> Result<(), (bool, String)> {
    let get = |name: &str| {
        trailers
            .get(name)
            .or_else(|| headers.get(name))
            .and_then(|v| v.to_str().ok())
    };
    let Some(code) = get("grpc-status") else {
        return Err((true, "the answer has no grpc-status".to_owned()));
    };
    let code: u32 = code
        .trim()
        .parse()
        .map_err(|_| (false, format!("grpc-status `{code}` is not a number")))?;
    if code == 0 {
        return Ok(());
    }
    let name = NAMES.get(code as usize).copied().unwrap_or("UNKNOWN");
    let message = get("grpc-message")
        .map(|m| {
            percent_encoding::percent_decode_str(m)
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    Err((
        RETRYABLE.contains(&code),
        format!("status {code} {name}: {message}"),
    ))
}

/// The message of the first frame of `data` (uncompressed replies only:
/// pme asks for none).
fn unframe(data: &[u8]) -> Bytes {
    let Some(len) = data.get(1..5) else {
        return Bytes::new();
    };
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    data.get(5..5 + len)
        .map(Bytes::copy_from_slice)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_statuses() {
        let framed = frame(b"abc", false);
        assert_eq!(&framed[..], b"\0\0\0\0\x03abc");
        assert_eq!(&unframe(&framed)[..], b"abc");
        assert_eq!(frame(b"", true)[0], 1);
        assert!(unframe(b"\0\0").is_empty());

        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", "0".parse().unwrap());
        assert_eq!(status(&HeaderMap::new(), &trailers), Ok(()));
        let mut headers = HeaderMap::new();
        headers.insert("grpc-status", "16".parse().unwrap());
        headers.insert("grpc-message", "no%20token".parse().unwrap());
        assert_eq!(
            status(&headers, &HeaderMap::new()),
            Err((false, "status 16 UNAUTHENTICATED: no token".to_owned()))
        );
        headers.insert("grpc-status", "14".parse().unwrap());
        assert!(
            status(&headers, &HeaderMap::new()).unwrap_err().0,
            "UNAVAILABLE is retried"
        );
        assert!(status(&HeaderMap::new(), &HeaderMap::new()).is_err());
    }
}
