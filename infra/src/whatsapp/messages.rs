//! The message objects of a Cloud API send (`type` and the object of that type): free text,
//! reply buttons or a list when the reply offers choices, and templates.
//!
//! Whether choices go as buttons, as a list or not at all is decided by
//! [`whatsapp_layout`] against WhatsApp's limits, so a reply never breaks one and is refused
//! whole (131009) — it goes as text instead, and its words still ask the question.

use conserje_domain::channel::OutboundReply;
use conserje_domain::choice::{whatsapp_layout, Choices, WhatsAppLayout};
use conserje_domain::template::TemplateMessage;
use serde_json::{json, Value};

/// The message of `reply`: interactive when its choices fit, else text.
pub(super) fn reply(reply: &OutboundReply) -> Value {
    if let Some(choices) = &reply.choices {
        match whatsapp_layout(&reply.text, &choices.buttons, &choices.menu) {
            WhatsAppLayout::Buttons => return buttons(&reply.text, choices),
            WhatsAppLayout::List { button } => return list(&reply.text, choices, &button),
            WhatsAppLayout::Text { why } => {
                tracing::warn!(reply_id = %reply.reply_id, why, "choices sent as text");
            }
        }
    }
    text(&reply.text)
}

fn text(body: &str) -> Value {
    json!({
        "type": "text",
        "text": { "preview_url": false, "body": body },
    })
}

fn buttons(body: &str, choices: &Choices) -> Value {
    let buttons: Vec<Value> = choices
        .buttons
        .iter()
        .map(|b| json!({ "type": "reply", "reply": { "id": b.choice.id(), "title": b.title } }))
        .collect();
    json!({
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": { "text": body },
            "action": { "buttons": buttons },
        },
    })
}

fn list(body: &str, choices: &Choices, button: &str) -> Value {
    let rows: Vec<Value> = choices
        .buttons
        .iter()
        .map(|b| {
            let mut row = json!({ "id": b.choice.id(), "title": b.title });
            if let Some(description) = &b.description {
                row["description"] = json!(description);
            }
            row
        })
        .collect();
    json!({
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": { "text": body },
            "action": { "button": button, "sections": [{ "rows": rows }] },
        },
    })
}

/// The `template` object of a send: name, language, and the body's parameters in order.
pub(super) fn template(template: &TemplateMessage) -> Value {
    let mut object = json!({
        "name": template.name.as_str(),
        "language": { "code": template.language },
    });
    if !template.parameters.is_empty() {
        let parameters: Vec<_> = template
            .parameters
            .iter()
            .map(|text| json!({ "type": "text", "text": text }))
            .collect();
        object["components"] = json!([{ "type": "body", "parameters": parameters }]);
    }
    json!({ "type": "template", "template": object })
}

#[cfg(test)]
mod tests {
    use super::*;
    use conserje_domain::choice::{Button, Choice};
    use conserje_domain::understanding::Language;
    use conserje_domain::values::Channel;
    use conserje_domain::values::{GuestRef, TenantId};

    fn offering(buttons: Vec<Button>) -> OutboundReply {
        OutboundReply {
            reply_id: uuid::Uuid::from_u128(1),
            tenant_id: TenantId::parse("default").unwrap(),
            channel: Channel::WhatsApp,
            guest_ref: GuestRef::parse("34600111222").unwrap(),
            text: "¿Qué habitación prefieres?".into(),
            language: Language::Es,
            message_template: None,
            choices: Some(Choices {
                menu: "Ver habitaciones".into(),
                buttons,
            }),
            proactive: None,
        }
    }

    fn button(choice: Choice, title: &str) -> Button {
        Button {
            choice,
            title: title.into(),
            description: Some("120,00 EUR/noche".into()),
        }
    }

    #[test]
    fn three_choices_go_as_reply_buttons_with_our_ids() {
        let message = reply(&offering(vec![
            button(Choice::BookIt, "Reservar"),
            button(Choice::OtherRooms, "Otras habitaciones"),
            button(Choice::TalkToStaff, "Hablar con recepción"),
        ]));
        assert_eq!(message["interactive"]["type"], "button");
        let ids: Vec<&str> = message["interactive"]["action"]["buttons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["reply"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["book", "other_rooms", "staff"]);
    }

    #[test]
    fn four_rooms_go_as_a_list_with_their_prices() {
        let rooms = ["standard", "double", "king", "suite"]
            .iter()
            .map(|code| button(Choice::Room((*code).into()), code))
            .collect();
        let message = reply(&offering(rooms));
        assert_eq!(message["interactive"]["type"], "list");
        let action = &message["interactive"]["action"];
        assert_eq!(action["button"], "Ver habitaciones");
        let rows = action["sections"][0]["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[1]["id"], "room:double");
        assert_eq!(rows[1]["description"], "120,00 EUR/noche");
    }

    #[test]
    fn choices_that_break_a_limit_go_as_plain_text() {
        let rooms = (0..11)
            .map(|n| button(Choice::Room(format!("r{n}")), &format!("Room {n}")))
            .collect();
        let message = reply(&offering(rooms));
        assert_eq!(message["type"], "text");
        assert_eq!(message["text"]["body"], "¿Qué habitación prefieres?");
    }
}
