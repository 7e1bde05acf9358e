//! pme embedded in an axum application: the application's routes and
//! `/metrics` on one listener. The handlers update the instruments of
//! `examples/embedded.yaml` (an LLM gateway's `llmdevops_*` families)
//! through the handles generated from it.
//!
//! ```sh
//! cargo run --example embedded -- 127.0.0.1:3000
//! curl -X POST '127.0.0.1:3000/chat?model=claude&prompt_tokens=12&completion_tokens=80&seconds=0.4'
//! curl -X POST '127.0.0.1:3000/agent?agent=coder&steps=3&tool=search'
//! curl 127.0.0.1:3000/metrics
//! ```

use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::post;
use pme::instrument::LabelValue as _;

mod metrics {
    pme::include_spec!("examples/embedded.yaml");
}

use metrics::llmdevops::{self as llm, Agent, Model, Status, StepType, Type};

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    // pme's own flags, as the binary reads them (here: none).
    let options = <pme::Options as clap::Parser>::parse_from(["embedded"]);
    let embedded = pme::embed(&metrics::PLAN, &options)
        .await
        .expect("pme starts");
    let app = Router::new()
        .route("/chat", post(chat))
        .route("/agent", post(agent))
        .route_service("/metrics", embedded.service());
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!(
        "listening on http://{}",
        listener.local_addr().expect("address")
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .expect("serve");
    embedded.shutdown().await;
}

/// One LLM call, as the gateway would report it after answering.
#[derive(serde::Deserialize)]
struct Chat {
    model: String,
    prompt_tokens: u32,
    completion_tokens: u32,
    seconds: f64,
    #[serde(default)]
    failed: bool,
}

async fn chat(Query(call): Query<Chat>) -> (StatusCode, String) {
    // A model outside the declared set has no series: the request is refused.
    let Some(model) = Model::parse(&call.model) else {
        return (
            StatusCode::BAD_REQUEST,
            format!("unknown model `{}`\n", call.model),
        );
    };
    let status = if call.failed {
        Status::Error
    } else {
        Status::Success
    };
    llm::llm_requests_total(model, status).inc();
    llm::llm_tokens_total(model, Type::Prompt).inc_by(f64::from(call.prompt_tokens));
    llm::llm_tokens_total(model, Type::Completion).inc_by(f64::from(call.completion_tokens));
    llm::llm_request_duration_seconds(model).observe(call.seconds);
    (StatusCode::OK, "ok\n".to_owned())
}

/// One agent run.
#[derive(serde::Deserialize)]
struct Run {
    agent: String,
    steps: u32,
    tool: Option<String>,
}

async fn agent(Query(run): Query<Run>) -> (StatusCode, String) {
    let Some(agent) = Agent::parse(&run.agent) else {
        return (
            StatusCode::BAD_REQUEST,
            format!("unknown agent `{}`\n", run.agent),
        );
    };
    for step in 0..run.steps {
        let kind = [StepType::Think, StepType::Act, StepType::Observe][step as usize % 3];
        llm::agent_steps_total(agent, kind).inc();
    }
    if let Some(tool) = &run.tool {
        llm::agent_tool_calls_total(agent, tool).inc();
    }
    llm::agent_executions_total(agent, Status::Success).inc();
    (StatusCode::OK, format!("{} ran\n", agent.as_str()))
}
