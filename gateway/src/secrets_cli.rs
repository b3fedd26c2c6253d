//! `conserje secrets rotate`: how to change a hotel's webhook secrets or API keys without a
//! moment in which real deliveries or integrations are refused, and where each hotel stands.

use clap::Subcommand;
use conserje_domain::values::TenantId;

use crate::settings::StoreOptions;
use crate::Runtime;

#[derive(Debug, Subcommand)]
pub enum SecretsAction {
    /// Print the rotation steps, and whether a rotation is under way for the hotel.
    Rotate {
        /// The hotel whose channel secrets to show (`default` when absent).
        #[arg(long, default_value = "default")]
        tenant: String,
        #[command(flatten)]
        store: StoreOptions,
    },
}

const STEPS: &str = "\
Rotating without a gap: both the current and the next value are accepted during the window.

WhatsApp app secret (Meta signs every delivery with it)
  1. Put the new secret in [hotels.<id>.whatsapp] next_app_secret (the default hotel:
     CONSERJE_WHATSAPP_NEXT_APP_SECRET) and restart conserje: deliveries signed with either pass.
  2. Reset the app secret in Meta's App Dashboard (Settings > Basic); Meta signs with the new one.
  3. Move the new secret to app_secret, remove next_app_secret, restart: only the new one passes.

Telegram webhook secret token
  1. Put the new token in [hotels.<id>.telegram] next_secret_token (the default hotel:
     CONSERJE_TELEGRAM_NEXT_SECRET_TOKEN) and restart conserje.
  2. Call setWebhook with secret_token=<new token>; Telegram sends it from then on.
  3. Move it to secret_token, remove next_secret_token, restart.

API keys
  1. conserje keys rotate <key id> --window-hours 24: the successor is printed once; the old key
     keeps working for the window (its expiry is brought forward, as an event).
  2. Give the successor to the key's users; after the window only it opens anything.
  Compromised? conserje keys revoke <key id> closes it at once (other instances within
  CONSERJE_KEY_CACHE_SECONDS).
";

pub async fn run(action: SecretsAction) -> anyhow::Result<()> {
    let SecretsAction::Rotate { tenant, store } = action;
    let tenant = TenantId::parse(&tenant)?;
    print!("{STEPS}");
    let runtime = Runtime::open(&store).await?;
    let accounts = &runtime.channel_accounts;
    if !accounts.knows(&tenant) {
        anyhow::bail!("no hotel {tenant} in the configuration");
    }
    let state = |values: Vec<&str>| match values.len() {
        0 => "not configured",
        1 => "one secret (no rotation under way)",
        _ => "current and next accepted (rotation under way)",
    };
    println!("\nHotel {tenant} now:");
    println!(
        "  WhatsApp app secret: {}",
        state(
            accounts
                .whatsapp(&tenant)
                .map(|a| a.app_secrets())
                .unwrap_or_default()
        )
    );
    println!(
        "  Telegram secret token: {}",
        state(
            accounts
                .telegram(&tenant)
                .map(|b| b.secret_tokens())
                .unwrap_or_default()
        )
    );
    Ok(())
}
