//! The import graph of each crate, checked from its source: the runtime's
//! imports flow one way, down the layers of [`LAYERS`], and no crate has a
//! cycle between sibling modules. A new top-level module must be given a layer
//! here, on purpose.
//!
//! Edges are read from `crate::…` and `super::…` paths in code (comments and
//! `#[cfg(test)]` modules left out), with `use` groups expanded. An edge
//! between a module and its own parent or child is part of one component
//! and not a layering question; a cycle between siblings is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The runtime's `runtime/src/`, bottom to top: a module may import its own submodules and
/// parents, and any module of a lower layer; never one of its own layer or
/// above.
const LAYERS: &[(&str, &[&str])] = &[
    // Data shapes and the content parsers.
    ("model", &["parsers", "metric", "https", "logs", "scaffold"]),
    // The instruments an application updates (their encoding comes from
    // pme-content directly).
    ("instruments", &["instrument"]),
    // Collectors that read for themselves: the interface and the built-ins.
    ("collectors", &["collect"]),
    // What a spec compiles to, and how families become bytes.
    ("plan", &["plan", "encode", "imported", "instances"]),
    // Reading: sources, the published snapshots; the command line.
    ("reading", &["sources", "store", "config"]),
    // Running a plan, and reports about it.
    (
        "collection",
        &[
            "scheduler",
            "selfmetrics",
            "statsd",
            "allocator",
            "dryrun",
            "systemd",
            "alerts",
            "dashboard",
        ],
    ),
    // Whole expositions and health documents from the store.
    ("exposition", &["exposition", "health", "testing"]),
    // Delivering them: the listeners and the outputs.
    ("delivery", &["http", "outputs"]),
    // Wiring; nothing imports it.
    ("wiring", &["app"]),
];

/// One crate's modules and the modules each one imports.
#[derive(Debug, Default)]
struct Graph {
    /// Module path (`sources::http`, `` for the root) → imported modules.
    edges: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    /// Reads every `.rs` file under `root` (a crate's `src/`), skipping
    /// `main.rs`, a crate of its own.
    fn of(root: &Path) -> Graph {
        let mut files = BTreeMap::new();
        collect(root, root, &mut files);
        Graph::from_sources(&files)
    }

    /// The graph of `files`: module path → source text.
    fn from_sources(files: &BTreeMap<String, String>) -> Graph {
        let modules: BTreeSet<&str> = files.keys().map(String::as_str).collect();
        let mut edges = BTreeMap::new();
        for (module, text) in files {
            let targets = references(module, text)
                .into_iter()
                .filter_map(|path| resolve(&modules, &path))
                .filter(|target| target != module && !target.is_empty())
                .collect();
            edges.insert(module.clone(), targets);
        }
        Graph { edges }
    }

    /// Edges between top-level modules that do not go down the layers.
    fn layering_violations(&self, layers: &[(&str, &[&str])]) -> Vec<String> {
        let layer_of = |module: &str| {
            let top = module.split("::").next().unwrap_or("");
            layers.iter().position(|(_, mods)| mods.contains(&top))
        };
        let mut found = Vec::new();
        for (from, targets) in &self.edges {
            if from.is_empty() {
                continue;
            }
            let Some(from_layer) = layer_of(from) else {
                found.push(format!("`{from}` has no layer in LAYERS"));
                continue;
            };
            for to in targets {
                if top(from) == top(to) {
                    continue;
                }
                match layer_of(to) {
                    Some(to_layer) if to_layer < from_layer => {}
                    Some(to_layer) => found.push(format!(
                        "`{from}` ({}) imports `{to}` ({}): imports go down the layers",
                        layers[from_layer].0, layers[to_layer].0
                    )),
                    None => found.push(format!("`{to}` has no layer in LAYERS")),
                }
            }
        }
        found
    }

    /// Cycles among modules that are not each other's parent or child, as
    /// lists of the modules in each.
    fn sibling_cycles(&self) -> Vec<Vec<String>> {
        let related = |a: &str, b: &str| is_within(a, b) || is_within(b, a);
        let edges: BTreeMap<&str, Vec<&str>> = self
            .edges
            .iter()
            .map(|(from, targets)| {
                let kept = targets
                    .iter()
                    .map(String::as_str)
                    .filter(|to| !related(from, to))
                    .collect();
                (from.as_str(), kept)
            })
            .collect();
        strongly_connected(&edges)
            .into_iter()
            .filter(|component| component.len() > 1)
            .map(|component| component.into_iter().map(str::to_owned).collect())
            .collect()
    }

    fn edge_count(&self) -> usize {
        self.edges.values().map(BTreeSet::len).sum()
    }
}

/// The top-level module of a module path.
fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or("")
}

/// Whether `inner` is `outer` or inside it.
fn is_within(inner: &str, outer: &str) -> bool {
    outer.is_empty() || inner == outer || inner.starts_with(&format!("{outer}::"))
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let Some(stem) = relative.strip_suffix(".rs") else {
            continue;
        };
        if stem == "main" {
            continue;
        }
        let module = match stem {
            "lib" => String::new(),
            _ => stem.trim_end_matches("/mod").replace('/', "::"),
        };
        files.insert(module, std::fs::read_to_string(&path).unwrap());
    }
}

/// The paths a file names through `crate::` or `super::`, made absolute
/// (without `crate::`), from its code only.
fn references(module: &str, text: &str) -> Vec<String> {
    let code: String = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or("")
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let parent = module.rsplit_once("::").map_or("", |(parent, _)| parent);
    let mut paths = Vec::new();
    for (prefix, base) in [("crate::", ""), ("super::", parent)] {
        let mut rest = code.as_str();
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + prefix.len()..];
            // `a::crate::` or `$crate::` is not this crate's root.
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':' || c == '$') {
                continue;
            }
            for path in use_tree(rest) {
                paths.push(match base {
                    "" => path,
                    base => format!("{base}::{path}"),
                });
            }
        }
    }
    paths
}

/// The paths of a use tree written at the start of `text`
/// (`a::b`, `a::{b, c::d}`, `{a, b}`), each as `a::b`.
fn use_tree(text: &str) -> Vec<String> {
    let text = text.trim_start();
    if let Some(inner) = text.strip_prefix('{') {
        return group(inner).into_iter().flat_map(use_tree).collect();
    }
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    let path = text[..end].trim_end_matches(':');
    if path.is_empty() || path == "self" {
        return Vec::new();
    }
    let after = &text[end..];
    if text[..end].ends_with("::") && after.starts_with('{') {
        return use_tree(after)
            .into_iter()
            .map(|tail| format!("{path}::{tail}"))
            .chain(std::iter::once(path.to_owned()))
            .collect();
    }
    vec![path.to_owned()]
}

/// The comma-separated items of a brace group whose `{` was just read.
fn group(text: &str) -> Vec<&str> {
    let (mut depth, mut start, mut items) = (0usize, 0, Vec::new());
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&text[start..i]);
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.into_iter().filter(|i| !i.trim().is_empty()).collect()
}

/// The module a path lands in: its longest prefix that is a module.
fn resolve(modules: &BTreeSet<&str>, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split("::").collect();
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find(|candidate| modules.contains(candidate.as_str()))
}

/// Tarjan's strongly connected components.
fn strongly_connected<'a>(edges: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    struct Walk<'a, 'e> {
        edges: &'e BTreeMap<&'a str, Vec<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        components: Vec<Vec<&'a str>>,
    }
    impl<'a> Walk<'a, '_> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for &w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let at = self.stack.iter().rposition(|&x| x == v).unwrap();
                self.components.push(self.stack.split_off(at));
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        components: Vec::new(),
    };
    for &v in edges.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.components
}

fn source_root(krate: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(krate)
        .join("src")
}

#[test]
fn imports_in_src_go_down_the_layers() {
    let graph = Graph::of(&source_root("runtime"));
    let violations = graph.layering_violations(LAYERS);
    assert!(
        violations.is_empty(),
        "{} of {} imports break the layering:\n{}",
        violations.len(),
        graph.edge_count(),
        violations.join("\n")
    );
}

#[test]
fn no_crate_has_a_cycle_between_sibling_modules() {
    for krate in ["runtime", "content", "codegen", "macros"] {
        let cycles = Graph::of(&source_root(krate)).sibling_cycles();
        assert!(cycles.is_empty(), "{krate}/src: cycles {cycles:?}");
    }
}

/// The checks catch what they are for: a back edge, an unplaced module,
/// and a cycle between siblings, in a made-up crate.
#[test]
fn the_checks_report_back_edges_and_cycles() {
    let files: BTreeMap<String, String> = [
        ("metric", "use crate::encode::Format;\n"),
        ("encode", "use crate::metric::{Family, MetricDesc};\n"),
        (
            "store",
            "// use crate::app::Shared; (a comment is not an import)\nuse crate::{app::Shared, plan};\n",
        ),
        ("plan", "fn f() { let _ = crate::metric::X; }\n"),
        ("app", "use crate::store::Store;\n"),
        ("stray", "use super::plan::Plan;\n"),
        ("sources", "pub mod http;\nuse http::Client;\n"),
        ("sources::http", "use super::Reading;\n"),
    ]
    .into_iter()
    .map(|(m, t)| (m.to_owned(), t.to_owned()))
    .collect();
    let graph = Graph::from_sources(&files);
    let layers: &[(&str, &[&str])] = &[
        ("low", &["metric"]),
        ("mid", &["encode", "plan", "sources"]),
        ("high", &["store"]),
        ("top", &["app"]),
    ];
    let violations = graph.layering_violations(layers);
    assert_eq!(
        violations,
        [
            "`metric` (low) imports `encode` (mid): imports go down the layers",
            "`store` (high) imports `app` (top): imports go down the layers",
            "`stray` has no layer in LAYERS",
        ]
    );
    let cycles: BTreeSet<BTreeSet<String>> = graph
        .sibling_cycles()
        .into_iter()
        .map(|c| c.into_iter().collect())
        .collect();
    let expected = [["encode", "metric"], ["app", "store"]]
        .map(|pair| pair.map(str::to_owned).into_iter().collect())
        .into();
    assert_eq!(cycles, expected);
}
