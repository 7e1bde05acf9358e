//! What a JSON or an XML family asks of a document: one query shape for
//! both path languages, so the derive writes, and the extractors read, the
//! same fields.

use std::sync::OnceLock;

/// One family's query: `P` is the path language's label-template part,
/// `C` its compiled form of the paths.
#[derive(Debug)]
pub struct PathQuery<P: 'static, C> {
    /// The filter, an absolute path: which nodes the series come from.
    pub filter: &'static str,
    /// The value path, relative to each selected node.
    pub value: Option<&'static str>,
    /// One template per dynamic label: literal text, paths relative to the
    /// selected node and paths from the document root.
    pub labels: &'static [&'static [P]],
    /// Every selected node is a series, not only the first.
    pub match_all: bool,
    /// Factor applied to every value.
    pub scale: f64,
    /// The value of every series whatever its node holds: 1 for info
    /// metrics, or a number the spec gives as `value`.
    pub constant: Option<f64>,
    /// Strings and the numbers they stand for (empty: values are numbers).
    pub value_map: &'static [(&'static str, f64)],
    /// The compiled paths, made on first use.
    pub compiled: OnceLock<C>,
}
