//! `reply_markup` as Telegram reads it: an object or the same object serialised into a string,
//! with inline keyboard buttons checked the way the Bot API checks them.
//!
//! The point is to fail in tests where Telegram would fail in production: a `callback_data` of 65
//! bytes passes every unit test and is refused by the real server (the limit is in bytes, so 33
//! `ñ` are too many). Wordings are those Telegram is seen answering in public bug reports:
//! `BUTTON_DATA_INVALID`, "Text buttons are unallowed…", `Field "text" must be of type String`,
//! "reply markup is too long". `BUTTON_TEXT_INVALID` for an empty label is MTProto's error as the
//! Bot API relays it; it is the least attested of them.

use serde_json::{Map, Value};

const CANT_PARSE_MARKUP: &str = "Bad Request: can't parse reply keyboard markup JSON object";
const BUTTON_NOT_OBJECT: &str =
    "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object";
const NO_TEXT_FIELD: &str =
    "Bad Request: can't parse inline keyboard button: Can't find field \"text\"";
const TEXT_NOT_STRING: &str =
    "Bad Request: can't parse inline keyboard button: Field \"text\" must be of type String";
const DATA_NOT_STRING: &str =
    "Bad Request: can't parse inline keyboard button: Field \"callback_data\" must be of type String";
const TEXT_BUTTONS_UNALLOWED: &str =
    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";
const BUTTON_TEXT_INVALID: &str = "Bad Request: BUTTON_TEXT_INVALID";
const BUTTON_DATA_INVALID: &str = "Bad Request: BUTTON_DATA_INVALID";
const MARKUP_TOO_LONG: &str = "Bad Request: reply markup is too long";

/// `callback_data` is 1–64 bytes (UTF-8), not characters.
const MAX_CALLBACK_DATA_BYTES: usize = 64;
/// Telegram's ceiling on the buttons of one inline keyboard.
const MAX_BUTTONS: usize = 100;
/// The fields that give an inline button something to do besides `callback_data`; a button needs
/// exactly one action.
const OTHER_ACTIONS: [&str; 9] = [
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
];
/// The markup kinds other than an inline keyboard, accepted without further checks.
const OTHER_MARKUPS: [&str; 3] = ["keyboard", "remove_keyboard", "force_reply"];

/// A request's checked `reply_markup`: `Ok(None)` when there is none, the description of
/// Telegram's 400 when it is malformed.
pub(super) fn reply_markup(raw: &Value) -> Result<Option<Value>, &'static str> {
    let markup = match raw {
        Value::Null => return Ok(None),
        Value::String(text) if text.trim().is_empty() => return Ok(None),
        Value::String(text) => serde_json::from_str(text).map_err(|_| CANT_PARSE_MARKUP)?,
        other => other.clone(),
    };
    let Value::Object(fields) = &markup else {
        return Err(CANT_PARSE_MARKUP);
    };
    match fields.get("inline_keyboard") {
        Some(rows) => check_inline_keyboard(rows)?,
        None if OTHER_MARKUPS.iter().any(|kind| fields.contains_key(*kind)) => {}
        None => return Err(CANT_PARSE_MARKUP),
    }
    Ok(Some(markup))
}

/// The inline keyboard a message shows with `markup`, as `Message.reply_markup` carries it:
/// only inline keyboards are shown there, and one without buttons is no keyboard.
pub(super) fn shown_keyboard(markup: Option<&Value>) -> Option<Value> {
    let markup = markup?;
    let rows = markup.get("inline_keyboard")?.as_array()?;
    let has_buttons = rows
        .iter()
        .any(|row| row.as_array().is_some_and(|r| !r.is_empty()));
    has_buttons.then(|| markup.clone())
}

/// The `reply_markup` of an edit: edits take only inline keyboards. (Telegram's wording for a
/// reply keyboard here is not attested; this is its generic markup refusal.)
pub(super) fn edit_markup(raw: &Value) -> Result<Option<Value>, &'static str> {
    match reply_markup(raw)? {
        Some(markup) if markup.get("inline_keyboard").is_none() => Err(CANT_PARSE_MARKUP),
        markup => Ok(markup),
    }
}

fn check_inline_keyboard(rows: &Value) -> Result<(), &'static str> {
    let rows = rows.as_array().ok_or(CANT_PARSE_MARKUP)?;
    let mut buttons = 0;
    for row in rows {
        let row = row.as_array().ok_or(CANT_PARSE_MARKUP)?;
        buttons += row.len();
        if buttons > MAX_BUTTONS {
            return Err(MARKUP_TOO_LONG);
        }
        row.iter().try_for_each(check_button)?;
    }
    Ok(())
}

fn check_button(button: &Value) -> Result<(), &'static str> {
    let Value::Object(fields) = button else {
        return Err(BUTTON_NOT_OBJECT);
    };
    match fields.get("text") {
        None => return Err(NO_TEXT_FIELD),
        Some(Value::String(text)) if text.trim().is_empty() => return Err(BUTTON_TEXT_INVALID),
        Some(Value::String(_)) => {}
        Some(_) => return Err(TEXT_NOT_STRING),
    }
    if has_callback_data(fields)? {
        return Ok(());
    }
    if OTHER_ACTIONS
        .iter()
        .any(|action| fields.contains_key(*action))
    {
        Ok(())
    } else {
        Err(TEXT_BUTTONS_UNALLOWED)
    }
}

/// Whether the button carries `callback_data`. An empty string counts as absent, as it does for
/// Telegram (which then says the button is a bare text button).
fn has_callback_data(fields: &Map<String, Value>) -> Result<bool, &'static str> {
    match fields.get("callback_data") {
        None => Ok(false),
        Some(Value::String(data)) if data.len() > MAX_CALLBACK_DATA_BYTES => {
            Err(BUTTON_DATA_INVALID)
        }
        Some(Value::String(data)) => Ok(!data.is_empty()),
        Some(_) => Err(DATA_NOT_STRING),
    }
}
