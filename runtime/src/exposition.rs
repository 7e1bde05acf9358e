//! Whole expositions: every group's published bytes, the application
//! instruments, then the self-metrics, in text format 0.0.4 or OpenMetrics
//! 1.0 — and a cache that builds each (format, gzip) body once per store
//! generation (and, with instruments, at most once per
//! [`instrument::CACHE_TTL`](crate::instrument::CACHE_TTL) or
//! [`instrument::flush`](crate::instrument::flush)), so every scrape
//! between two collections shares the same bytes.
//!
//! `/metrics`, `/metrics/<service>`, the textfile writer and the pushers
//! all take their bytes from here ([`assemble`] writes every one): one
//! catalog, the same names everywhere.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;

use crate::collect::ServerStats;
use crate::encode::Format;
use crate::instances;
use crate::plan::{Collector, InstrumentsPlan, Plan};
use crate::selfmetrics::{self, Entry};
use crate::store::{OutputStatus, Store};

/// Bodies smaller than this are not worth compressing.
pub(crate) const GZIP_MIN_BYTES: usize = 1024;

/// The exposition of every scheduled group (only `service`'s when set).
pub fn build(plan: &Plan, store: &Store, service: Option<&str>, format: Format) -> Vec<u8> {
    let snapshots = store.all();
    let entries: Vec<Entry<'_>> = Entry::scheduled(plan, &snapshots)
        .filter(|e| service.is_none_or(|s| e.group.service == s))
        .collect();
    let instruments: Vec<&InstrumentsPlan> = plan
        .instruments
        .iter()
        .filter(|i| service.is_none_or(|s| i.service == s))
        .collect();
    assemble(&entries, &instruments, &store.outputs(), format)
}

/// One exposition: each entry's published series in order (the instances
/// of one collector together, at the first one's place), the
/// application instruments, then the groups' self-metrics, the outputs'
/// and the instruments' refusals, then OpenMetrics' `# EOF`.
pub(crate) fn assemble(
    entries: &[Entry<'_>],
    instruments: &[&InstrumentsPlan],
    outputs: &[Arc<OutputStatus>],
    format: Format,
) -> Vec<u8> {
    let size: usize = entries
        .iter()
        .map(|e| e.snapshot.body_in(format).len())
        .sum();
    let mut out = Vec::with_capacity(size + 256 * entries.len() + 8);
    for (i, entry) in entries.iter().enumerate() {
        let Some(collector) = instance_of(entry) else {
            out.extend_from_slice(entry.snapshot.body_in(format));
            continue;
        };
        // The instances of one collector share its families: the first
        // writes them all, merged.
        if entries[..i]
            .iter()
            .any(|e| instance_of(e) == Some(collector))
        {
            continue;
        }
        let bodies: Vec<&[u8]> = entries[i..]
            .iter()
            .filter(|e| instance_of(e) == Some(collector))
            .map(|e| &e.snapshot.body_in(format)[..])
            .collect();
        match bodies.as_slice() {
            [one] => out.extend_from_slice(one),
            many => instances::merge(many, &mut out),
        }
    }
    for i in instruments {
        (i.encode)(&mut out, format);
    }
    selfmetrics::encode(&mut out, entries, format);
    selfmetrics::encode_outputs(&mut out, outputs, format);
    crate::instrument::rejections::encode(&mut out, format);
    crate::statsd::encode(&mut out, format);
    if format == Format::OpenMetrics {
        out.extend_from_slice(b"# EOF\n");
    }
    out
}

/// The collector type of an instance's entry.
fn instance_of(entry: &Entry<'_>) -> Option<&'static str> {
    match &entry.group.collector {
        Collector::Instance(instance) => Some(instance.collector),
        Collector::Extract(_) => None,
    }
}

/// What a running plan publishes: its latest snapshots and the bodies
/// built from them. The listeners and the outputs read it; the scheduler
/// writes the store.
#[derive(Debug)]
pub(crate) struct Exposition {
    /// The plan being run.
    pub plan: &'static Plan,
    /// Latest snapshots.
    pub store: Arc<Store>,
    cache: Cache,
}

impl Exposition {
    /// The exposition of `store`, counting body builds in `stats`.
    pub(crate) fn new(
        plan: &'static Plan,
        store: Arc<Store>,
        stats: Arc<ServerStats>,
    ) -> Exposition {
        Exposition {
            plan,
            store,
            cache: Cache::new(stats),
        }
    }

    /// The whole exposition, cached per store generation ([`Cache::get`]).
    pub(crate) fn body(&self, format: Format, gzip: bool) -> (Bytes, bool) {
        self.cache.get(self.plan, &self.store, format, gzip)
    }

    /// One scheduled service's exposition, built for this request.
    pub(crate) fn service(&self, service: &str, format: Format) -> Vec<u8> {
        build(self.plan, &self.store, Some(service), format)
    }
}

/// gzip at the default level.
pub(crate) fn gzip(body: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 64),
        flate2::Compression::default(),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    Bytes::from(encoder.finish().unwrap_or_default())
}

/// The bodies of `/metrics` for the current store generation.
#[derive(Debug)]
struct Cache {
    current: Mutex<Cached>,
    /// Where builds are counted.
    stats: Arc<ServerStats>,
}

#[derive(Debug, Default)]
struct Cached {
    /// The store generation, and the instruments' cache epoch when the
    /// plan has instruments (they change without a collection).
    generation: Option<(u64, u64)>,
    /// Indexed by [`slot`].
    bodies: [Option<Bytes>; 4],
}

fn slot(format: Format, gzip: bool) -> usize {
    let f = match format {
        Format::Prometheus => 0,
        Format::OpenMetrics => 2,
    };
    f + usize::from(gzip)
}

impl Cache {
    /// An empty cache that counts its builds in `stats`.
    fn new(stats: Arc<ServerStats>) -> Cache {
        Cache {
            current: Mutex::default(),
            stats,
        }
    }

    /// The whole exposition in `format`, gzipped when `gzip` (and large
    /// enough; the flag returned says whether it is). Built at most once per
    /// store generation; concurrent scrapes wait for the one building it.
    fn get(&self, plan: &Plan, store: &Store, format: Format, gzip: bool) -> (Bytes, bool) {
        let epoch = if plan.instruments.is_empty() {
            0
        } else {
            crate::instrument::cache_epoch()
        };
        let generation = (store.generation(), epoch);
        let mut cached = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if cached.generation != Some(generation) {
            *cached = Cached {
                generation: Some(generation),
                bodies: Default::default(),
            };
        }
        let plain = match &cached.bodies[slot(format, false)] {
            Some(body) => body.clone(),
            None => {
                let started = Instant::now();
                let body = Bytes::from(build(plan, store, None, format));
                self.stats.record_build(started.elapsed());
                cached.bodies[slot(format, false)] = Some(body.clone());
                body
            }
        };
        if !gzip || plain.len() < GZIP_MIN_BYTES {
            return (plain, false);
        }
        let zipped = cached.bodies[slot(format, true)]
            .get_or_insert_with(|| {
                let started = Instant::now();
                let zipped = self::gzip(&plain);
                self.stats.record_build(started.elapsed());
                zipped
            })
            .clone();
        (zipped, true)
    }
}
