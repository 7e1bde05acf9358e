//! Sources: built-in collectors, commands (and the parameters that may
//! reach them), files and static values.

use super::*;

impl Validator<'_> {
    /// A collector's group: no metrics to check, but a built-in's
    /// families join the spec's, so nothing else may declare them; and
    /// the instances of one collector need labels that tell their series
    /// apart.
    pub(super) fn collector_group(
        &mut self,
        g: &spec::Group,
        service: &ServiceContext<'_>,
        every: u32,
        timeout: Duration,
    ) -> Option<ir::Group> {
        let builtin = g.source_type.as_ref().is_some_and(|t| t.value == "builtin");
        let (path, options, families) = if builtin {
            let (builtin, options) = builtin::check(g, self.d)?;
            let path = format!("pme::collect::builtin::{}", builtin.rust);
            (path, options, builtin.families)
        } else {
            let (path, options) = crate::collector::check(g, self.d)?;
            (path, options, &[][..])
        };
        let labels = self.instance_labels(g, service)?;
        // Only the first enabled instance of a built-in declares its
        // families; a disabled one declares nothing.
        let first_instance = !self.instances.contains_key(&path);
        self.check_instance(g, &path, &labels);
        if first_instance && enabled(g) {
            for family in families {
                if let Some(first) = self.families.get(*family) {
                    self.d.error_help(
                        g.id.pos,
                        format!(
                            "built-in collector `{path}` serves `{family}`, already declared at line {}, column {}",
                            first.line, first.column
                        ),
                        "every family must come from one place; rename the other metric",
                    );
                    return None;
                }
            }
            for family in families {
                self.families.insert((*family).to_owned(), g.id.pos);
            }
        }
        let source = self.intern_source(ir::Source {
            kind: ir::SourceKind::Collector(ir::CollectorSource {
                path,
                options,
                labels,
            }),
            max_bytes: 0,
            run_as: None,
            timeout,
        });
        Some(ir::Group {
            id: g.id.value.clone(),
            line: g.id.pos.line,
            standalone: false,
            source,
            every,
            timeout,
            content: ir::Content::Text,
            metrics: Vec::new(),
            imports: Vec::new(),
            sample: None,
        })
    }

    /// The service's labels, then the group's: valid names, given once.
    fn instance_labels(
        &mut self,
        g: &spec::Group,
        service: &ServiceContext<'_>,
    ) -> Option<Vec<(String, String)>> {
        let mut ok = true;
        let mut labels: Vec<(String, String)> = service
            .labels
            .iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect();
        for (name, value) in &g.labels {
            ok &= self.check_label_name(name);
            if labels.iter().any(|(n, _)| *n == name.value) {
                self.d.error_help(
                    name.pos,
                    format!("label `{}` is given twice", name.value),
                    "the service's labels and the group's are added to each series together",
                );
                ok = false;
            }
            labels.push((name.value.clone(), value.value.clone()));
        }
        ok.then_some(labels)
    }

    /// A second instance of one collector has labels the first does not:
    /// with the same ones, their series would be the same series.
    fn check_instance(&mut self, g: &spec::Group, path: &str, labels: &[(String, String)]) {
        if !enabled(g) {
            return;
        }
        let mut sorted = labels.to_vec();
        sorted.sort();
        let instances = self.instances.entry(path.to_owned()).or_default();
        if let Some((_, first)) = instances.iter().find(|(l, _)| *l == sorted) {
            self.d.error_help(
                g.id.pos,
                format!(
                    "`{}` is another instance of `{path}` with the same labels as the one at line {}, column {}",
                    g.id.value, first.line, first.column
                ),
                "give each instance `labels:` of its own (e.g. `labels: {site: b}`); their series share the collector's families",
            );
        }
        instances.push((sorted, g.id.pos));
    }

    /// A file, or with pattern characters every file the pattern matches,
    /// at most `max_files` of them. A `{name}` of a request parameter (or
    /// `{target}` in a service with targets) is not a capture: the path is
    /// left for the placeholder check to refuse.
    fn file(
        &mut self,
        path: &Sp<String>,
        max_files: Option<&Sp<i64>>,
        exec: &context::Context,
    ) -> Option<ir::SourceKind> {
        const MOST_FILES: i64 = 10_000;
        let names_a_parameter = !context::referenced(&path.value, &exec.parameters).is_empty()
            || (!exec.targets.is_empty() && path.value.contains("{target}"));
        if names_a_parameter || !pme_content::glob::is_pattern(&path.value) {
            if let Some(max) = max_files {
                self.d.error_help(
                    max.pos,
                    "`max_files` only applies to a path pattern",
                    format!("`{}` names one file", path.value),
                );
            }
            return Some(ir::SourceKind::File {
                path: path.value.clone(),
            });
        }
        let pattern = match pme_content::glob::Pattern::parse(&path.value) {
            Ok(p) => p,
            Err(e) => {
                self.d.error(path.pos, format!("file pattern {e}"));
                return None;
            }
        };
        let max_files = match max_files {
            None => {
                self.d.error_help(
                    path.pos,
                    format!("file pattern `{}` has no `max_files`", path.value),
                    "bound the files read per collection, e.g. `max_files: 100`; matches past it are counted in pme_file_matches_dropped_total",
                );
                return None;
            }
            Some(max) if !(1..=MOST_FILES).contains(&max.value) => {
                self.d.error(
                    max.pos,
                    format!("`max_files` must be between 1 and {MOST_FILES}"),
                );
                return None;
            }
            Some(max) => max.value as u32,
        };
        for name in pattern.captures() {
            self.check_label_name(&Sp {
                value: name.clone(),
                pos: path.pos,
            });
        }
        Some(ir::SourceKind::Files {
            pattern: path.value.clone(),
            labels: pattern.captures().to_vec(),
            max_files,
        })
    }

    pub(super) fn source_kind(
        &mut self,
        g: &spec::Group,
        exec: &context::Context,
    ) -> Option<ir::SourceKind> {
        let Some(source_type) = &g.source_type else {
            self.d.error_help(
                g.id.pos,
                format!("`{}` has no `source_type`", g.id.value),
                one_of("", SOURCE_TYPES),
            );
            return None;
        };
        if let Some(http) = &g.http
            && source_type.value != "http"
        {
            self.d.error(
                http.pos,
                "`http` settings only apply to `source_type: http`",
            );
        }
        let shell = g.shell.as_ref();
        if let Some(shell) = shell
            && source_type.value != "command"
        {
            self.d
                .error(shell.pos, "`shell` only applies to `source_type: command`");
        }
        if let Some(max) = &g.max_files
            && source_type.value != "file"
        {
            self.d.error(
                max.pos,
                "`max_files` only applies to `source_type: file` with a path pattern",
            );
        }
        let Some(source) = &g.source else {
            self.d.error_help(
                g.id.pos,
                format!("`{}` has no `source`", g.id.value),
                "name the command, file or static value to read",
            );
            return None;
        };
        match source_type.value.as_str() {
            "command" => self.command(source, shell),
            "file" => match source {
                SourceText::Text(path) if path.value.starts_with('/') => {
                    self.file(path, g.max_files.as_ref(), exec)
                }
                SourceText::Text(path) => {
                    self.d.error_help(
                        path.pos,
                        format!("file source `{}` is not an absolute path", path.value),
                        "relative paths would depend on the exporter's working directory",
                    );
                    None
                }
                SourceText::Argv(pos, _) => {
                    self.d.error(*pos, "a file source is one path, not a list");
                    None
                }
            },
            "static" => match source {
                SourceText::Text(content) => Some(ir::SourceKind::Static {
                    content: content.value.clone(),
                }),
                SourceText::Argv(pos, _) => {
                    self.d
                        .error(*pos, "a static source is one value, not a list");
                    None
                }
            },
            "http" => match source {
                SourceText::Text(url) => self
                    .http(url, g.http.as_ref(), exec)
                    .map(|h| ir::SourceKind::Http(Box::new(h))),
                SourceText::Argv(pos, _) => {
                    self.d.error(*pos, "an http source is one URL, not a list");
                    None
                }
            },
            other => {
                self.d.error_help(
                    source_type.pos,
                    format!("unknown source_type `{other}`"),
                    one_of(other, SOURCE_TYPES),
                );
                None
            }
        }
    }

    pub(super) fn command(
        &mut self,
        source: &SourceText,
        shell: Option<&Sp<bool>>,
    ) -> Option<ir::SourceKind> {
        let shell = shell.is_some_and(|s| s.value);
        let argv = match source {
            SourceText::Argv(pos, argv) => {
                if shell {
                    self.d.error_help(
                        *pos,
                        "`shell: true` takes a command line, not a list",
                        "write the line as one string",
                    );
                    return None;
                }
                if argv.is_empty() || argv[0].value.is_empty() {
                    self.d.error(*pos, "the command is empty");
                    return None;
                }
                argv.iter().map(|a| a.value.clone()).collect()
            }
            SourceText::Text(line) if shell => {
                if line.value.trim().is_empty() {
                    self.d.error(line.pos, "the command is empty");
                    return None;
                }
                vec!["/bin/sh".to_owned(), "-c".to_owned(), line.value.clone()]
            }
            SourceText::Text(line) => match command::split(&line.value) {
                Ok(argv) => argv,
                Err(e) => {
                    self.d.error_help(
                        line.pos,
                        format!("command `{}`: {e}", line.value),
                        "pme runs commands without a shell; set `shell: true` to run the line with /bin/sh",
                    );
                    return None;
                }
            },
        };
        Some(ir::SourceKind::Command {
            argv,
            environment: Vec::new(),
            working_directory: None,
        })
    }

    /// Parameters go into command arguments (passed as argv, never through
    /// a shell) and URLs' host and port, nowhere else; `{target}` starts
    /// an HTTP URL and goes nowhere else either.
    pub(super) fn check_placeholders(
        &mut self,
        g: &spec::Group,
        kind: &ir::SourceKind,
        exec: &context::Context,
    ) {
        let parameters = &exec.parameters;
        let pos = match &g.source {
            Some(SourceText::Text(t)) => t.pos,
            Some(SourceText::Argv(pos, _)) => *pos,
            None => g.id.pos,
        };
        let (url, texts): (Option<&str>, Vec<&str>) = match kind {
            ir::SourceKind::Command { argv, .. } => {
                self.check_argument_placeholders(g, argv, pos, parameters);
                (None, argv.iter().map(String::as_str).collect())
            }
            ir::SourceKind::File { path } => (None, vec![path]),
            ir::SourceKind::Files { pattern, .. } => (None, vec![pattern]),
            ir::SourceKind::Http(h) => (
                Some(h.url.as_str()),
                h.body
                    .as_deref()
                    .into_iter()
                    .chain(h.headers.iter().map(|(_, v)| v.as_str()))
                    .collect(),
            ),
            ir::SourceKind::Static { .. } | ir::SourceKind::Collector(_) => (None, Vec::new()),
        };
        if let Some(url) = url
            && !url.starts_with("{target}")
        {
            self.check_url_parameters(url, pos, parameters);
        }
        let is_command = matches!(kind, ir::SourceKind::Command { .. });
        if !is_command
            && let Some(p) = texts
                .iter()
                .find_map(|t| context::referenced(t, parameters).first().copied())
        {
            self.d.error_help(
                pos,
                format!("parameter `{}` outside a command or a URL's host", p.name),
                "a request value goes into command arguments or a URL's host and port only; a path, header or body built from a request is not allowed",
            );
        }
        if !exec.targets.is_empty() && texts.iter().any(|t| t.contains("{target}")) {
            self.d.error_help(
                pos,
                "`{target}` outside the start of an http source's URL",
                "`{target}` is a declared target's URL: start an http source with it, e.g. `{target}/status`",
            );
        }
    }

    /// A command's parameters: as whole arguments, never in shell code.
    fn check_argument_placeholders(
        &mut self,
        g: &spec::Group,
        argv: &[String],
        pos: Pos,
        parameters: &[ir::Parameter],
    ) {
        let referenced: Vec<&str> = argv
            .iter()
            .flat_map(|a| context::referenced(a, parameters))
            .map(|p| p.name.as_str())
            .collect();
        let shell_line = g.shell.as_ref().is_some_and(|s| s.value);
        if (shell_line || shell_script_uses(argv, parameters)) && !referenced.is_empty() {
            let (what, help) = if shell_line {
                (
                    "a `shell: true` command",
                    "write the command as a list of arguments",
                )
            } else {
                (
                    "a shell script",
                    "pass the value after the script and use it as \"$1\"",
                )
            };
            self.d.error_help(
                pos,
                format!("parameter `{}` in {what}", referenced[0]),
                format!("a request value must never be read as shell code; {help}"),
            );
            return;
        }
        self.used_parameters.extend(
            referenced
                .into_iter()
                .map(|name| (name.to_owned(), ir::Fills::Argument)),
        );
    }
}

/// Whether `argv` is `sh -c SCRIPT …` (or bash, dash, …) with a parameter
/// inside SCRIPT, where a value would be read as shell code. As `$1` after
/// the script, a value stays data.
fn shell_script_uses(argv: &[String], parameters: &[ir::Parameter]) -> bool {
    const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "busybox"];
    let program = argv[0].rsplit('/').next().unwrap_or_default();
    if !SHELLS.contains(&program) {
        return false;
    }
    argv.iter()
        .position(|a| a == "-c" || (a.starts_with('-') && !a.starts_with("--") && a.contains('c')))
        .and_then(|i| argv.get(i + 1))
        .is_some_and(|script| !context::referenced(script, parameters).is_empty())
}
