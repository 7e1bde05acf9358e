//! `source_type: file`: a file's content, size-capped, re-parsed only when
//! it changed.
//!
//! Regular files with a size are skipped when inode, size and mtime are
//! unchanged. Files in /proc and /sys report size 0 and a fixed mtime, so
//! for those the content itself is compared with the last read.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::sync::Mutex;
use std::time::Duration;

use super::{Reading, SourceError};

/// What the last successful read saw.
#[derive(Debug, Default)]
pub(super) struct Seen {
    meta: Option<Meta>,
    content_hash: Option<u64>,
}

pub(super) async fn read(
    path: &'static str,
    limit: usize,
    timeout: Duration,
    seen: &Mutex<Seen>,
) -> Result<Reading, SourceError> {
    let previous = seen.lock().unwrap_or_else(|p| p.into_inner()).meta;
    // File I/O blocks; a hung read (NFS, FUSE) costs one blocking thread, not the group.
    let task = tokio::task::spawn_blocking(move || read_capped(path, limit, previous));
    let (meta, content) = match tokio::time::timeout(timeout, task).await {
        Err(_) => return Err(SourceError::Timeout(timeout)),
        Ok(Err(join)) => return Err(SourceError::Io(format!("read of {path} failed: {join}"))),
        Ok(Ok(result)) => match result? {
            Some(read) => read,
            None => return Ok(Reading::Unchanged),
        },
    };
    let mut hasher = DefaultHasher::new();
    content.hash(&mut hasher);
    let hash = hasher.finish();
    let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
    let unchanged = seen.content_hash == Some(hash);
    *seen = Seen {
        meta: Some(meta),
        content_hash: Some(hash),
    };
    Ok(if unchanged {
        Reading::Unchanged
    } else {
        Reading::Fresh(content)
    })
}

/// Device, inode, size, mtime (seconds, nanoseconds).
type Meta = (u64, u64, u64, i64, i64);

/// Reads at most `limit` bytes; `None` when a regular file with a size
/// still has the metadata of the last read.
fn read_capped(
    path: &str,
    limit: usize,
    previous: Option<Meta>,
) -> Result<Option<(Meta, Vec<u8>)>, SourceError> {
    let io = |e: std::io::Error| SourceError::Io(format!("{path}: {e}"));
    let file = std::fs::File::open(path).map_err(io)?;
    let m = file.metadata().map_err(io)?;
    if !m.is_file() {
        return Err(SourceError::Io(format!("{path}: not a regular file")));
    }
    let meta = (m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec());
    if m.size() > 0 && previous == Some(meta) {
        return Ok(None);
    }
    if m.size() > limit as u64 {
        return Err(SourceError::TooLarge(limit));
    }
    let mut content = Vec::with_capacity((m.size() as usize).min(limit) + 1);
    // One byte more than the limit tells "too large" from "exactly the limit".
    file.take(limit as u64 + 1)
        .read_to_end(&mut content)
        .map_err(io)?;
    if content.len() > limit {
        return Err(SourceError::TooLarge(limit));
    }
    Ok(Some((meta, content)))
}
