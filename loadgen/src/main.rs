//! `conserje-loadgen`: drives `POST /api/v1/messages` of a running conserje at a target rate and
//! prints what became of the messages — acknowledged, answered, delivered, how fast and how long
//! after their 202 — with the ratios to raw broker and database baselines (see the library).

use clap::Parser;
use conserje_loadgen::{run, LoadgenArgs};

#[derive(Debug, Parser)]
#[command(
    name = "conserje-loadgen",
    version,
    about = "Benchmark a running conserje's message path end to end (acknowledged, answered, \
             delivered) against raw broker and database baselines"
)]
struct Cli {
    #[command(flatten)]
    args: LoadgenArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    run(Cli::parse().args).await
}
