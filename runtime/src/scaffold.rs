//! `pme new <kind>`: a starter `metrics.yaml` for one kind of source, with
//! a `sample` and `expect` block, so the first build already checks the
//! filters against an example reading; with `--crate NAME`, a whole crate
//! holding it (the way a team keeps its exporter in its own repository).
//! The templates are the files in `runtime/templates/`; a test builds each
//! one, and a crate against this workspace.

/// The kinds of source a starter spec can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Template {
    /// A command's output, read with regex filters.
    Command,
    /// A file, read with regex filters.
    File,
    /// An HTTP endpoint answering JSON (what json_exporter reads).
    HttpJson,
    /// An HTTP endpoint answering XML.
    Xml,
    /// Another exporter's /metrics, re-imported and relabelled.
    Reimport,
}

impl Template {
    /// The starter spec.
    pub(crate) fn text(self) -> &'static str {
        match self {
            Template::Command => include_str!("../templates/command.yaml"),
            Template::File => include_str!("../templates/file.yaml"),
            Template::HttpJson => include_str!("../templates/http-json.yaml"),
            Template::Xml => include_str!("../templates/xml.yaml"),
            Template::Reimport => include_str!("../templates/reimport.yaml"),
        }
    }

    /// The starter spec's `metrics.lock`, as the build writes it for the
    /// spec saved as `metrics.yaml` (a test keeps each current).
    pub(crate) fn lock(self) -> &'static str {
        match self {
            Template::Command => include_str!("../templates/command.lock"),
            Template::File => include_str!("../templates/file.lock"),
            Template::HttpJson => include_str!("../templates/http-json.lock"),
            Template::Xml => include_str!("../templates/xml.lock"),
            Template::Reimport => include_str!("../templates/reimport.lock"),
        }
    }
}

/// Where the crate `pme new --crate` writes finds pme.
#[derive(Clone, Debug)]
pub(crate) enum Dependency {
    /// A checkout of pme's runtime crate (`--pme-path`).
    Path(std::path::PathBuf),
    /// A version from a registry: this binary's.
    Version(&'static str),
}

impl Dependency {
    fn line(&self) -> String {
        match self {
            Dependency::Path(path) => {
                let path = path
                    .display()
                    .to_string()
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"");
                format!("pme = {{ path = \"{path}\" }}")
            }
            Dependency::Version(v) => format!("pme = \"{v}\""),
        }
    }
}

/// Writes the crate `name` (a new directory of that name under `parent`):
/// a Cargo.toml depending on pme, a main.rs serving the spec through
/// `include_spec!`, the `kind` starter spec and its lock, a CI script.
///
/// # Errors
/// A name cargo would refuse, a directory already there, or a write that
/// failed.
pub(crate) fn write_crate(
    parent: &std::path::Path,
    name: &str,
    kind: Template,
    pme: &Dependency,
) -> Result<std::path::PathBuf, String> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(format!(
            "`{name}` is not a crate name: a letter, then letters, digits, `-` or `_`"
        ));
    }
    let dir = parent.join(name);
    if dir.exists() {
        return Err(format!("{} already exists", dir.display()));
    }
    let fill = |text: &str| {
        text.replace("NAME", name)
            .replace("PME_DEPENDENCY", &pme.line())
    };
    let files: [(&str, String); 7] = [
        (
            "Cargo.toml",
            fill(include_str!("../templates/crate/Cargo.toml")),
        ),
        (
            "src/main.rs",
            fill(include_str!("../templates/crate/main.rs")),
        ),
        ("metrics.yaml", kind.text().to_owned()),
        ("metrics.lock", kind.lock().to_owned()),
        ("ci.sh", fill(include_str!("../templates/crate/ci.sh"))),
        (
            "README.md",
            fill(include_str!("../templates/crate/README.md")),
        ),
        (
            ".gitignore",
            include_str!("../templates/crate/gitignore").to_owned(),
        ),
    ];
    let write = |path: &str, text: &str| -> std::io::Result<()> {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)
    };
    for (path, text) in &files {
        write(path, text).map_err(|e| format!("cannot write {}/{path}: {e}", dir.display()))?;
    }
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir.join("ci.sh"), std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot make ci.sh executable: {e}"))?;
    Ok(dir)
}
