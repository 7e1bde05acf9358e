//! libxml2's XPath regression cases (`tests/conformance/xpath-libxml2`)
//! that fall inside pme's XPath subset: each must select the same elements
//! (by name, in document order) or attributes as libxml2 does. Expressions
//! outside the subset are counted and skipped: the build rejects them.

use pme_content::xml::{Item, parse_path};

const ROOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/conformance/xpath-libxml2"
);

/// What libxml2's dump says a node-set holds: `ELEMENT name`,
/// `ATTRIBUTE name`, `TEXT`.
fn expected(results: &str, expr: &str) -> Option<Vec<String>> {
    let block = results
        .split("========================\n")
        .find(|b| b.starts_with(&format!("Expression: {expr}\n")))?;
    if !block.contains("Object is a Node Set") {
        return None;
    }
    Some(
        block
            .lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .map(|l| undump(&l.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")))
            .collect(),
    )
}

/// libxml2's dump writes non-ASCII bytes of names as `#E6#96#87`.
fn undump(text: &str) -> String {
    let mut bytes = Vec::new();
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        match (
            b,
            tail.get(..2)
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()),
        ) {
            (b'#', Some(byte)) => {
                bytes.push(byte);
                rest = &tail[2..];
            }
            _ => {
                bytes.push(b);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn libxml2_cases_inside_the_subset() {
    let files = std::fs::read_dir(format!("{ROOT}/test/XPath/tests")).unwrap();
    let docs: Vec<String> = std::fs::read_dir(format!("{ROOT}/test/XPath/docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let (mut checked, mut outside, mut failures) = (0, 0, Vec::new());
    for file in files {
        let name = file.unwrap().file_name().to_string_lossy().into_owned();
        let Some(doc_name) = docs
            .iter()
            .filter(|d| name.starts_with(d.as_str()))
            .max_by_key(|d| d.len())
        else {
            continue;
        };
        let text = std::fs::read_to_string(format!("{ROOT}/test/XPath/docs/{doc_name}")).unwrap();
        let Ok(doc) = roxmltree::Document::parse(&text) else {
            continue;
        };
        let results = std::fs::read_to_string(format!("{ROOT}/result/XPath/tests/{name}")).unwrap();
        for expr in std::fs::read_to_string(format!("{ROOT}/test/XPath/tests/{name}"))
            .unwrap()
            .lines()
        {
            let Ok(path) = parse_path(expr, true) else {
                outside += 1;
                continue;
            };
            let Some(want) = expected(&results, expr) else {
                continue;
            };
            let got = path.select(doc.root());
            checked += 1;
            if expr.ends_with("text()") {
                // pme joins an element's text nodes into one value; libxml2
                // lists each text node. Compare presence, not count.
                if got.is_empty() != want.is_empty() {
                    failures.push(format!(
                        "{name}: `{expr}`: got {} items, libxml2 {}",
                        got.len(),
                        want.len()
                    ));
                }
                continue;
            }
            let got: Vec<String> = got
                .iter()
                .map(|item| match item {
                    Item::Element(n) => format!("ELEMENT {}", n.tag_name().name()),
                    Item::Text(_) => {
                        let attr = expr.rsplit('@').next().unwrap_or("");
                        format!("ATTRIBUTE {attr}")
                    }
                })
                .collect();
            if got != want {
                failures.push(format!("{name}: `{expr}`: got {got:?}, libxml2 {want:?}"));
            }
        }
    }
    crate::util::suite_ran(format!(
        "libxml2 XPath: {checked} inside pme's subset ({outside} outside it)"
    ));
    assert!(checked >= 5, "only {checked} expressions checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
