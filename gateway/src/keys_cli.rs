//! `conserje keys create|list|revoke`: key management from the operator's shell, writing the
//! same events as the admin API (with `system:cli.<os user>` as their actor).

use anyhow::Context;
use chrono::{Duration, Utc};
use clap::Subcommand;
use conserje_domain::api_key::{KeyId, KeyName, Role, Scope};
use conserje_domain::metadata::Actor;
use conserje_domain::values::TenantId;
use conserje_domain::EventMetadata;

use crate::auth::KeyRing;
use crate::routes::keys::tenant_of;
use crate::settings::StoreOptions;
use crate::Runtime;

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Issue a key and print it (once: only its hash is stored).
    Create {
        /// The key's name: the actor of what it does (`staff:<name>`); a-z, 0-9, '.', '_', '-'.
        #[arg(long)]
        name: String,
        /// integration, staff, analyst or admin.
        #[arg(long)]
        role: String,
        /// The key's hotel; omit only for an admin key of every hotel.
        #[arg(long)]
        tenant: Option<String>,
        /// Days until the key stops working; it lasts until revoked when absent.
        #[arg(long)]
        expires_in_days: Option<u32>,
        #[command(flatten)]
        store: StoreOptions,
    },
    /// Show every key: id, name, role, hotel, expiry, revocation. Never the secrets.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreOptions,
    },
    /// Rotate a key: issue its successor (same name, role and hotel; printed once) and let the old
    /// one work only for the window, so its users can switch without a gap.
    Rotate {
        /// The key id (the 16 hex digits after `cjk_`).
        key_id: String,
        /// Hours the old key keeps working.
        #[arg(long, default_value_t = 24)]
        window_hours: u32,
        #[command(flatten)]
        store: StoreOptions,
    },
    /// Revoke a key: it opens nothing from then on (a running server notices within
    /// CONSERJE_KEY_CACHE_SECONDS).
    Revoke {
        /// The key id (the 16 hex digits after `cjk_`).
        key_id: String,
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        store: StoreOptions,
    },
}

fn operator() -> Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    Actor::system(&format!("cli.{user}"))
}

pub async fn run(action: KeysAction) -> anyhow::Result<()> {
    match action {
        KeysAction::Create {
            name,
            role,
            tenant,
            expires_in_days,
            store,
        } => {
            let name = KeyName::parse(&name)?;
            let role = Role::parse(&role)?;
            let scope = match tenant {
                Some(raw) => Scope::Hotel(TenantId::parse(&raw)?),
                None => Scope::AllHotels,
            };
            let runtime = Runtime::open(&store).await?;
            let expires_at = expires_in_days.map(|days| Utc::now() + Duration::days(days.into()));
            let meta = EventMetadata::new(tenant_of(&scope), operator(), "system");
            let issued = runtime
                .keys
                .issue(
                    KeyRing::new_key_id()?,
                    name,
                    role,
                    scope.clone(),
                    expires_at,
                    meta,
                )
                .await
                .context("cannot issue the key")?;
            eprintln!(
                "issued {role} key {} for {} (shown once; keep it secret):",
                issued.key_id,
                if scope == Scope::AllHotels {
                    "every hotel".to_owned()
                } else {
                    format!("hotel {scope}")
                }
            );
            println!("{}", issued.key);
        }
        KeysAction::List { json, store } => {
            let runtime = Runtime::open(&store).await?;
            runtime.api_keys_projection.catch_up().await?;
            let rows = runtime.keys.list().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(());
            }
            println!(
                "{:<16}  {:<24} {:<11} {:<16} {:<20} status",
                "key id", "name", "role", "hotel", "expires"
            );
            let now = Utc::now();
            for row in &rows {
                let status = match (&row.revoked_at, row.expires_at) {
                    (Some(at), _) => format!("revoked {}", at.format("%Y-%m-%d %H:%M")),
                    (None, Some(at)) if at <= now => "expired".to_owned(),
                    _ => "active".to_owned(),
                };
                let expires = row.expires_at.map_or("never".to_owned(), |at| {
                    at.format("%Y-%m-%d %H:%M").to_string()
                });
                println!(
                    "{:<16}  {:<24} {:<11} {:<16} {:<20} {status}",
                    row.key_id, row.name, row.role, row.scope, expires
                );
            }
            println!("{} key(s)", rows.len());
        }
        KeysAction::Rotate {
            key_id,
            window_hours,
            store,
        } => {
            let key_id = KeyId::parse(&key_id)?;
            let runtime = Runtime::open(&store).await?;
            let key = runtime.keys.load(&key_id).await?;
            let scope = key
                .issued
                .map(|k| k.scope)
                .with_context(|| format!("no key {key_id}"))?;
            let meta = EventMetadata::new(tenant_of(&scope), operator(), "system");
            let window = std::time::Duration::from_secs(u64::from(window_hours) * 3600);
            let successor = runtime
                .keys
                .rotate(&key_id, window, meta)
                .await
                .with_context(|| format!("cannot rotate key {key_id}"))?;
            eprintln!(
                "key {} replaces {key_id}, which works for {window_hours} more hour(s); the new key \
                 (shown once):",
                successor.key_id
            );
            println!("{}", successor.key);
        }
        KeysAction::Revoke {
            key_id,
            reason,
            store,
        } => {
            let key_id = KeyId::parse(&key_id)?;
            let runtime = Runtime::open(&store).await?;
            let key = runtime.keys.load(&key_id).await?;
            let scope = key
                .issued
                .map(|k| k.scope)
                .with_context(|| format!("no key {key_id}"))?;
            let meta = EventMetadata::new(tenant_of(&scope), operator(), "system");
            runtime
                .keys
                .revoke(&key_id, reason, meta)
                .await
                .with_context(|| format!("cannot revoke key {key_id}"))?;
            println!("key {key_id} revoked");
        }
    }
    Ok(())
}
