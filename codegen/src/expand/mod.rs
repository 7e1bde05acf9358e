//! [`ir::Model`] → tokens: declarative structs that derive
//! `pme::MetricGroup`, plus the `PLAN` table the scheduler runs.
//!
//! Logic stays in `pme-macros` and `pme`; this file only says *what* the
//! spec declares, so the generated file reads like hand-written code.

mod catalog;
mod collectors;
mod instruments;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::duration::format as dur;
use crate::ident;
use crate::ir::{
    Cache, Content, Fills, Group, HttpAuth, HttpSource, Metric, Model, RunAs, Secret, Service,
    Source, SourceKind, TlsClient,
};

/// Expands the whole model.
pub(crate) fn model(m: &Model) -> TokenStream {
    let services = m.services.iter().map(|s| service(s, m));
    let plan = plan(m);
    quote! {
        #(#services)*
        #plan
    }
}

fn service(s: &Service, m: &Model) -> TokenStream {
    let module = ident::field(&s.id);
    let doc = doc(&format!(
        "Service `{}` ({}:{}): {}.",
        s.id, m.file, s.line, s.name
    ));
    let groups: Vec<TokenStream> = s
        .groups
        .iter()
        .map(|g| group(g, s, m))
        .filter(|tokens| !tokens.is_empty())
        .collect();
    let instruments = instruments::items(s, m);
    if groups.is_empty() && instruments.is_empty() {
        // Only built-in collectors: nothing to generate.
        return TokenStream::new();
    }
    quote! {
        #[doc = #doc]
        pub mod #module {
            #(#groups)*
            #instruments
        }
    }
}

fn group(g: &Group, s: &Service, m: &Model) -> TokenStream {
    if let SourceKind::Collector(c) = &m.sources[g.source].kind {
        return collectors::instance_fn(c, g, m);
    }
    let name = ident::type_name(&g.id);
    let what = if g.standalone {
        "Standalone metric"
    } else {
        "Metric group"
    };
    let when = if !s.per_request() {
        format!("every {}", dur(m.tick * g.every))
    } else {
        format!("on each request to `/metrics/{}`", s.id)
    };
    let doc = doc(&format!(
        "{what} `{}` ({}:{}): reads {} {when}.",
        g.id,
        m.file,
        g.line,
        describe_source(&m.sources[g.source])
    ));
    let content = match g.content {
        Content::Text => "text",
        Content::Json => "json",
        Content::Xml => "xml",
        Content::Prometheus => return import_group(g, m, &name, &doc),
    };
    let fields = g.metrics.iter().map(|metric| field(metric, m));
    quote! {
        #[doc = #doc]
        #[derive(Debug, Default, ::pme::MetricGroup)]
        #[group(content = #content)]
        pub struct #name {
            #(#fields)*
        }
    }
}

/// A `content_type: prometheus` group: one `Imported` field whose
/// attributes list the imports.
fn import_group(g: &Group, m: &Model, name: &syn::Ident, doc: &str) -> TokenStream {
    let imports = g.imports.iter().map(|import| {
        let mut what = format!(
            "`{}` ({}:{}): serves `{}`",
            import.id, m.file, import.line, import.select
        );
        if let Some(rename) = &import.rename {
            what.push_str(&format!(" as `{}{rename}`", import.prefix));
        } else if !import.prefix.is_empty() {
            what.push_str(&format!(" with the prefix `{}`", import.prefix));
        }
        let doc = self::doc(&what);
        let select = &import.select;
        let mut args = vec![quote!(select = #select)];
        if let Some(rename) = &import.rename {
            args.push(quote!(name = #rename));
        }
        if !import.prefix.is_empty() {
            let prefix = &import.prefix;
            args.push(quote!(prefix = #prefix));
        }
        if !import.labels.is_empty() {
            let pairs = import.labels.iter().map(|(k, v)| quote!(#k = #v));
            args.push(quote!(labels(#(#pairs),*)));
        }
        if import.honor_labels {
            args.push(quote!(honor_labels));
        }
        args.extend(import.relabel.iter().map(relabel_attr));
        if let Some(v) = import.value_on_error {
            let text = crate::names::format_value(v);
            args.push(quote!(value_on_error = #text));
        }
        if let Some(n) = import.max_series {
            let n = proc_macro2::Literal::u64_unsuffixed(n);
            args.push(quote!(max_series = #n));
        }
        quote! {
            #[doc = #doc]
            #[import(#(#args),*)]
        }
    });
    let declared = &m.declared;
    quote! {
        #[doc = #doc]
        #[derive(Debug, Default, ::pme::MetricGroup)]
        #[group(content = "prometheus", declared(#(#declared),*))]
        pub struct #name {
            /// The families re-imported from the source.
            #(#imports)*
            pub families: ::pme::Imported,
        }
    }
}

fn field(metric: &Metric, m: &Model) -> TokenStream {
    let ident = ident::field(&metric.id);
    let doc = doc(&format!(
        "`{}`: {} ({}:{})",
        metric.name, metric.help, m.file, metric.line
    ));
    let name = &metric.name;
    let help = &metric.help;
    let kind = format_ident!("{}", kind_type(metric));
    let dynamic = metric
        .labels
        .iter()
        .filter(|(_, v)| {
            crate::filter::parse_template(v)
                .ok()
                .flatten()
                .is_some_and(|p| p.iter().any(|(c, _)| *c))
        })
        .count();
    let ty = if dynamic == 0 {
        quote!(::pme::#kind)
    } else {
        let n = Literal::usize_unsuffixed(dynamic);
        quote!(::pme::#kind<#n>)
    };
    let mut args = vec![quote!(name = #name), quote!(help = #help)];
    if !metric.labels.is_empty() {
        let pairs = metric.labels.iter().map(|(k, v)| quote!(#k = #v));
        args.push(quote!(labels(#(#pairs),*)));
    }
    if let Some(filter) = &metric.filter {
        let filter = raw_str(filter);
        args.push(quote!(filter = #filter));
    }
    if let Some(value) = &metric.value {
        args.push(quote!(value = #value));
    }
    if metric.match_all {
        args.push(quote!(match_all));
    }
    if !metric.value_map.is_empty() {
        let pairs = metric.value_map.iter().map(|(k, v)| {
            let v = crate::names::format_value(*v);
            quote!(#k = #v)
        });
        args.push(quote!(value_map(#(#pairs),*)));
    }
    if let Some(scale) = metric.scale {
        let text = crate::names::format_value(scale);
        args.push(quote!(scale = #text));
    }
    if let Some(v) = metric.value_on_error {
        let text = crate::names::format_value(v);
        args.push(quote!(value_on_error = #text));
    }
    if let Some(n) = metric.max_series {
        let n = proc_macro2::Literal::u64_unsuffixed(n);
        args.push(quote!(max_series = #n));
    }
    quote! {
        #[doc = #doc]
        #[metric(#(#args),*)]
        pub #ident: #ty,
    }
}

fn kind_type(metric: &Metric) -> &'static str {
    use crate::names::Kind;
    match metric.kind {
        Kind::Counter => "Counter",
        Kind::Gauge => "Gauge",
        Kind::Info => "Info",
        Kind::Untyped => "Untyped",
    }
}

fn group_plan(s: &Service, g: &Group, m: &Model) -> TokenStream {
    let service_id = &s.id;
    let group_id = &g.id;
    let collector = match &m.sources[g.source].kind {
        SourceKind::Collector(c) => collectors::plan(c, g, s),
        _ => {
            let module = ident::field(&s.id);
            let ty = ident::type_name(&g.id);
            quote!(::pme::__private::plan::Collector::Extract(::pme::__private::plan::new_group::<#module::#ty>))
        }
    };
    let index = Literal::usize_unsuffixed(g.source);
    let every = Literal::u32_unsuffixed(g.every);
    let timeout = millis(g.timeout);
    let max_series = option(crate::catalog::group_bound(m, s, g).map(|n| quote!(#n)));
    let sample = option(g.sample.as_ref().map(|text| quote!(#text)));
    quote! {
        ::pme::__private::plan::GroupPlan {
            service: #service_id,
            group: #group_id,
            source: #index,
            every: #every,
            timeout: #timeout,
            collector: #collector,
            max_series: #max_series,
            sample: #sample,
        }
    }
}

/// One relabelling rule as `relabel(...)`, every key written out.
fn relabel_attr(rule: &crate::ir::RelabelRule) -> TokenStream {
    let action = rule.action.name();
    let sources = &rule.source_labels;
    let (separator, regex, replacement) = (&rule.separator, &rule.regex, &rule.replacement);
    let target = (!rule.target_label.is_empty()).then(|| {
        let t = &rule.target_label;
        quote!(, target_label = #t)
    });
    let sources = (!sources.is_empty()).then(|| quote!(, source_labels(#(#sources),*)));
    let uses_sources = sources.is_some()
        || matches!(
            rule.action,
            pme_content::exposition::relabel::Action::Replace
                | pme_content::exposition::relabel::Action::Keep
                | pme_content::exposition::relabel::Action::Drop
        );
    let separator = uses_sources.then(|| quote!(, separator = #separator));
    let replacement = matches!(
        rule.action,
        pme_content::exposition::relabel::Action::Replace
            | pme_content::exposition::relabel::Action::LabelMap
    )
    .then(|| quote!(, replacement = #replacement));
    quote!(relabel(action = #action #sources #separator, regex = #regex #replacement #target))
}

/// A service with parameters or targets: collected per request, never
/// scheduled.
fn probe_plan(s: &Service, m: &Model) -> TokenStream {
    let service_id = &s.id;
    let parameters = s.parameters.iter().map(|p| {
        let (name, pattern) = (&p.name, &p.pattern);
        let fills = match p.fills {
            Fills::Argument => quote!(Argument),
            Fills::HostAndPort => quote!(HostAndPort),
            Fills::Host => quote!(Host),
        };
        quote! {
            ::pme::__private::plan::Parameter {
                name: #name,
                pattern: #pattern,
                fills: ::pme::__private::plan::Fills::#fills,
            }
        }
    });
    let targets = s.targets.iter().map(|t| {
        let (name, url) = (&t.name, &t.url);
        let labels = t.labels.iter().map(|(n, v)| quote!((#n, #v)));
        quote! {
            ::pme::__private::plan::Target {
                name: #name,
                url: #url,
                labels: &[#(#labels),*],
            }
        }
    });
    let groups = s.groups.iter().map(|g| group_plan(s, g, m));
    quote! {
        ::pme::__private::plan::ProbePlan {
            service: #service_id,
            parameters: &[#(#parameters),*],
            targets: &[#(#targets),*],
            groups: &[#(#groups),*],
        }
    }
}

fn plan(m: &Model) -> TokenStream {
    let tick = millis(m.tick);
    let sources = m.sources.iter().map(source);
    let scheduled = m.services.iter().filter(|s| !s.per_request());
    let groups = scheduled.flat_map(|s| s.groups.iter().map(move |g| group_plan(s, g, m)));
    let probes = m
        .services
        .iter()
        .filter(|s| s.per_request())
        .map(|s| probe_plan(s, m));
    let instruments = m.services.iter().filter_map(instruments::plan_entry);
    let catalog = catalog::entries(m);
    let sha256 = &m.spec_sha256;
    let file = &m.file;
    let doc = doc(&format!(
        "The collection plan of `{file}`: a tick of {}, {} source{}, every group with its period.",
        dur(m.tick),
        m.sources.len(),
        if m.sources.len() == 1 { "" } else { "s" }
    ));
    quote! {
        #[doc = #doc]
        pub static PLAN: ::pme::__private::plan::Plan = ::pme::__private::plan::Plan {
            spec: #file,
            spec_sha256: #sha256,
            tick: #tick,
            sources: &[#(#sources),*],
            groups: &[#(#groups),*],
            probes: &[#(#probes),*],
            instruments: &[#(#instruments),*],
            catalog: &[#(#catalog),*],
        };
    }
}

fn source(s: &Source) -> TokenStream {
    let kind = match &s.kind {
        SourceKind::Command {
            argv,
            environment,
            working_directory,
        } => {
            let names = environment.iter().map(|(n, _)| n);
            let values = environment.iter().map(|(_, v)| v);
            let working_directory = option(working_directory.as_ref().map(|w| quote!(#w)));
            quote!(::pme::__private::plan::SourceKind::Command {
                argv: &[#(#argv),*],
                environment: &[#((#names, #values)),*],
                working_directory: #working_directory,
            })
        }
        SourceKind::File { path } => {
            quote!(::pme::__private::plan::SourceKind::File { path: #path })
        }
        SourceKind::Files {
            pattern,
            labels,
            max_files,
        } => {
            let max_files = Literal::u32_unsuffixed(*max_files);
            quote!(::pme::__private::plan::SourceKind::Files {
                pattern: #pattern,
                labels: &[#(#labels),*],
                max_files: #max_files,
            })
        }
        SourceKind::Static { content } => {
            quote!(::pme::__private::plan::SourceKind::Static { content: #content })
        }
        SourceKind::Http(http) => http_source(http),
        SourceKind::Collector(c) => {
            let name = &c.path;
            quote!(::pme::__private::plan::SourceKind::Collector { name: #name })
        }
    };
    let max_bytes = Literal::u64_unsuffixed(s.max_bytes);
    let timeout = millis(s.timeout);
    let run_as = match &s.run_as {
        None => quote!(::core::option::Option::None),
        Some(RunAs {
            user,
            group,
            optional,
        }) => {
            let group = option(group.as_ref().map(|g| quote!(#g)));
            quote!(::core::option::Option::Some(::pme::__private::plan::RunAs { user: #user, group: #group, optional: #optional }))
        }
    };
    quote! {
        ::pme::__private::plan::SourcePlan { kind: #kind, max_bytes: #max_bytes, timeout: #timeout, run_as: #run_as }
    }
}

fn http_source(h: &HttpSource) -> TokenStream {
    let HttpSource {
        url,
        method,
        body,
        headers,
        auth,
        cache,
        valid_status,
        tls,
        proxy,
    } = h;
    let method = format_ident!("{}", if method == "POST" { "Post" } else { "Get" });
    let body = option(body.as_ref().map(|b| quote!(#b)));
    let headers = headers.iter().map(|(n, v)| quote!((#n, #v)));
    let secret = |s: &Secret| match s {
        Secret::File(path) => quote!(::pme::__private::plan::Secret::File(#path)),
        Secret::Env(var) => quote!(::pme::__private::plan::Secret::Env(#var)),
    };
    let auth = option(auth.as_ref().map(|a| match a {
        HttpAuth::Bearer(token) => {
            let token = secret(token);
            quote!(::pme::__private::plan::HttpAuth::Bearer(#token))
        }
        HttpAuth::Basic { username, password } => {
            let password = secret(password);
            quote!(::pme::__private::plan::HttpAuth::Basic { username: #username, password: #password })
        }
    }));
    let cache = match cache {
        Cache::Off => quote!(::pme::__private::plan::Cache::Off),
        Cache::Headers => quote!(::pme::__private::plan::Cache::Headers),
        Cache::For(t) => {
            let t = millis(*t);
            quote!(::pme::__private::plan::Cache::For(#t))
        }
    };
    let tls = option(tls.as_ref().map(tls_client));
    let valid_status = valid_status.iter().map(|c| Literal::u16_unsuffixed(*c));
    let proxy = option(proxy.as_ref().map(|p| quote!(#p)));
    quote! {
        ::pme::__private::plan::SourceKind::Http(::pme::__private::plan::HttpSource {
            url: #url,
            method: ::pme::__private::plan::Method::#method,
            body: #body,
            headers: &[#(#headers),*],
            auth: #auth,
            cache: #cache,
            valid_status: &[#(#valid_status),*],
            tls: #tls,
            proxy: #proxy,
        })
    }
}

fn tls_client(t: &TlsClient) -> TokenStream {
    let TlsClient {
        ca_file,
        client_cert,
        server_name,
        insecure_skip_verify,
    } = t;
    let ca_file = option(ca_file.as_ref().map(|f| quote!(#f)));
    let client_cert = option(client_cert.as_ref().map(|(c, k)| quote!((#c, #k))));
    let server_name = option(server_name.as_ref().map(|n| quote!(#n)));
    quote! {
        ::pme::__private::plan::TlsClient {
            ca_file: #ca_file,
            client_cert: #client_cert,
            server_name: #server_name,
            insecure_skip_verify: #insecure_skip_verify,
        }
    }
}

pub(super) fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

fn millis(d: std::time::Duration) -> TokenStream {
    if d.subsec_millis() == 0 {
        let secs = Literal::u64_unsuffixed(d.as_secs());
        quote!(::core::time::Duration::from_secs(#secs))
    } else {
        let ms = Literal::u64_unsuffixed(d.as_millis() as u64);
        quote!(::core::time::Duration::from_millis(#ms))
    }
}

/// A regex as a raw string literal (`r"\d+"`), as a person would write it.
fn raw_str(s: &str) -> TokenStream {
    let hashes = (0..)
        .map(|n| "#".repeat(n))
        .find(|h| !s.contains(&format!("\"{h}")))
        .unwrap_or_default();
    format!("r{hashes}\"{s}\"{hashes}")
        .parse()
        .unwrap_or_else(|_| quote!(#s))
}

fn describe_source(s: &Source) -> String {
    match &s.kind {
        SourceKind::Command { argv, .. } => format!("the output of `{}`", argv.join(" ")),
        SourceKind::File { path } => format!("file `{path}`"),
        SourceKind::Files {
            pattern, max_files, ..
        } => format!("each file matching `{pattern}` (at most {max_files})"),
        SourceKind::Static { content } => format!("the static value `{content}`"),
        SourceKind::Http(h) => format!("`{} {}`", h.method, h.url),
        SourceKind::Collector(c) => format!("the collector `{}`", c.path),
    }
}

/// Doc text for rustdoc: brackets escaped so spec text never becomes a link.
fn doc(text: &str) -> String {
    format!(" {}", text.replace('[', "\\[").replace(']', "\\]"))
}
