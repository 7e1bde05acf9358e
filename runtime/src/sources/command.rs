//! `source_type: command`: run a program, read its stdout.
//!
//! The child gets its own process group, so a timeout or an oversized
//! output kills everything it started (a shell pipeline's children too),
//! and it is always reaped. stdout is read up to the limit; the first few
//! KiB of stderr go into the error message.

use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};

use super::{Reading, RunAsState, SourceError};

/// How much of stderr is kept for the error message.
const STDERR_KEPT: usize = 4096;

/// What a command is and where it runs.
#[derive(Clone, Copy, Debug)]
pub(super) struct Invocation<'a> {
    pub(super) argv: &'a [&'a str],
    pub(super) environment: &'a [(&'a str, &'a str)],
    pub(super) working_directory: Option<&'a str>,
    /// `run_as`: a clean environment, and the switch when pme is someone else.
    pub(super) run_as: Option<&'a RunAsState>,
}

pub(super) async fn run(
    invocation: Invocation<'_>,
    limit: usize,
    timeout: Duration,
) -> Result<Reading, SourceError> {
    let argv = invocation.argv;
    let mut command = prepare(&invocation);
    let mut child = command
        .spawn()
        .map_err(|e| SourceError::Io(format!("cannot run `{}`: {e}", argv[0])))?;
    let pgid = child.id().map(|id| Pid::from_raw(id as i32));
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();

    // stderr is drained in its own task: a child blocked writing to a full
    // stderr pipe would otherwise never close stdout.
    let stderr_task = tokio::spawn(drain_keeping(stderr, STDERR_KEPT));
    let outcome = tokio::time::timeout(timeout, async {
        let out = read_capped(stdout, limit).await?;
        if out.len() > limit {
            return Err(SourceError::TooLarge(limit));
        }
        let status = child
            .wait()
            .await
            .map_err(|e| SourceError::Io(format!("waiting for `{}`: {e}", argv[0])))?;
        Ok((status, out))
    })
    .await;

    let result = match outcome {
        Err(_) => Err(SourceError::Timeout(timeout)),
        Ok(result) => result,
    };
    match result {
        Ok((status, out)) if status.success() => {
            stderr_task.abort();
            Ok(Reading::new(out.into()))
        }
        Ok((status, _)) => {
            // The child has exited; its stderr reaches EOF unless a
            // grandchild holds it open, hence the bound.
            let err = tokio::time::timeout(Duration::from_secs(1), stderr_task)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            Err(SourceError::Failed {
                status: status.to_string(),
                code: status.code(),
                stderr: String::from_utf8_lossy(&err)
                    .trim()
                    .chars()
                    .take(512)
                    .collect(),
            })
        }
        Err(e) => {
            stderr_task.abort();
            kill_and_reap(&mut child, pgid).await;
            Err(e)
        }
    }
}

/// The command as it will run: its own process group (killed whole at
/// the timeout), no stdin, and under `run_as` a clean environment and the
/// user's identity.
fn prepare(invocation: &Invocation<'_>) -> Command {
    let argv = invocation.argv;
    let mut command = Command::new(argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(run_as) = invocation.run_as {
        // Nothing of pme's environment (credentials for HTTP sources among
        // it) crosses to another user; `/` exists for every user.
        command
            .env_clear()
            .envs(run_as.identity.environment())
            .current_dir("/");
        if run_as.switch {
            run_as.identity.apply(&mut command);
        }
    }
    command.envs(invocation.environment.iter().copied());
    if let Some(dir) = invocation.working_directory {
        command.current_dir(dir);
    }
    command
}

/// Reads up to `limit + 1` bytes (one more tells "too large").
async fn read_capped(
    pipe: Option<impl AsyncRead + Unpin>,
    limit: usize,
) -> Result<Vec<u8>, SourceError> {
    let mut buf = Vec::new();
    if let Some(pipe) = pipe {
        pipe.take(limit as u64 + 1)
            .read_to_end(&mut buf)
            .await
            .map_err(|e| SourceError::Io(format!("reading command output: {e}")))?;
    }
    Ok(buf)
}

/// Reads a pipe to the end, keeping only its first `keep` bytes.
async fn drain_keeping(pipe: Option<impl AsyncRead + Unpin>, keep: usize) -> Vec<u8> {
    let mut kept = Vec::new();
    let Some(mut pipe) = pipe else { return kept };
    let mut chunk = [0u8; 4096];
    while let Ok(n @ 1..) = pipe.read(&mut chunk).await {
        let room = keep.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..n.min(room)]);
    }
    kept
}

/// Kills the whole process group and waits for the child, so no zombie
/// and no orphaned grandchild survives a timeout.
async fn kill_and_reap(child: &mut Child, pgid: Option<Pid>) {
    if let Some(pgid) = pgid {
        // ESRCH (already gone) is fine.
        let _ = killpg(pgid, Signal::SIGKILL);
    }
    let _ = child.start_kill();
    // SIGKILL cannot be ignored; the bound only guards against a stuck kernel.
    let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
}
