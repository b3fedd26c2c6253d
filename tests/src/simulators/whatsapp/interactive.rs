//! `type: interactive` sends: reply buttons and list messages, held to WhatsApp's limits.
//!
//! The limits are the ones in `channel-platforms.md`, which Meta enforces on the send (not on
//! the phone): a message that breaks one is refused whole with 131009 and
//! `error_data.details` naming the field, so a bot that builds an over-long title finds out in
//! a test rather than from a guest who never got the question. Lengths count characters
//! (Unicode scalar values), not bytes. The `details` wording follows Meta's ("Button title
//! length invalid. Min length: 1, Max length: 20"); where Meta's exact words are not known the
//! text is ours, in the same style.

use std::collections::HashSet;

use serde_json::Value;

use super::errors::Refusal;

const BODY_MAX: usize = 1024;
const HEADER_FOOTER_MAX: usize = 60;
const BUTTONS_MAX: usize = 3;
const BUTTON_TITLE_MAX: usize = 20;
const BUTTON_ID_MAX: usize = 256;
const LIST_BUTTON_MAX: usize = 20;
const SECTIONS_MAX: usize = 10;
const SECTION_TITLE_MAX: usize = 24;
const ROWS_MAX: usize = 10;
const ROW_ID_MAX: usize = 200;
const ROW_TITLE_MAX: usize = 24;
const ROW_DESCRIPTION_MAX: usize = 72;

/// Checks an `interactive` object; `Ok` is what the guest reads first (the body text).
pub(super) fn check(interactive: &Value) -> Result<String, Refusal> {
    let kind = interactive["type"]
        .as_str()
        .ok_or_else(|| Refusal::required("interactive['type']"))?;
    let body = check_frame(interactive)?;
    match kind {
        "button" => check_buttons(&interactive["action"])?,
        "list" => check_list(&interactive["action"])?,
        other => {
            return Err(Refusal::invalid_parameter(&format!(
                "Param interactive['type'] must be one of {{BUTTON, LIST}} in this simulator, \
                 not {other}"
            )))
        }
    }
    Ok(body)
}

/// The body (required), header and footer (optional) both kinds share; returns the body text.
fn check_frame(interactive: &Value) -> Result<String, Refusal> {
    let body = interactive["body"]["text"]
        .as_str()
        .ok_or_else(|| Refusal::required("interactive['body']['text']"))?;
    within("Body text", body, 1, BODY_MAX)?;
    // Only a text header has a length; media headers are passed through.
    if interactive["header"]["type"] == "text" {
        let header = interactive["header"]["text"].as_str().unwrap_or_default();
        within("Header text", header, 1, HEADER_FOOTER_MAX)?;
    }
    if let Some(footer) = interactive.get("footer") {
        let footer = footer["text"].as_str().unwrap_or_default();
        within("Footer text", footer, 1, HEADER_FOOTER_MAX)?;
    }
    Ok(body.to_owned())
}

/// 1–3 reply buttons with unique titles ≤ 20 and unique ids ≤ 256.
fn check_buttons(action: &Value) -> Result<(), Refusal> {
    let buttons = action["buttons"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if buttons.is_empty() || buttons.len() > BUTTONS_MAX {
        return Err(Refusal::parameter_value(format!(
            "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: {BUTTONS_MAX}"
        )));
    }
    let mut titles = HashSet::new();
    let mut ids = HashSet::new();
    for button in buttons {
        if button["type"] != "reply" {
            return Err(Refusal::parameter_value(
                "Invalid button type. Allowed button types: reply",
            ));
        }
        let title = button["reply"]["title"].as_str().unwrap_or_default();
        let id = button["reply"]["id"].as_str().unwrap_or_default();
        within("Button title", title, 1, BUTTON_TITLE_MAX)?;
        within("Button id", id, 1, BUTTON_ID_MAX)?;
        unique("Button title", title, &mut titles)?;
        unique("Button id", id, &mut ids)?;
    }
    Ok(())
}

/// A menu button ≤ 20, 1–10 sections (titled when more than one), 1–10 rows in all.
fn check_list(action: &Value) -> Result<(), Refusal> {
    let button = action["button"].as_str().unwrap_or_default();
    within("Button label (action.button)", button, 1, LIST_BUTTON_MAX)?;
    let sections = action["sections"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if sections.is_empty() || sections.len() > SECTIONS_MAX {
        return Err(Refusal::parameter_value(format!(
            "Invalid sections count. Min allowed sections: 1, Max allowed sections: \
             {SECTIONS_MAX}"
        )));
    }
    let rows: usize = sections
        .iter()
        .map(|s| s["rows"].as_array().map_or(0, Vec::len))
        .sum();
    if rows == 0 || rows > ROWS_MAX {
        return Err(Refusal::parameter_value(format!(
            "Invalid rows count. Total row count must be between 1 and {ROWS_MAX}, got {rows}"
        )));
    }
    let mut ids = HashSet::new();
    for section in sections {
        check_section(section, sections.len() > 1, &mut ids)?;
    }
    Ok(())
}

/// One section: its title (required when the list has several) and its rows; row ids are
/// unique across the whole list, so `ids` is shared between sections.
fn check_section<'a>(
    section: &'a Value,
    several: bool,
    ids: &mut HashSet<&'a str>,
) -> Result<(), Refusal> {
    match section["title"].as_str() {
        Some(title) => within("Section title", title, 1, SECTION_TITLE_MAX)?,
        None if several => {
            return Err(Refusal::parameter_value(
                "Section title is required when a list has more than one section",
            ))
        }
        None => {}
    }
    for row in section["rows"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let id = row["id"].as_str().unwrap_or_default();
        within("Row id", id, 1, ROW_ID_MAX)?;
        within(
            "Row title",
            row["title"].as_str().unwrap_or_default(),
            1,
            ROW_TITLE_MAX,
        )?;
        if let Some(description) = row.get("description") {
            let description = description.as_str().unwrap_or_default();
            within("Row description", description, 0, ROW_DESCRIPTION_MAX)?;
        }
        unique("Row id", id, ids)?;
    }
    Ok(())
}

/// `Ok` when `value` has `min..=max` characters; otherwise Meta's "<field> length invalid".
fn within(field: &str, value: &str, min: usize, max: usize) -> Result<(), Refusal> {
    let length = value.chars().count();
    if (min..=max).contains(&length) {
        return Ok(());
    }
    Err(Refusal::parameter_value(format!(
        "{field} length invalid. Min length: {min}, Max length: {max}"
    )))
}

/// `Ok` the first time `value` is seen in `seen`; a repeat is refused naming the field.
fn unique<'a>(field: &str, value: &'a str, seen: &mut HashSet<&'a str>) -> Result<(), Refusal> {
    if seen.insert(value) {
        return Ok(());
    }
    Err(Refusal::parameter_value(format!(
        "{field} must be unique within the message; duplicate: {value}"
    )))
}
