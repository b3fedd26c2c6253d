//! `conserje guests forget`: the right to be forgotten from the operator's shell.

use clap::Subcommand;
use conserje_domain::metadata::Actor;
use conserje_domain::values::{GuestRef, TenantId};
use conserje_domain::EventMetadata;

use crate::forget::forget_guest;
use crate::settings::StoreOptions;
use crate::Runtime;

#[derive(Debug, Subcommand)]
pub enum GuestsAction {
    /// Forget a guest: delete their data key (their words, names, e-mails, phones and locations
    /// in every stored event become unreadable), record `GuestForgotten`, and rebuild the read
    /// models that held their data. Bookings keep their dates, rooms and prices.
    Forget {
        /// The hotel.
        #[arg(long)]
        tenant: String,
        /// The guest: the channel id of their conversations (WhatsApp number, Telegram chat id)
        /// or the guest_ref of their bookings (the e-mail by default).
        #[arg(long)]
        guest: String,
        /// Why (recorded with the event).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        store: StoreOptions,
    },
}

pub async fn run(action: GuestsAction) -> anyhow::Result<()> {
    let GuestsAction::Forget {
        tenant,
        guest,
        reason,
        store,
    } = action;
    let tenant = TenantId::parse(&tenant)?;
    let guest = GuestRef::parse(&guest)?;
    let runtime = Runtime::open(&store).await?;
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    let meta = EventMetadata::new(
        tenant.clone(),
        Actor::system(&format!("cli.{user}")),
        "system",
    );
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let done = forget_guest(&runtime, &tenant, &guest, reason, meta, progress).await?;
    println!(
        "guest forgotten in {} ({}); rebuilt {}",
        done.tenant_id,
        if done.key_deleted {
            "their data key is deleted"
        } else {
            "they had no data key: nothing of theirs was sealed, or they were already forgotten"
        },
        done.rebuilt
            .iter()
            .map(|(name, events)| format!("{name} ({events} events)"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
