//! The binary's memory: allocator settings applied once before its runtime
//! starts, freed memory returned, start-up's pages handed back (never by
//! [`crate::start`], which runs inside someone else's process).
//!
//! glibc's malloc, left alone, gives a long-running daemon more memory than
//! it uses: every thread that allocates may get an arena of its own (up to
//! 8 per core), and after a large buffer is freed it raises its own
//! thresholds so that freed memory is kept, not returned: before these
//! settings, 1 000 idle connections left pme at 27.6 MB RSS for good
//! (docs/benchmarks.md, "Every figure in one run", has what is left). musl's allocator already
//! returns memory and has one arena, so there is nothing to set there.
//!
//! The binary also runs [`upkeep`], which calls [`release`] every
//! [`RELEASE_EVERY`]: after 1 000 half-sent connections, anon RSS went
//! from 1.9 to 4.9 MB without it and back to 2.3 MB with it.

/// Two arenas (the async workers rarely allocate at once), and fixed
/// thresholds: buffers above 128 KiB (the cached expositions) are mapped and
/// unmapped, and free memory at the top of a heap beyond 128 KiB goes back
/// to the kernel.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn tune() {
    const ARENAS: libc::c_int = 2;
    const THRESHOLD: libc::c_int = 128 * 1024;
    #[allow(
        unsafe_code,
        reason = "mallopt only sets allocator parameters; it is called before any thread starts"
    )]
    // SAFETY: mallopt takes plain integers and is called from `main`
    // before the runtime spawns a thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, THRESHOLD);
    }
}

/// Nothing to tune outside glibc.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn tune() {}

/// How often the binary hands free memory back ([`release`]).
const RELEASE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// The binary's memory upkeep, for as long as it serves: once start-up and
/// the first collection are over ([`RELEASE_EVERY`] after start), hands
/// back their file pages ([`drop_clean_file_pages`]); then returns freed
/// memory every [`RELEASE_EVERY`] ([`release`]).
pub(crate) async fn upkeep() {
    let mut every = tokio::time::interval(RELEASE_EVERY);
    every.tick().await; // the first tick is now
    every.tick().await;
    drop_clean_file_pages();
    loop {
        release();
        every.tick().await;
    }
}

/// Returns free memory in every arena to the kernel. Buffers freed after a
/// burst of connections sit in the middle of an arena's heap, where the
/// trim threshold never reaches them; measured with `bench/all.sh`, 1 000
/// half-sent connections left 3 MB of such chunks on glibc.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release() {
    #[allow(
        unsafe_code,
        reason = "malloc_trim only walks the allocator's own free lists"
    )]
    // SAFETY: malloc_trim is thread-safe and takes a plain integer.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// musl returns free memory by itself.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release() {}

/// Hands back the pages of read-only file mappings that pme no longer
/// uses: code and constants of the binary and its libraries that start-up
/// touched (argument parsing, regex compilation, the first collection),
/// mapped in 64 KiB at a time by the kernel's fault-around. The kernel
/// unmaps them from pme; any page pme uses again is mapped back from the
/// page cache on its next touch, so RSS becomes the pages serving uses.
///
/// Measured on the default spec (glibc build): file-backed RSS 6.0 MB
/// after start, 1.9 MB after this, 4.7–4.8 MB after 8 s of scrapes and a
/// collection (the pages serving uses, in 64 KiB runs); 6.8 MB without it.
///
/// Only mappings that hold no anonymous (written) page are touched:
/// relocated data made read-only after relocation is such a mapping, and
/// dropping its pages would undo the relocations.
#[cfg(target_os = "linux")]
fn drop_clean_file_pages() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    for (start, end) in clean_read_only_file_mappings(&smaps) {
        #[allow(
            unsafe_code,
            reason = "MADV_DONTNEED on a private read-only file mapping with no written page only unmaps pages that are refetched from the file"
        )]
        // SAFETY: the range is a whole mapping of this process, read-only
        // and private, with no anonymous page (checked in smaps just now;
        // a read-only mapping cannot gain one): its contents after
        // MADV_DONTNEED are the file's, exactly what they are now. The
        // kernel drops such clean pages by itself under memory pressure;
        // this asks for it now.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
        }
    }
}

/// Not Linux: nothing to do.
#[cfg(not(target_os = "linux"))]
fn drop_clean_file_pages() {}

/// The address ranges of `/proc/self/smaps` entries that map a file
/// privately without write permission and hold no anonymous page.
fn clean_read_only_file_mappings(smaps: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or("");
        if let Some((start, end)) = first.split_once('-')
            && let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            )
        {
            // start-end perms offset dev inode path
            let perms = fields.next().unwrap_or("");
            let path = fields.nth(3).unwrap_or("");
            let read_only_private =
                perms.starts_with('r') && !perms.contains('w') && perms.ends_with('p');
            current = (read_only_private && path.starts_with('/')).then_some((start, end));
        } else if first == "Anonymous:"
            && let Some(range) = current.take()
            && fields.next() == Some("0")
        {
            found.push(range);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::clean_read_only_file_mappings;

    #[test]
    fn only_clean_read_only_file_mappings_are_dropped() {
        let smaps = "\
5555aa000000-5555aa100000 r--p 00000000 fd:01 42 /usr/bin/pme
Rss:                 800 kB
Anonymous:             0 kB
5555aa100000-5555aa500000 r-xp 00100000 fd:01 42 /usr/bin/pme
Anonymous:             0 kB
5555aa500000-5555aa540000 r--p 00500000 fd:01 42 /usr/bin/pme
Anonymous:           256 kB
5555aa540000-5555aa544000 rw-p 00540000 fd:01 42 /usr/bin/pme
Anonymous:            16 kB
5555ab000000-5555ab100000 rw-p 00000000 00:00 0 [heap]
Anonymous:           900 kB
7f0000000000-7f0000010000 r--s 00000000 00:05 7 /dev/shm/x
Anonymous:             0 kB
7f0000010000-7f0000020000 r--p 00000000 00:00 0
Anonymous:             0 kB
";
        assert_eq!(
            clean_read_only_file_mappings(smaps),
            [
                (0x5555_aa00_0000, 0x5555_aa10_0000),
                (0x5555_aa10_0000, 0x5555_aa50_0000)
            ]
        );
    }
}
