//! `GET /webhooks/whatsapp` (Meta's verification handshake) and `POST /webhooks/whatsapp`
//! (deliveries signed with `X-Hub-Signature-256`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use conserje_commands::channels::whatsapp;
use conserje_commands::receipts::ConversationReceipts;
use conserje_domain::values::{Channel, TenantId};
use conserje_infra::config::DEFAULT_HOTEL;
use serde_json::{json, Value};

use super::{malformed, record, record_receipts, Origin, RawBody};
use crate::error::ApiError;
use crate::openapi::{ErrorBody, WhatsAppReceipt};
use crate::webhook_guard::{count, whatsapp_signature_is_valid};
use crate::Runtime;

/// The header Meta signs deliveries with.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// `GET /webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`: echoes the
/// challenge as plain text when the token is any configured hotel's verification token, so
/// Meta accepts the callback URL; `403` otherwise.
#[utoipa::path(
    get,
    path = "/webhooks/whatsapp",
    operation_id = "whatsapp_verify",
    tag = "webhooks",
    summary = "Meta's verification handshake",
    description = "No API key: the verification token of any configured hotel proves the caller. \
        Echoes `hub.challenge` as plain text.",
    params(
        ("hub.mode" = Option<String>, Query, description = "`subscribe`"),
        ("hub.verify_token" = Option<String>, Query, description = "A hotel's verification token"),
        ("hub.challenge" = Option<String>, Query, description = "Echoed back"),
    ),
    security(()),
    responses(
        (status = 200, description = "The challenge", body = String, content_type = "text/plain"),
        (status = 400, description = "`malformed_request`: no `hub.challenge`", body = ErrorBody),
        (status = 403, description = "`verification_failed`: `hub.mode` is not `subscribe` or the \
            token is no hotel's", body = ErrorBody),
    )
)]
pub async fn verify(
    State(rt): State<Arc<Runtime>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) =
        query.map_err(|e| ApiError::bad_request("malformed_request", e.body_text()))?;
    let subscribing = params.get("hub.mode").map(String::as_str) == Some("subscribe");
    let token_ok = rt
        .webhooks
        .is_verify_token(params.get("hub.verify_token").map(String::as_str));
    if !(subscribing && token_ok) {
        return Err(ApiError::Forbidden {
            code: "verification_failed",
            message: "hub.mode must be subscribe and hub.verify_token a configured token".into(),
        });
    }
    let challenge = params
        .get("hub.challenge")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::bad_request("malformed_request", "hub.challenge is missing"))?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        challenge.clone(),
    )
        .into_response())
}

/// `POST /webhooks/whatsapp`: authenticates the delivery with the app secret of every hotel
/// it names, then appends its messages, each to its hotel's conversation.
///
/// Answers `200` with what it accepted; `401` for a missing or wrong signature (or a hotel with
/// no app secret) whatever the body, `400` for a signed body that is not a delivery, `429` when a
/// guest passed the rate limit; nothing is appended unless the answer is `200`.
#[utoipa::path(
    post,
    path = "/webhooks/whatsapp",
    operation_id = "whatsapp_receive",
    tag = "webhooks",
    summary = "A WhatsApp Cloud API delivery",
    description = "No API key: `X-Hub-Signature-256` must be the HMAC-SHA256 of the raw body with \
        the app secret of every hotel the delivery names (`default` for a number no hotel owns), \
        whatever the body. Each message is appended to its hotel's conversation with the guest; \
        nothing is appended unless the answer is 200.",
    request_body(content = Object, content_type = "application/json",
        description = "Meta's webhook payload (`object`, `entry[].changes[].value`…)"),
    security(("whatsapp_signature" = [])),
    responses(
        (status = 200, description = "Authenticated; what the delivery held", body = WhatsAppReceipt),
        (status = 400, description = "`malformed_request`: a signed body that is not a delivery", body = ErrorBody),
        (status = 401, description = "`invalid_signature` (missing or not matching the body) or \
            `channel_not_configured` (a hotel named has no app secret)", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 1 MiB", body = ErrorBody),
        (status = 429, description = "`rate_limited`: a guest passed their messages per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the log did not answer", body = ErrorBody),
    )
)]
pub async fn receive(
    State(rt): State<Arc<Runtime>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<Value>, ApiError> {
    let counters = &rt.webhooks.counters;
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    // Read leniently from the unverified body only to choose the secrets; every hotel named must
    // have signed it, so a payload cannot borrow another hotel's secret.
    // A number no hotel owns is signed for by `default` (whose secret the app shares in a
    // one-app install); its messages are then not recorded (see below).
    let mut signers: Vec<TenantId> = Vec::new();
    for id in whatsapp::phone_number_ids(&body).unwrap_or_default() {
        let tenant = match rt.channel_accounts.whatsapp_tenant(&id) {
            Some(resolved) => resolved.tenant,
            None => default_tenant()?,
        };
        if !signers.contains(&tenant) {
            signers.push(tenant);
        }
    }
    if signers.is_empty() {
        signers.push(default_tenant()?);
    }
    for tenant in &signers {
        let secrets = rt
            .channel_accounts
            .whatsapp(tenant)
            .map(|account| account.app_secrets())
            .unwrap_or_default();
        if secrets.is_empty() {
            count(&counters.whatsapp.signature_failures, 1);
            return Err(ApiError::Unauthorized {
                code: "channel_not_configured",
                message: format!("hotel {tenant} has no WhatsApp app secret configured"),
            });
        }
        // The current secret or, during a rotation, the next one.
        let signed = secrets.iter().fold(false, |ok, secret| {
            whatsapp_signature_is_valid(secret, &body, signature) | ok
        });
        if !signed {
            count(&counters.whatsapp.signature_failures, 1);
            return Err(ApiError::Unauthorized {
                code: "invalid_signature",
                message: "X-Hub-Signature-256 is missing or does not match the body".into(),
            });
        }
    }

    let webhook = whatsapp::parse(&body).map_err(malformed)?;
    let delivery = whatsapp::normalise(&webhook, Utc::now());
    let mut messages = Vec::with_capacity(delivery.message_count());
    let mut receipts: Vec<ConversationReceipts> = Vec::new();
    let mut unknown_number = false;
    let mut refused = 0;
    for batch in delivery.batches {
        let resolved = rt.channel_accounts.whatsapp_tenant(&batch.phone_number_id);
        let Some(resolved) = resolved else {
            // Acknowledged, so Meta does not retry (and flag the app's one webhook for every
            // hotel), but recorded nowhere: no hotel owns this number.
            unknown_number = true;
            refused += batch.messages.len();
            tracing::warn!(
                phone_number_id = %batch.phone_number_id,
                messages = batch.messages.len(),
                "WhatsApp delivery for a number no hotel configures: not recorded"
            );
            continue;
        };
        if !resolved.known {
            unknown_number = true;
            tracing::warn!(
                phone_number_id = %batch.phone_number_id,
                "WhatsApp delivery for an unconfigured number, routed to the default hotel"
            );
        }
        messages.extend(
            batch
                .messages
                .into_iter()
                .map(|m| m.into_guest_message(resolved.tenant.clone(), Channel::WhatsApp)),
        );
        // One record per conversation, its receipts in the order WhatsApp sent them.
        for whatsapp::GuestReceipt { guest, receipt } in batch.receipts {
            let same = |r: &&mut ConversationReceipts| {
                r.tenant_id == resolved.tenant && r.guest_ref == guest
            };
            match receipts.iter_mut().find(same) {
                Some(conversation) => conversation.receipts.push(receipt),
                None => receipts.push(ConversationReceipts {
                    tenant_id: resolved.tenant.clone(),
                    channel: Channel::WhatsApp,
                    guest_ref: guest,
                    receipts: vec![receipt],
                }),
            }
        }
    }
    let accepted = messages.len();
    let origin = Origin::new(peer, &headers);
    record(&rt, &counters.whatsapp, messages, &origin).await?;
    record_receipts(&rt, receipts, &origin).await?;
    count(
        &counters.whatsapp_statuses_ignored,
        delivery.statuses_ignored,
    );
    count(&counters.whatsapp.ignored, delivery.ignored);
    if unknown_number {
        count(&counters.whatsapp_unknown_numbers, 1);
    }
    Ok(Json(json!({
        "accepted": accepted,
        "refused": refused,
        "ignored": delivery.ignored,
        "statuses": delivery.statuses,
    })))
}

fn default_tenant() -> Result<TenantId, ApiError> {
    TenantId::parse(DEFAULT_HOTEL).map_err(|e| ApiError::Internal(e.to_string()))
}
