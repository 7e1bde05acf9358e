//! Spec ids → Rust identifiers (prost-build's `ident.rs` rules): snake_case
//! for modules and fields, UpperCamelCase for structs, raw identifiers for
//! keywords.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// `disk-usage` → `disk_usage`.
pub(crate) fn snake(id: &str) -> String {
    id.to_snake_case()
}

/// A module or field name; keywords become raw identifiers (`r#type`).
pub(crate) fn field(id: &str) -> Ident {
    let name = snake(id);
    match name.as_str() {
        // These cannot be raw identifiers.
        "self" | "super" | "crate" | "Self" => Ident::new(&format!("{name}_"), Span::call_site()),
        _ if is_keyword(&name) => Ident::new_raw(&name, Span::call_site()),
        _ => Ident::new(&name, Span::call_site()),
    }
}

/// `disk-usage` → `DiskUsage`.
pub(crate) fn type_name(id: &str) -> Ident {
    let name = id.to_upper_camel_case();
    let name = if name == "Self" {
        "Self_".to_owned()
    } else {
        name
    };
    Ident::new(&name, Span::call_site())
}

/// A label value → an enum variant name: `gpt-4o` → `Gpt4o`, `5xx` →
/// `V5xx`; `None` when nothing of it can name one (`-`, `é`).
pub(crate) fn variant(value: &str) -> Option<String> {
    let ascii: String = value
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    let name = ascii.to_upper_camel_case();
    match name.chars().next() {
        None => None,
        Some(c) if c.is_ascii_digit() => Some(format!("V{name}")),
        Some(_) if name == "Self" => Some("Self_".to_owned()),
        Some(_) => Some(name),
    }
}

/// `disk-usage` → `DISK_USAGE`.
pub fn constant(id: &str) -> String {
    id.to_shouty_snake_case()
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "break"
            | "const"
            | "continue"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "static"
            | "struct"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "async"
            | "await"
            | "dyn"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
            | "try"
            | "gen"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_ids() {
        assert_eq!(field("disk-usage").to_string(), "disk_usage");
        assert_eq!(field("type").to_string(), "r#type");
        assert_eq!(field("self").to_string(), "self_");
        assert_eq!(type_name("disk-usage").to_string(), "DiskUsage");
        assert_eq!(constant("load1"), "LOAD1");
    }
}
