//! A property test of escaping: arbitrary strings (quotes, backslashes,
//! newlines, control characters, braces, `#`, non-ASCII, astral-plane
//! characters) become label values, from JSON strings and through a
//! re-import, and HELP texts through a re-import. promtool and the Python
//! parser must accept the output, and the Python parser must read back
//! exactly the strings that went in.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::embedded::{escaping, once, owned};
use crate::util::{Dir, promtool_accepts, python_parse};
/// Strings per run; the generator is seeded, so every run checks the same ones.
const CASES: usize = 400;

/// xorshift64*: a fixed seed, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A string mixing the characters escaping is about with ordinary
    /// and unusual ones.
    fn string(&mut self) -> String {
        const SPECIAL: &[char] = &[
            '"',
            '\\',
            '\n',
            '\r',
            '\t',
            '{',
            '}',
            '=',
            ',',
            '#',
            ' ',
            '\'',
            '$',
            '\u{7f}',
            '\u{1}',
            'é',
            'ß',
            '日',
            '\u{2028}',
            '\u{200b}',
            '\u{feff}',
            '🦀',
            '\u{10ffff}',
        ];
        let len = self.below(24);
        (0..len)
            .map(|_| match self.below(4) {
                0 => SPECIAL[self.below(SPECIAL.len())],
                1 => char::from_u32(0x20 + self.below(0x5f) as u32).unwrap(),
                2 => char::from_u32(0xa0 + self.below(0x2000) as u32)
                    .filter(|c| !c.is_control())
                    .unwrap_or('x'),
                _ => char::from(b'a' + self.below(26) as u8),
            })
            .collect()
    }
}

/// Escapes for the text format, written here independently of pme.
fn escape(s: &str, quote: bool) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

#[test]
fn arbitrary_label_values_and_help_survive_exactly() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let values: Vec<String> = (0..CASES).map(|_| rng.string()).collect();
    // promtool lints an empty HELP, and the Python parser strips the
    // whitespace around a HELP line (pme keeps it): letters at both ends.
    let helps: Vec<String> = (0..CASES / 8)
        .map(|_| format!("h{}h", rng.string()))
        .collect();

    let dir = Dir::new("escaping");
    let items: Vec<serde_json::Value> =
        values.iter().map(|v| serde_json::json!({"v": v})).collect();
    dir.write(
        "escaping/values.json",
        &serde_json::json!({ "items": items }).to_string(),
    );
    let mut upstream = String::new();
    for (f, help) in helps.iter().enumerate() {
        let _ = writeln!(upstream, "# HELP upstream_f{f} {}", escape(help, false));
        let _ = writeln!(upstream, "# TYPE upstream_f{f} gauge");
        for i in 0..8 {
            let v = &values[f * 8 + i];
            let _ = writeln!(
                upstream,
                "upstream_f{f}{{v=\"{}\",i=\"{i}\"}} {i}",
                escape(v, true)
            );
        }
    }
    dir.write("escaping/upstream.prom", &upstream);

    let (body, ok) = once(owned(&escaping::PLAN, &dir, None));
    assert!(ok, "{body}");
    promtool_accepts(body.as_bytes());
    let Some(samples) = python_parse(body.as_bytes()) else {
        return;
    };

    // From JSON: the value label of series `index` is values[index].
    let from_json: BTreeMap<usize, &str> = samples
        .iter()
        .filter(|s| s.family == "escaped_value_info")
        .map(|s| {
            (
                s.labels["index"].parse().unwrap(),
                s.labels["value"].as_str(),
            )
        })
        .collect();
    assert_eq!(from_json.len(), CASES);
    for (i, v) in &from_json {
        assert_eq!(*v, values[*i], "label value {i} changed");
    }
    let help = &samples
        .iter()
        .find(|s| s.family == "escaped_value_info")
        .unwrap()
        .help;
    assert_eq!(
        help,
        "HELP with a \\ backslash, \"quotes\", a\nnewline and ünïcödé."
    );

    // Through a re-import: label values and HELP texts.
    let mut imported = 0;
    for s in samples
        .iter()
        .filter(|s| s.family.starts_with("upstream_f"))
    {
        let f: usize = s.family["upstream_f".len()..].parse().unwrap();
        let i: usize = s.labels["i"].parse().unwrap();
        assert_eq!(
            s.labels["v"],
            values[f * 8 + i],
            "imported label {f}/{i} changed"
        );
        assert_eq!(s.help, helps[f], "imported HELP {f} changed");
        imported += 1;
    }
    assert_eq!(imported, CASES / 8 * 8);
}
