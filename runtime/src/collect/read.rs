//! Reading pseudo files: whole, bounded, with the path in every error.

use std::io::Read;
use std::path::Path;

/// More than any `/proc` or cgroup file a collector reads (a `/proc/stat`
/// of 1024 CPUs is ~100 KiB); a larger file is an error, not a truncation.
const MAX_BYTES: u64 = 4 << 20;

/// The file's text.
///
/// # Errors
/// `path: reason`, for a missing, unreadable, oversized or non-UTF-8 file.
pub(crate) fn text(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = String::new();
    file.take(MAX_BYTES + 1)
        .read_to_string(&mut out)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if out.len() as u64 > MAX_BYTES {
        return Err(format!("{}: larger than {MAX_BYTES} bytes", path.display()));
    }
    Ok(out)
}

/// The file's text, or `None` when it does not exist.
///
/// # Errors
/// As [`text`], except for a missing file.
pub(crate) fn optional_text(path: &Path) -> Result<Option<String>, String> {
    match text(path) {
        Ok(t) => Ok(Some(t)),
        Err(_) if !path.exists() => Ok(None),
        Err(e) => Err(e),
    }
}

/// A file holding one unsigned number (a cgroup counter); `max` reads as
/// `None`.
///
/// # Errors
/// The file cannot be read or holds something else.
pub(crate) fn number(path: &Path) -> Result<Option<u64>, String> {
    let text = text(path)?;
    match text.trim() {
        "max" => Ok(None),
        n => n
            .parse()
            .map(Some)
            .map_err(|_| format!("{}: not a number: {n:?}", path.display())),
    }
}

/// The value of `key` in a `key value` file (`memory.stat`, `cpu.stat`).
pub(crate) fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok())?
    })
}

/// A field of a whitespace-separated line, as a number.
///
/// # Errors
/// The field is missing or not a number; `what` names the line.
pub(crate) fn field(fields: &[&str], i: usize, what: &str) -> Result<f64, String> {
    fields
        .get(i)
        .and_then(|f| f.parse::<f64>().ok())
        .ok_or_else(|| format!("{what}: field {} is missing or not a number", i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_values() {
        let stat = "anon 10\nfile 20\ninactive_file 7\n";
        assert_eq!(keyed(stat, "file"), Some(20));
        assert_eq!(keyed(stat, "inactive_file"), Some(7));
        assert_eq!(keyed(stat, "active_file"), None);
    }

    #[test]
    fn missing_files_are_errors_naming_the_path() {
        let err = text(Path::new("/nonexistent/pme/meminfo")).unwrap_err();
        assert!(err.starts_with("/nonexistent/pme/meminfo: "), "{err}");
        assert_eq!(
            optional_text(Path::new("/nonexistent/pme/x")).unwrap(),
            None
        );
    }
}
