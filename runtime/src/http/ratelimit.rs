//! A per-client rate limit (GCRA, the token bucket written as one
//! timestamp per client): a client may send `burst` requests at once, then
//! one per `interval`. exporter-toolkit's `rate_limit` is one bucket for
//! all clients; pme keys it by client address, so one noisy client cannot
//! lock out Prometheus.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::webconfig::RateLimit;

/// Clients tracked before idle ones are forgotten.
const TRACKED: usize = 16_384;

/// Each client's "theoretical arrival time": when its bucket is full again.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    clients: Mutex<HashMap<IpAddr, Instant>>,
}

impl Limiter {
    /// Whether `client` may make a request now; `Err` holds how long until
    /// it may (for `Retry-After`).
    ///
    /// # Errors
    /// Over the limit.
    pub(crate) fn check(
        &self,
        client: IpAddr,
        limit: RateLimit,
        now: Instant,
    ) -> Result<(), Duration> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if clients.len() >= TRACKED {
            // A client whose bucket has refilled is as good as unknown.
            clients.retain(|_, full_at| *full_at > now);
        }
        let full_at = clients.get(&client).copied().unwrap_or(now).max(now);
        let next = full_at + limit.interval;
        let allowance = limit.interval * limit.burst;
        if next - now > allowance {
            return Err(next - now - allowance);
        }
        clients.insert(client, next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_interval_per_client() {
        let limit = RateLimit {
            interval: Duration::from_secs(1),
            burst: 3,
        };
        let limiter = Limiter::default();
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "::1".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check(a, limit, t0), Ok(()));
        }
        let wait = limiter.check(a, limit, t0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(1));
        // Another client has a bucket of its own.
        assert_eq!(limiter.check(b, limit, t0), Ok(()));
        // One interval later, one more request.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(limiter.check(a, limit, t1), Ok(()));
        assert!(limiter.check(a, limit, t1).is_err());
        // A long pause refills the bucket, not beyond `burst`.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limiter.check(a, limit, t2), Ok(()));
        }
        assert!(limiter.check(a, limit, t2).is_err());
    }
}
