//! The message kinds `POST /{version}/{phone_number_id}/messages` accepts, each checked the way
//! the Cloud API checks it and rendered as one readable line for `SentMessage::text`.
//!
//! The rendering is what a test compares, so it is stable: a text is its body; a template is
//! `template:<name>:<lang>:<param1>|<param2>…`; an interactive message is its body text; media
//! is `<type>:<id or link>` (`:<caption>` when there is one); a reaction is
//! `reaction:<emoji>:<wamid>`; a location `location:<latitude>,<longitude>`.

use std::collections::HashMap;

use serde_json::Value;

use super::errors::Refusal;
use super::interactive;

/// Text bodies Meta accepts.
const TEXT_MAX: usize = 4096;

/// Approved templates: `(name, language code)` → how many body parameters they take.
pub(super) type Templates = HashMap<(String, String), usize>;

/// A send that passed its checks.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Checked {
    /// What `SentMessage::text` shows.
    pub(super) text: String,
    /// Whether the 24-hour window applies (everything but templates).
    pub(super) free_form: bool,
}

impl Checked {
    fn free_form(text: String) -> Self {
        Self {
            text,
            free_form: true,
        }
    }
}

/// Checks `body` by its `type`; `Err` is the Graph error Meta would answer.
pub(super) fn check(body: &Value, templates: &Templates) -> Result<Checked, Refusal> {
    let kind = body["type"].as_str().unwrap_or("text");
    match kind {
        "text" => text(&body["text"]).map(Checked::free_form),
        "template" => template(&body["template"], templates).map(|text| Checked {
            text,
            free_form: false,
        }),
        "interactive" => interactive::check(&body["interactive"]).map(Checked::free_form),
        "image" | "audio" | "video" | "document" | "sticker" => {
            media(kind, &body[kind]).map(Checked::free_form)
        }
        "reaction" => reaction(&body["reaction"]).map(Checked::free_form),
        "location" => location(&body["location"]).map(Checked::free_form),
        _ => Err(Refusal::invalid_parameter(
            "Param type must be one of {TEXT, TEMPLATE, INTERACTIVE, IMAGE, AUDIO, VIDEO, \
             DOCUMENT, STICKER, REACTION, LOCATION} in this simulator",
        )),
    }
}

fn text(text: &Value) -> Result<String, Refusal> {
    let body = text["body"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Refusal::required("text['body']"))?;
    if body.chars().count() > TEXT_MAX {
        return Err(Refusal::invalid_parameter(&format!(
            "Param text['body'] must be at most {TEXT_MAX} characters long."
        )));
    }
    Ok(body.to_owned())
}

/// A template is sent by `(name, language)`; its body parameters must fill its placeholders
/// exactly (a template without a `body` component sends none).
fn template(template: &Value, templates: &Templates) -> Result<String, Refusal> {
    let name = template["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Refusal::required("template['name']"))?;
    let language = template["language"]["code"]
        .as_str()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Refusal::required("template['language']['code']"))?;
    let expected = templates
        .get(&(name.to_owned(), language.to_owned()))
        .copied()
        .ok_or_else(|| Refusal::template_missing(name, language))?;
    let parameters = body_parameters(template);
    if parameters.len() != expected {
        return Err(Refusal::parameter_count(parameters.len(), expected));
    }
    let rendered: Vec<String> = parameters.into_iter().map(parameter_text).collect();
    Ok(format!("template:{name}:{language}:{}", rendered.join("|")))
}

/// The parameters of every `body` component, in order.
fn body_parameters(template: &Value) -> Vec<&Value> {
    template["components"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter(|c| {
            c["type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("body"))
        })
        .flat_map(|c| c["parameters"].as_array().map(Vec::as_slice).unwrap_or(&[]))
        .collect()
}

/// A parameter as the guest reads it: its text, or the fallback of a currency or date.
fn parameter_text(parameter: &Value) -> String {
    if let Some(text) = parameter["text"].as_str() {
        return text.to_owned();
    }
    let kind = parameter["type"].as_str().unwrap_or_default();
    match parameter[kind]["fallback_value"].as_str() {
        Some(fallback) => fallback.to_owned(),
        None => parameter.to_string(),
    }
}

/// Media by uploaded `id` or public `link`, with an optional caption.
fn media(kind: &str, media: &Value) -> Result<String, Refusal> {
    let source = media["id"]
        .as_str()
        .or_else(|| media["link"].as_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Refusal::required(&format!("{kind}['id'] or {kind}['link']")))?;
    Ok(match media["caption"].as_str() {
        Some(caption) => format!("{kind}:{source}:{caption}"),
        None => format!("{kind}:{source}"),
    })
}

fn reaction(reaction: &Value) -> Result<String, Refusal> {
    let message_id = reaction["message_id"]
        .as_str()
        .ok_or_else(|| Refusal::required("reaction['message_id']"))?;
    // An empty emoji removes a reaction; Meta accepts it.
    let emoji = reaction["emoji"]
        .as_str()
        .ok_or_else(|| Refusal::required("reaction['emoji']"))?;
    Ok(format!("reaction:{emoji}:{message_id}"))
}

fn location(location: &Value) -> Result<String, Refusal> {
    let coordinate = |what: &str| {
        location[what]
            .as_f64()
            .or_else(|| location[what].as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| Refusal::required(&format!("location['{what}']")))
    };
    let latitude = coordinate("latitude")?;
    let longitude = coordinate("longitude")?;
    Ok(format!("location:{latitude},{longitude}"))
}
