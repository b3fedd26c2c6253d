//! `conserje`: the AI hotel receptionist's service and operator tools.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use conserje_gateway::auth::{ensure_first_admin_key, FirstKey};
use conserje_gateway::role::Role;
use conserje_gateway::runtime::redact;
use conserje_gateway::settings::StoreOptions;
use conserje_gateway::{
    app, audit_cli, dead_letters, guests_cli, keys_cli, nlu, operations, pms_cli, secrets_cli,
    Runtime,
};
use conserje_infra::Database;

#[derive(Debug, Parser)]
#[command(
    name = "conserje",
    version,
    about = "conserje: an event-sourced AI hotel receptionist"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service. With no options: SQLite store in ./.conserje and the built-in PMS
    /// simulator, no other server needed.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "CONSERJE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// What this process runs: the webhooks and API, the conversation worker and PMS sync,
        /// the projections, or all of them. A split role needs the distributed profile
        /// (PostgreSQL, Kafka and Redis); every role answers /health and /metrics.
        #[arg(long, env = "CONSERJE_ROLE", value_enum, default_value_t = Role::All)]
        role: Role,
        #[command(flatten)]
        store: StoreOptions,
    },
    /// Apply pending database migrations to the configured store and exit.
    Migrate {
        #[command(flatten)]
        store: StoreOptions,
    },
    /// Rebuild a projection from the first stored event into a shadow copy, swap it in
    /// atomically, then apply what was written meanwhile. Safe beside a running server.
    Replay {
        /// reservations, reservation-view, message-stats, session-view or guest-reservations.
        projection: String,
        #[command(flatten)]
        store: StoreOptions,
    },
    /// Language understanding from the command line: `nlu parse` turns JSON lines {"text": ...}
    /// on stdin into language, intent, confidence and entities; `nlu eval FILE.jsonl` scores the
    /// model on a labelled file (accuracy, per-intent precision/recall, entities, latency).
    Nlu(nlu::NluArgs),
    /// The dead-letter queue: replies a channel refused, voice notes not transcribed, messages
    /// that could not be read. List them, or send them back to be handled again.
    #[command(subcommand)]
    Dlq(DlqAction),
    /// The audit trail: who did what, when, through which channel (`conserje audit --tenant T
    /// --actor A --since T`), and `conserje audit verify`, which checks each hotel's hash chain.
    Audit(Box<audit_cli::AuditArgs>),
    /// Guests' personal data: `guests forget --tenant T --guest G` (the right to be forgotten).
    #[command(subcommand)]
    Guests(guests_cli::GuestsAction),
    /// Webhook secrets and API keys: `secrets rotate` prints the steps of a rotation without a
    /// gap, and where the hotel stands.
    #[command(subcommand)]
    Secrets(secrets_cli::SecretsAction),
    /// API keys: create one (printed once), list them, revoke one. Keys are events: who issued
    /// or revoked which key is in the audit trail.
    #[command(subcommand)]
    Keys(keys_cli::KeysAction),
    /// The hotels' PMSs: `pms check --tenant T` connects with the hotel's settings and says in
    /// plain words what is wrong (key, permissions, room-type mapping, availability search).
    #[command(subcommand)]
    Pms(pms_cli::PmsAction),
    /// List every consumer of the event store and of the events topic with its checkpoint and lag.
    Projections {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreOptions,
    },
}

/// What to do with the dead-letter queue.
#[derive(Debug, Subcommand)]
enum DlqAction {
    /// Show each dead letter: why it failed, where it came from, whose conversation it is.
    List {
        /// Only this reason (send_failed, transcription_failed, undecodable_message…).
        #[arg(long)]
        reason: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreOptions,
    },
    /// Send dead letters back to the topic they came from, to be handled again. Safe to repeat:
    /// a message already recorded or a reply already delivered is not done twice.
    Redrive {
        /// Only this reason.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        store: StoreOptions,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let tracing = conserje_gateway::telemetry::init_tracing();
    let outcome = match Cli::parse().command {
        Command::Serve {
            listen,
            role,
            store,
        } => serve(listen, role, store).await,
        Command::Migrate { store } => migrate(store).await,
        Command::Replay { projection, store } => replay(&projection, store).await,
        Command::Projections { json, store } => projections(json, store).await,
        Command::Nlu(args) => nlu::run(args),
        Command::Dlq(action) => dlq(action).await,
        Command::Keys(action) => keys_cli::run(action).await,
        Command::Audit(args) => audit_cli::run(*args).await,
        Command::Guests(action) => guests_cli::run(action).await,
        Command::Secrets(action) => secrets_cli::run(action).await,
        Command::Pms(action) => pms_cli::run(action).await,
    };
    // After serve's graceful shutdown (connections drained, background tasks ended): the spans
    // of the last messages are still in the batch processor.
    tracing.shutdown().await;
    outcome
}

async fn serve(listen: SocketAddr, role: Role, store: StoreOptions) -> anyhow::Result<()> {
    if role != Role::All && !store.is_distributed() {
        anyhow::bail!(
            "--role {} needs the distributed profile (--database-url postgres://…, \
             --kafka-brokers and --redis-url): the embedded store, log and read models belong \
             to one process, which must run every role (--role all)",
            role.name()
        );
    }
    let runtime = Arc::new(Runtime::open(&store).await?);
    if role.serves_api() {
        match ensure_first_admin_key(&runtime.keys, &store.data_dir).await? {
            FirstKey::Created(path) => println!(
                "first start: an admin key for every hotel is in {} (readable by you only); \
                 use it as Authorization: Bearer <key>",
                path.display()
            ),
            FirstKey::AlreadyIssued => {}
        }
    }
    let background = runtime.start_role(role);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    println!(
        "conserje ({} role) listening on http://{} (store: {} at {})",
        role.name(),
        listener.local_addr()?,
        runtime.db.kind(),
        redact(&store.store_url())
    );
    app::serve_role(listener, runtime.clone(), role, shutdown_signal()).await?;
    runtime.shutdown();
    for task in background {
        task.await.ok();
    }
    Ok(())
}

async fn migrate(store: StoreOptions) -> anyhow::Result<()> {
    std::fs::create_dir_all(&store.data_dir)
        .with_context(|| format!("cannot create data directory {}", store.data_dir.display()))?;
    let url = store.store_url();
    let db = Database::connect(&url)
        .await
        .with_context(|| format!("cannot open the event store at {}", redact(&url)))?;
    let applied = db.migrate().await.context("migration failed")?;
    println!(
        "{}: {applied} migration(s) applied, {} known",
        redact(&url),
        db.known_migrations().len()
    );
    Ok(())
}

async fn replay(projection: &str, store: StoreOptions) -> anyhow::Result<()> {
    let runtime = Runtime::open(&store).await?;
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let report = operations::replay(&runtime, projection, progress).await?;
    println!(
        "replayed {} events into {} in {:.2} s ({:.0} events/s); {} more applied after the swap",
        report.events,
        report.projection,
        report.elapsed.as_secs_f64(),
        report.events_per_second(),
        report.final_pass
    );
    Ok(())
}

async fn projections(json: bool, store: StoreOptions) -> anyhow::Result<()> {
    let runtime = Runtime::open(&store).await?;
    let statuses = operations::projections(&runtime).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&statuses)?);
        return Ok(());
    }
    println!(
        "{:<22} {:<6} {:>8}  checkpoint",
        "projection", "source", "lag"
    );
    for status in statuses {
        println!(
            "{:<22} {:<6} {:>8}  {}",
            status.name, status.source, status.lag, status.checkpoint
        );
    }
    Ok(())
}

async fn dlq(action: DlqAction) -> anyhow::Result<()> {
    match action {
        DlqAction::List {
            reason,
            json,
            store,
        } => {
            let runtime = Runtime::open(&store).await?;
            let letters = dead_letters::list(&runtime, reason.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&letters)?);
                return Ok(());
            }
            println!(
                "{:<10} {:<22} {:<40} {:<36} detail",
                "position", "reason", "source", "key"
            );
            for letter in &letters {
                println!(
                    "{:<10} {:<22} {:<40} {:<36} {}",
                    letter.position, letter.reason, letter.source, letter.key, letter.detail
                );
            }
            println!("{} dead letter(s)", letters.len());
        }
        DlqAction::Redrive { reason, store } => {
            let runtime = Runtime::open(&store).await?;
            let sent = dead_letters::redrive(&runtime, reason.as_deref()).await?;
            println!("{sent} dead letter(s) sent back to their topics");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
