//! Arbitrary paths through the XPath-subset parser (which runs at build
//! time on specs): it must reject or accept, never panic; an accepted path
//! must evaluate on a small document without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pme_content::xml::parse_path;

const DOC: &str = r#"<a x="1"><b y="2">t<c/></b><b>u</b></a>"#;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    let doc = roxmltree::Document::parse(DOC).unwrap();
    for absolute in [true, false] {
        if let Ok(p) = parse_path(path, absolute) {
            let context = if absolute {
                doc.root()
            } else {
                doc.root_element()
            };
            let _ = p.select(context);
        }
    }
});
