//! `conserje audit`: the audit trail from the operator's shell, and `conserje audit verify`,
//! which recomputes every hotel's hash chain from the stored events.

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use conserje_domain::values::TenantId;
use conserje_projections::audit::{self, AuditFilter};
use indicatif::{ProgressBar, ProgressStyle};

use crate::settings::StoreOptions;
use crate::Runtime;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute each hotel's hash chain from the events table and compare it with the sealed
    /// links; exits non-zero naming the first broken link.
    Verify {
        /// Only this hotel's chain.
        #[arg(long)]
        tenant: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreOptions,
    },
}

/// Who did what, when: the trail's rows, oldest first.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this hotel.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only this actor (`staff:lucia`, `admin:admin`, `guest:34600111222`…).
    #[arg(long)]
    pub actor: Option<String>,
    /// Only this aggregate (a reservation id, a session id, a key id).
    #[arg(long)]
    pub aggregate: Option<String>,
    /// Only events recorded at or after this instant (RFC 3339, e.g. 2026-12-01T00:00:00Z).
    #[arg(long)]
    pub since: Option<DateTime<Utc>>,
    /// At most this many rows.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreOptions,
}

pub async fn run(args: AuditArgs) -> anyhow::Result<()> {
    match args.command {
        Some(AuditCommand::Verify {
            tenant,
            json,
            store,
        }) => verify(tenant, json, store).await,
        None => list(args.list).await,
    }
}

async fn list(args: ListArgs) -> anyhow::Result<()> {
    let tenant = args.tenant.as_deref().map(TenantId::parse).transpose()?;
    let runtime = Runtime::open(&args.store).await?;
    runtime.audit_projection.catch_up().await?;
    let rows = runtime
        .audit_rows
        .query(&AuditFilter {
            tenant,
            aggregate_id: args.aggregate,
            actor: args.actor,
            from: args.since,
            to: None,
            limit: args.limit,
        })
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:<26} {:<14} {:<28} {:<10} {:<30} event",
        "recorded at", "hotel", "actor", "channel", "aggregate"
    );
    for row in &rows {
        println!(
            "{:<26} {:<14} {:<28} {:<10} {:<30} {}",
            row.recorded_at.format("%Y-%m-%d %H:%M:%S%.3f"),
            row.tenant_id,
            row.actor,
            row.channel,
            format!("{}/{}", row.aggregate_type, row.aggregate_id),
            row.event_type
        );
    }
    println!("{} event(s)", rows.len());
    Ok(())
}

async fn verify(tenant: Option<String>, json: bool, store: StoreOptions) -> anyhow::Result<()> {
    if let Some(tenant) = &tenant {
        TenantId::parse(tenant)?;
    }
    let runtime = Runtime::open(&store).await?;
    runtime
        .audit_projection
        .catch_up()
        .await
        .context("cannot seal the newest events before verifying")?;
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"));
    let reports = audit::verify(
        runtime.sealed_feed.as_ref(),
        runtime.audit_rows.as_ref(),
        tenant.as_deref(),
        &|read| bar.set_message(format!("{read} events read")),
    )
    .await?;
    bar.finish_and_clear();
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for report in &reports {
            match &report.broken {
                None => println!(
                    "{}: {} events verified, chain head {}{}",
                    report.tenant_id,
                    report.verified,
                    report.head,
                    if report.unsealed > 0 {
                        format!(" ({} not sealed yet)", report.unsealed)
                    } else {
                        String::new()
                    }
                ),
                Some(broken) => println!(
                    "{}: BROKEN at link {} (position {}, {}/{} #{}): {}",
                    report.tenant_id,
                    broken.link,
                    broken.position,
                    broken.aggregate_type,
                    broken.aggregate_id,
                    broken.sequence,
                    broken.reason
                ),
            }
        }
    }
    if let Some(report) = reports.iter().find(|r| r.broken.is_some()) {
        let broken = report.broken.as_ref().expect("found broken");
        bail!(
            "the audit trail of {} is broken at link {} (event position {})",
            report.tenant_id,
            broken.link,
            broken.position
        );
    }
    Ok(())
}
