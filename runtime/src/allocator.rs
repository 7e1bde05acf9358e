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
