//! `pme new <kind>`: a starter `metrics.yaml` for one kind of source, with
//! a `sample` and `expect` block, so the first build already checks the
//! filters against an example reading. The templates are the files in
//! `runtime/templates/`; a test builds each one.

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
}
