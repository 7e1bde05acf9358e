//! `source_type: file`: a file's content, size-capped.
//!
//! The last content is cached with the file's metadata: a regular file with
//! a size whose inode, size and mtime are unchanged is not read again, as
//! long as that mtime was at least a second old when the cached content was
//! read (git's "racily clean" rule: file timestamps are coarse, so a
//! same-size rewrite just after a read can keep the same mtime). Files
//! in /proc and /sys report size 0 and a fixed mtime, so they are always
//! read; the reading's version (a content hash) still lets each group skip
//! re-parsing content it has seen.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::identity::Identity;
use super::{Reading, SourceError};

/// The last successful read.
#[derive(Debug, Default)]
pub(super) struct Seen {
    last: Option<(Meta, Reading)>,
}

/// Reads `path` with pme's rights, or with `as_user`'s when set.
pub(super) async fn read(
    path: &'static str,
    limit: usize,
    timeout: Duration,
    seen: &Mutex<Seen>,
    as_user: Option<&Identity>,
) -> Result<Reading, SourceError> {
    let previous = seen.lock().unwrap_or_else(|p| p.into_inner()).last.clone();
    let known = previous.as_ref().map(|(meta, _)| *meta);
    // File I/O blocks; a hung read (NFS, FUSE) costs one thread, not the group.
    let result = match as_user {
        None => {
            let task = tokio::task::spawn_blocking(move || read_capped(path, limit, known));
            match tokio::time::timeout(timeout, task).await {
                Err(_) => Err(SourceError::Timeout(timeout)),
                Ok(Err(join)) => Err(SourceError::Io(format!("read of {path} failed: {join}"))),
                Ok(Ok(result)) => result,
            }
        }
        Some(identity) => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let spawned = identity.spawn_with_file_rights(move |assumed| {
                let result = match assumed {
                    Ok(()) => read_capped(path, limit, known),
                    Err(e) => Err(SourceError::Io(format!("{path}: {e}"))),
                };
                let _ = tx.send(result);
            });
            match spawned {
                Err(e) => Err(SourceError::Io(format!(
                    "{path}: cannot start a thread: {e}"
                ))),
                Ok(()) => match tokio::time::timeout(timeout, rx).await {
                    Err(_) => Err(SourceError::Timeout(timeout)),
                    Ok(Err(_)) => Err(SourceError::Io(format!("read of {path} failed"))),
                    Ok(Ok(result)) => result,
                },
            }
        }
    };
    let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
    match result {
        Ok(Some((meta, content, trusted))) => {
            let reading = Reading::new(content.into());
            // Cache only what the metadata can vouch for later.
            seen.last = trusted.then(|| (meta, reading.clone()));
            Ok(reading)
        }
        // Unchanged metadata: the cached content is the file's content.
        Ok(None) => previous
            .map(|(_, reading)| reading)
            .ok_or_else(|| SourceError::Io(format!("{path}: no cached content"))),
        Err(e) => {
            seen.last = None;
            Err(e)
        }
    }
}

/// Device, inode, size, mtime (seconds, nanoseconds).
type Meta = (u64, u64, u64, i64, i64);

/// How old an mtime must be before it vouches for the content read with it.
const RACY_WINDOW: Duration = Duration::from_secs(1);

/// Reads at most `limit` bytes; `None` when a regular file with a size
/// still has the metadata of the cached read. The flag says whether the
/// file's mtime was old enough, at this read, to vouch for its content.
fn read_capped(
    path: &str,
    limit: usize,
    previous: Option<Meta>,
) -> Result<Option<(Meta, Vec<u8>, bool)>, SourceError> {
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
    let trusted = m.size() > 0
        && m.modified().is_ok_and(|t| {
            SystemTime::now()
                .duration_since(t)
                .is_ok_and(|age| age >= RACY_WINDOW)
        });
    let mut content = Vec::with_capacity((m.size() as usize).min(limit) + 1);
    // One byte more than the limit tells "too large" from "exactly the limit".
    file.take(limit as u64 + 1)
        .read_to_end(&mut content)
        .map_err(io)?;
    if content.len() > limit {
        return Err(SourceError::TooLarge(limit));
    }
    Ok(Some((meta, content, trusted)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    /// A path `name` in a new temporary directory, removed when the guard drops.
    fn path(name: &str) -> (tempfile::TempDir, &'static str) {
        let dir = tempfile::Builder::new()
            .prefix("pme-file-unit-")
            .tempdir()
            .unwrap();
        let path = dir.path().join(name).display().to_string();
        (dir, path.leak())
    }

    async fn read_text(p: &'static str, seen: &Mutex<Seen>) -> String {
        let reading = read(p, 1024, Duration::from_secs(5), seen, None)
            .await
            .unwrap();
        String::from_utf8(reading.content.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn old_unchanged_files_are_not_read_again() {
        let (_dir, p) = path("old");
        std::fs::write(p, "1\n").unwrap();
        let old = SystemTime::now() - Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let seen = Mutex::new(Seen::default());
        assert_eq!(read_text(p, &seen).await, "1\n");
        // Same size, same mtime: the metadata vouches for the cached content,
        // so the file is not read (the new bytes stay unseen, by design).
        std::fs::write(p, "2\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert_eq!(read_text(p, &seen).await, "1\n");
        // A new mtime is a change.
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(SystemTime::now())
            .unwrap();
        assert_eq!(read_text(p, &seen).await, "2\n");
    }

    #[tokio::test]
    async fn recently_modified_files_are_always_read() {
        let (_dir, p) = path("fresh");
        std::fs::write(p, "1\n").unwrap();
        let seen = Mutex::new(Seen::default());
        assert_eq!(read_text(p, &seen).await, "1\n");
        // Rewritten at once with the same size: the mtime may not have moved
        // (coarse timestamps), so the first read must not have been cached.
        let mtime = std::fs::metadata(p).unwrap().modified().unwrap();
        std::fs::write(p, "2\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        assert_eq!(read_text(p, &seen).await, "2\n");
    }

    #[tokio::test]
    async fn errors_are_reported_and_forget_the_cache() {
        let seen = Mutex::new(Seen::default());
        let (_dir, missing) = path("missing");
        let _ = std::fs::remove_file(missing);
        assert!(matches!(
            read(missing, 16, Duration::from_secs(5), &seen, None).await,
            Err(SourceError::Io(_))
        ));
        let (_big_dir, big) = path("big");
        std::fs::write(big, [b'x'; 17]).unwrap();
        assert!(matches!(
            read(big, 16, Duration::from_secs(5), &seen, None).await,
            Err(SourceError::TooLarge(16))
        ));
        assert!(
            read("/proc", 16, Duration::from_secs(5), &seen, None)
                .await
                .is_err(),
            "a directory is not a file"
        );
    }
}
