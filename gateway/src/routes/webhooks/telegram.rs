//! `POST /webhooks/telegram/{tenant}`: a hotel's bot's updates, authenticated by the secret token
//! set with `setWebhook`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::Json;
use chrono::Utc;
use conserje_commands::channels::telegram;
use conserje_domain::values::{Channel, TenantId};
use serde_json::{json, Value};

use super::{malformed, record, Origin, RawBody};
use crate::error::ApiError;
use crate::openapi::{ErrorBody, TelegramReceipt};
use crate::webhook_guard::{count, secret_matches};
use crate::Runtime;

/// The header Telegram presents the webhook's secret token in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// `POST /webhooks/telegram/{tenant}`: appends the update's message (or button press) to the
/// hotel's conversation with the chat, answering `200 {}` (an update with nothing to record is
/// acknowledged and counted); `401` for a missing or wrong secret token, `400` for a body that is
/// not an update, `429` when the chat passed the rate limit.
#[utoipa::path(
    post,
    path = "/webhooks/telegram/{tenant}",
    operation_id = "telegram_receive",
    tag = "webhooks",
    summary = "A Telegram Bot API update for a hotel's bot",
    description = "No API key: `X-Telegram-Bot-Api-Secret-Token` must be the secret token of \
        `{tenant}`'s bot (another hotel's opens nothing). The update's message or button press is \
        appended to the hotel's conversation with the chat; an update with nothing to record is \
        acknowledged.",
    params(
        ("tenant" = String, Path, description = "The hotel whose bot this is"),
    ),
    request_body(content = Object, content_type = "application/json",
        description = "A Telegram `Update`"),
    security(("telegram_secret_token" = [])),
    responses(
        (status = 200, description = "Authenticated and recorded (or nothing to record)", body = TelegramReceipt),
        (status = 400, description = "`malformed_request`: an authenticated body that is not an update", body = ErrorBody),
        (status = 401, description = "`invalid_secret_token` (missing or wrong) or \
            `channel_not_configured` (the hotel has no Telegram secret token)", body = ErrorBody),
        (status = 404, description = "`not_found`: no such hotel", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 1 MiB", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the chat passed its messages per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the log did not answer", body = ErrorBody),
    )
)]
pub async fn receive(
    State(rt): State<Arc<Runtime>>,
    tenant: Result<Path<String>, PathRejection>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<Value>, ApiError> {
    let counters = &rt.webhooks.counters;
    // An unconfigured tenant is refused, not created: the path is the caller's word.
    let tenant = tenant
        .ok()
        .and_then(|Path(raw)| TenantId::parse(&raw).ok())
        .filter(|tenant| rt.channel_accounts.knows(tenant))
        .ok_or_else(|| ApiError::NotFound("no such hotel".into()))?;
    // The hotel's own secret (and, during a rotation, its next one): another hotel's opens
    // nothing here.
    let expected = rt
        .channel_accounts
        .telegram(&tenant)
        .map(|bot| bot.secret_tokens())
        .unwrap_or_default();
    if expected.is_empty() {
        count(&counters.telegram.signature_failures, 1);
        return Err(ApiError::Unauthorized {
            code: "channel_not_configured",
            message: format!("hotel {tenant} has no Telegram secret token configured"),
        });
    }
    let presented = headers.get(SECRET_HEADER).and_then(|v| v.to_str().ok());
    // Every secret is compared, so the timing does not tell which one matched.
    let matched = expected.iter().fold(false, |found, secret| {
        secret_matches(secret, presented) | found
    });
    if !matched {
        count(&counters.telegram.signature_failures, 1);
        return Err(ApiError::Unauthorized {
            code: "invalid_secret_token",
            message: "X-Telegram-Bot-Api-Secret-Token is missing or wrong".into(),
        });
    }

    let update = telegram::parse(&body).map_err(malformed)?;
    match telegram::normalise(&update, Utc::now()) {
        Some(message) => {
            let message = message.into_guest_message(tenant, Channel::Telegram);
            record(
                &rt,
                &counters.telegram,
                vec![message],
                &Origin::new(peer, &headers),
            )
            .await?;
        }
        None => count(&counters.telegram.ignored, 1),
    }
    // A button press is answered in the webhook's own answer (`answerCallbackQuery`), once it
    // is safely in the log.
    Ok(Json(
        telegram::callback_answer(&update).unwrap_or_else(|| json!({})),
    ))
}
