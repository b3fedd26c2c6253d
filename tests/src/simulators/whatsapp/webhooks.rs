//! The webhooks Meta posts: guests' messages (built for tests to post to conserje) and the
//! delivery statuses of the hotel's own messages (posted by the simulator itself), signed the
//! way Meta signs them.
//!
//! Both share Meta's envelope, `{"object":"whatsapp_business_account","entry":[{"id",
//! "changes":[{"value":{"messaging_product","metadata":{"display_phone_number",
//! "phone_number_id"},…},"field":"messages"}]}]}`, and carry the same business account and
//! display number as the suites' own builders in `channels.rs`, so a delivery from either looks
//! like it came from one account.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::channels::sign_whatsapp;

/// The WhatsApp Business Account every delivery comes from.
pub(crate) const WABA_ID: &str = "102290129340398";
/// The business number's display form (what a reply's `context.from` names).
pub(crate) const DISPLAY_PHONE_NUMBER: &str = "15550783881";
/// The header Meta signs deliveries with.
const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// Meta's envelope around the `value`s of one delivery, one change each.
pub(crate) fn envelope(values: Vec<Value>) -> Value {
    let changes: Vec<Value> = values
        .into_iter()
        .map(|value| json!({ "value": value, "field": "messages" }))
        .collect();
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": WABA_ID, "changes": changes }],
    })
}

/// The start of every `value`: the product and the business number it concerns.
pub(crate) fn value_for(phone_number_id: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "phone_number_id": phone_number_id,
        },
    })
}

/// A guest's message, as conserje's webhook receives it.
pub(super) struct Inbound<'a> {
    pub(super) phone_number_id: &'a str,
    pub(super) wa_id: &'a str,
    pub(super) name: &'a str,
    pub(super) wamid: &'a str,
    /// Unix seconds.
    pub(super) timestamp: i64,
    /// The message's own fields: `type` and its object, and `context` for a reply.
    pub(super) content: Value,
}

/// The delivery of one guest message, as the raw bytes that are signed and posted.
pub(super) fn inbound_delivery(message: Inbound<'_>) -> Vec<u8> {
    let mut fields = json!({
        "from": message.wa_id,
        "id": message.wamid,
        "timestamp": message.timestamp.to_string(),
    });
    if let (Some(fields), Value::Object(content)) = (fields.as_object_mut(), message.content) {
        fields.extend(content);
    }
    let mut value = value_for(message.phone_number_id);
    value["contacts"] = json!([{ "profile": { "name": message.name }, "wa_id": message.wa_id }]);
    value["messages"] = json!([fields]);
    envelope(vec![value]).to_string().into_bytes()
}

/// One delivery status of a message the simulator accepted.
#[derive(Debug, Clone)]
pub(super) struct StatusUpdate {
    pub(super) wamid: String,
    pub(super) status: String,
    pub(super) recipient_id: String,
    pub(super) phone_number_id: String,
    /// `service` for free-form messages, `utility` for templates (what Meta bills).
    pub(super) category: &'static str,
    /// `Some` adds Meta's `errors[]` with this code.
    pub(super) error_code: Option<u32>,
    /// Unix seconds.
    pub(super) timestamp: i64,
}

impl StatusUpdate {
    fn to_json(&self) -> Value {
        let mut status = json!({
            "id": self.wamid,
            "status": self.status,
            "timestamp": self.timestamp.to_string(),
            "recipient_id": self.recipient_id,
        });
        match self.error_code {
            Some(code) => status["errors"] = json!([super::errors::status_error(code)]),
            None => {
                status["conversation"] = json!({
                    "id": format!("CONVERSATION_{}", self.recipient_id),
                    "origin": { "type": self.category },
                });
                status["pricing"] = json!({
                    "billable": true,
                    "pricing_model": "PMP",
                    "category": self.category,
                });
            }
        }
        status
    }
}

/// One delivery carrying `updates` in the order given; consecutive updates of one business
/// number share a change, as Meta batches them.
pub(super) fn status_delivery(updates: &[StatusUpdate]) -> Vec<u8> {
    let mut values: Vec<(String, Vec<Value>)> = Vec::new();
    for update in updates {
        match values.last_mut() {
            Some((number, statuses)) if *number == update.phone_number_id => {
                statuses.push(update.to_json());
            }
            _ => values.push((update.phone_number_id.clone(), vec![update.to_json()])),
        }
    }
    let values = values
        .into_iter()
        .map(|(number, statuses)| {
            let mut value = value_for(&number);
            value["statuses"] = Value::Array(statuses);
            value
        })
        .collect();
    envelope(values).to_string().into_bytes()
}

/// Where status webhooks go, and the app secret they are signed with.
#[derive(Debug, Clone)]
pub(super) struct StatusTarget {
    pub(super) url: String,
    pub(super) app_secret: String,
    pub(super) client: reqwest::Client,
}

impl StatusTarget {
    /// Posts `body` signed; the answer's status, or the transport error.
    pub(super) async fn deliver(&self, body: Vec<u8>) -> Result<StatusCode, reqwest::Error> {
        let signature = sign_whatsapp(&self.app_secret, &body);
        let response = self
            .client
            .post(&self.url)
            .header(SIGNATURE_HEADER, signature)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        Ok(response.status())
    }
}
