//! `--textfile.directory DIR`: after every cycle, `DIR/<name>.prom` for
//! node_exporter's textfile collector.
//!
//! The file is replaced atomically, as the collector's documentation asks:
//! the bytes go to a temporary file in the same directory, which is synced
//! and then renamed over the old one. A write that fails (a full disk, a
//! read-only directory) is counted and logged, the temporary file removed,
//! and the previous file stays whole.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::watch;

use super::after_each_cycle;
use crate::exposition::Exposition;
use crate::store::OutputStatus;

/// Writes after each cycle sent on `cycles` until `stop` resolves.
pub(crate) async fn run(
    dir: PathBuf,
    name: String,
    exposition: Arc<Exposition>,
    status: Arc<OutputStatus>,
    cycles: watch::Receiver<u64>,
    stop: impl std::future::Future<Output = ()>,
) {
    let target = dir.join(format!("{name}.prom"));
    after_each_cycle(&exposition, &status, cycles, stop, |body| {
        let target = target.clone();
        Some(async move {
            tokio::task::spawn_blocking(move || write_atomically(&target, &body))
                .await
                .unwrap_or_else(|e| Err(format!("writer task failed: {e}")))
        })
    })
    .await;
}

/// Replaces `target` with `body`: temporary file, sync, rename, sync of
/// the directory. On failure the old file is untouched.
pub(crate) fn write_atomically(target: &Path, body: &[u8]) -> Result<(), String> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A leading dot and a suffix other than `.prom`: the collector reads
    // only `*.prom`, so it never sees a half-written file.
    let temporary = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(body)?;
        file.sync_all()?;
        std::fs::rename(&temporary, target)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        format!("writing {}: {e}", target.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_no_temporary() {
        let temporary = tempfile::Builder::new()
            .prefix("pme-textfile-unit-")
            .tempdir()
            .unwrap();
        let dir = temporary.path();
        let target = dir.join("pme.prom");
        write_atomically(&target, b"a 1\n").unwrap();
        write_atomically(&target, b"a 2\n").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"a 2\n");
        let names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["pme.prom"]);
        let missing = dir.join("no-such-dir").join("pme.prom");
        assert!(
            write_atomically(&missing, b"x")
                .unwrap_err()
                .contains("no-such-dir")
        );
    }
}
