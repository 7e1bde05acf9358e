//! Splitting a `source:` command line into arguments, without a shell.

/// Splits `line` into words the way a POSIX shell would for simple commands
/// (single quotes, double quotes, backslash escapes), and refuses anything
/// only a shell would understand (pipes, redirections, variables, globs).
pub(crate) fn split(line: &str) -> Result<Vec<String>, String> {
    const SHELL_ONLY: &str = "|&;<>()$`*?[]#~{}";
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unterminated `'` in command".to_owned()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("unterminated `\"` in command".to_owned()),
                        },
                        Some(c) if "$`".contains(c) => {
                            return Err(format!("`{c}` inside double quotes needs a shell"));
                        }
                        Some(c) => word.push(c),
                        None => return Err("unterminated `\"` in command".to_owned()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("command ends with `\\`".to_owned()),
                }
            }
            c if SHELL_ONLY.contains(c) => {
                return Err(format!("`{c}` needs a shell"));
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        return Err("the command is empty".to_owned());
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words_and_quotes() {
        assert_eq!(split("uname -r").unwrap(), ["uname", "-r"]);
        assert_eq!(
            split(r#"echo 'a b' "c \"d\"" e\ f"#).unwrap(),
            ["echo", "a b", "c \"d\"", "e f"]
        );
        assert_eq!(split("a ''").unwrap(), ["a", ""]);
    }

    #[test]
    fn refuses_shell_syntax() {
        for bad in [
            "ps | wc",
            "a > b",
            "echo $HOME",
            "ls *.log",
            "a; b",
            "x && y",
            "echo \"$x\"",
            "",
            "   ",
            "'open",
        ] {
            assert!(split(bad).is_err(), "{bad:?}");
        }
    }
}
