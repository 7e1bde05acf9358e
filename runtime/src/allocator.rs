//! The binary's memory settings, applied once before its runtime starts
//! (never by [`crate::start`], which runs inside someone else's process).
//!
//! glibc's malloc, left alone, gives a long-running daemon more memory than
//! it uses: every thread that allocates may get an arena of its own (up to
//! 8 per core), and after a large buffer is freed it raises its own
//! thresholds so that freed memory is kept, not returned. Measured with
//! `bench/all.sh` (docs/benchmarks.md, "Every figure in one run"): 1 000
//! idle connections left 27.6 MB behind for good. musl's allocator already
//! returns memory and has one arena, so there is nothing to set there.
//!
//! The binary also calls [`release`] every [`RELEASE_EVERY`]: after 1 000
//! half-sent connections, anon RSS went from 1.9 to 4.9 MB without it and
//! back to 2.3 MB with it.

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
pub(crate) const RELEASE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Returns free memory in every arena to the kernel. Buffers freed after a
/// burst of connections sit in the middle of an arena's heap, where the
/// trim threshold never reaches them; measured with `bench/all.sh`, 1 000
/// half-sent connections left 3 MB of such chunks on glibc.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn release() {
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
pub(crate) fn release() {}
