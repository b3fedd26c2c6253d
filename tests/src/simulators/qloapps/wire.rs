//! The webservice's bytes: the two output formats, the error envelope and the request bodies.
//!
//! QloApps builds its answers by string concatenation in PHP, so the details a client can trip
//! over are reproduced here on purpose: scalars in CDATA, a newline after every tag, `[]` for an
//! empty JSON answer, `\/` in JSON strings, floats printed the PHP way (`220`, not `220.0`, in
//! XML). Request bodies are read the way `json_decode(json_encode(SimpleXMLElement))` reads them,
//! which means a value wrapped in CDATA is *lost* (PHP's SimpleXML drops CDATA nodes unless
//! `LIBXML_NOCDATA` is passed, and QloApps does not pass it).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quick_xml::events::Event;
use serde_json::Value;

/// The output format a request asked for (`WebserviceRequest::getOutputObject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Format {
    Xml,
    Json,
}

impl Format {
    /// Only the exact string `JSON` selects JSON; anything else (`json`, `XML`, garbage) is XML.
    pub(super) fn from_choice(choice: Option<&str>) -> Self {
        if choice == Some("JSON") {
            Self::Json
        } else {
            Self::Xml
        }
    }

    /// PHP appends its `default_charset` to `text/*` types, without a space.
    pub(super) fn content_type(self) -> &'static str {
        match self {
            Self::Xml => "text/xml;charset=UTF-8",
            Self::Json => "application/json",
        }
    }
}

/// A webservice error answer: one status, one or more `(code, message)` pairs.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ApiError {
    pub(super) status: u16,
    pub(super) errors: Vec<(u32, String)>,
}

impl ApiError {
    pub(super) fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            errors: vec![(code, message.into())],
        }
    }

    /// A second error in the same answer (PHP keeps collecting them).
    pub(super) fn and(mut self, code: u32, message: impl Into<String>) -> Self {
        self.errors.push((code, message.into()));
        self
    }

    /// The `bookings` resource's validation failures: HTTP 400 with the internal code 404.
    pub(super) fn booking(message: impl Into<String>) -> Self {
        Self::new(400, 404, message)
    }

    /// `hotel_ari`'s validation failures: HTTP 400, code 85, the message prefixed.
    pub(super) fn ari_validation(detail: &str) -> Self {
        Self::new(400, 85, format!("Validation error: {detail}"))
    }

    /// The body `WebserviceOutputBuilder::getErrors` renders.
    pub(super) fn body(&self, format: Format) -> String {
        match format {
            Format::Xml => {
                let mut out = String::from("<errors>\n");
                for (code, message) in &self.errors {
                    let _ = write!(
                        out,
                        "<error>\n<code>{}</code>\n<message>{}</message>\n</error>\n",
                        cdata(&code.to_string()),
                        cdata(message)
                    );
                }
                out.push_str("</errors>\n");
                xml_document(&out)
            }
            Format::Json => {
                let errors = self
                    .errors
                    .iter()
                    .map(|(code, message)| {
                        Out::map([
                            ("code", Out::Int(i64::from(*code))),
                            ("message", Out::str(message)),
                        ])
                    })
                    .collect();
                Out::map([("errors", Out::List(errors))]).json(false)
            }
        }
    }
}

/// The envelope every XML answer has (`WebserviceOutputXML::overrideContent`).
pub(super) fn xml_document(content: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<qloapps xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n{content}</qloapps>\n"
    )
}

/// A value as QloApps writes it. A literal `]]>` inside would end the section, so it is split
/// (PHP would emit broken XML there; no client depends on that).
pub(super) fn cdata(value: &str) -> String {
    format!("<![CDATA[{}]]>", value.replace("]]>", "]]]]><![CDATA[>"))
}

/// An attribute value, escaped.
pub(super) fn attr(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A PHP value to be answered: what `json_encode` or QloApps' array-to-XML renderer receives.
/// Maps keep their insertion order, like PHP arrays.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Out {
    Int(i64),
    /// A PHP float: JSON prints `220.0`, XML (PHP's string cast) prints `220`.
    Float(f64),
    Str(String),
    List(Vec<Out>),
    Map(Vec<(String, Out)>),
}

impl Out {
    pub(super) fn str(value: &str) -> Self {
        Self::Str(value.to_owned())
    }

    pub(super) fn map<'a>(entries: impl IntoIterator<Item = (&'a str, Out)>) -> Self {
        Self::Map(
            entries
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect(),
        )
    }

    /// PHP's `empty()`: what QloApps' XML renderer turns into `0`.
    fn is_php_empty(&self) -> bool {
        match self {
            Self::Int(n) => *n == 0,
            Self::Float(f) => *f == 0.0,
            Self::Str(s) => s.is_empty() || s == "0",
            Self::List(items) => items.is_empty(),
            Self::Map(entries) => entries.is_empty(),
        }
    }

    /// PHP's string cast of a scalar.
    fn php_string(&self) -> String {
        match self {
            Self::Int(n) => n.to_string(),
            Self::Float(f) => php_float(*f),
            Self::Str(s) => s.clone(),
            Self::List(_) | Self::Map(_) => "Array".to_owned(),
        }
    }

    /// `json_encode`: `/` escaped as `\/`; with `escape_unicode`, non-ASCII as `\uXXXX` (the
    /// `bookings` resource passes no flags; the generic renderer passes
    /// `JSON_UNESCAPED_UNICODE`). An empty array is `[]` whether it was a list or a map.
    pub(super) fn json(&self, escape_unicode: bool) -> String {
        let mut out = String::new();
        self.write_json(&mut out, escape_unicode);
        out
    }

    fn write_json(&self, out: &mut String, escape_unicode: bool) {
        match self {
            Self::Int(n) => out.push_str(&n.to_string()),
            Self::Float(f) => out.push_str(&json_float(*f)),
            Self::Str(s) => out.push_str(&json_string(s, escape_unicode)),
            Self::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out, escape_unicode);
                }
                out.push(']');
            }
            Self::Map(entries) if entries.is_empty() => out.push_str("[]"),
            Self::Map(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&json_string(key, escape_unicode));
                    out.push(':');
                    value.write_json(out, escape_unicode);
                }
                out.push('}');
            }
        }
    }

    /// `WebserviceSpecificManagementBookings::renderXmlOutputUsingArray`: a non-empty array
    /// becomes `<key>…</key>` (list items take the singular of their parent's name), anything
    /// else a CDATA field, and an empty value — `""`, `0`, `[]` — the field `0`.
    pub(super) fn php_array_xml(&self, out: &mut String, parent: &str) {
        let entries: Vec<(String, &Out)> = match self {
            Self::Map(entries) => entries.iter().map(|(k, v)| (k.clone(), v)).collect(),
            Self::List(items) => items
                .iter()
                .map(|item| (singular(parent).to_owned(), item))
                .collect(),
            _ => return,
        };
        for (key, value) in entries {
            let nested = matches!(value, Self::List(_) | Self::Map(_)) && !value.is_php_empty();
            if nested {
                let _ = write!(out, "<{key}>");
                value.php_array_xml(out, &key);
                let _ = write!(out, "</{key}>");
            } else {
                let text = if value.is_php_empty() {
                    "0".to_owned()
                } else {
                    value.php_string()
                };
                let _ = writeln!(out, "<{key}>{}</{key}>", cdata(&text));
            }
        }
    }
}

/// The `$parentKeys` table of the bookings renderer.
fn singular(plural: &str) -> &str {
    match plural {
        "room_types" => "room_type",
        "rooms" => "room",
        "facilities" => "facility",
        "services" => "service",
        "cart_rules" => "cart_rule",
        "remarks" => "remark",
        other => other,
    }
}

/// PHP 8's `(string)` of a float (precision 14): `220.0` → `220`, `24.2` → `24.2`.
pub(super) fn php_float(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    let formatted = format!("{value:.12}");
    let trimmed = formatted.trim_end_matches('0').trim_end_matches('.');
    trimmed.to_owned()
}

/// PHP ≥ 7.1's `json_encode` of a float (`serialize_precision = -1`): `220.0`, `24.2`.
fn json_float(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.1}")
    } else {
        serde_json::to_string(&value).unwrap_or_else(|_| "0".to_owned())
    }
}

fn json_string(value: &str, escape_unicode: bool) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if escape_unicode && !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// PHP truthiness of a decoded request value (`""`, `"0"`, `0`, `[]` and `{}` are false).
pub(super) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty() && s != "0",
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// A scalar as PHP would print it; `None` for arrays (what a lost CDATA value becomes) and null.
pub(super) fn php_str(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(true) => Some("1".to_owned()),
        Value::Bool(false) => Some(String::new()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// PHP's `(int)` cast: leading digits of a string, `0` when there are none.
pub(super) fn php_int(value: &Value) -> i64 {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .unwrap_or(0),
        Value::String(s) => {
            let s = s.trim_start();
            let (sign, digits) = match s.strip_prefix('-') {
                Some(rest) => (-1, rest),
                None => (1, s.strip_prefix('+').unwrap_or(s)),
            };
            let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<i64>().map_or(0, |n| sign * n)
        }
        Value::Bool(b) => i64::from(*b),
        Value::Array(a) => i64::from(!a.is_empty()),
        Value::Object(o) => i64::from(!o.is_empty()),
        Value::Null => 0,
    }
}

/// One element of a request body.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct XmlNode {
    pub(super) name: String,
    /// Character data outside CDATA sections (entity references resolved).
    pub(super) text: String,
    /// Character data inside CDATA sections: SimpleXML's string cast sees it, `json_encode`
    /// does not.
    pub(super) cdata: String,
    pub(super) children: Vec<XmlNode>,
}

impl XmlNode {
    pub(super) fn child(&self, name: &str) -> Option<&XmlNode> {
        self.children.iter().find(|c| c.name == name)
    }

    /// SimpleXML's `(string)` cast.
    pub(super) fn string_value(&self) -> String {
        format!("{}{}", self.text, self.cdata)
    }

    /// What `json_decode(json_encode($element), true)` gives: text-only elements are strings,
    /// elements with children are maps (a repeated name becomes a list), and an element with
    /// neither — `<id/>`, or one whose only content is CDATA — is an empty array.
    pub(super) fn php_value(&self) -> Value {
        if self.children.is_empty() {
            return if self.text.trim().is_empty() {
                Value::Object(serde_json::Map::new())
            } else {
                Value::String(self.text.clone())
            };
        }
        let mut grouped: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        for child in &self.children {
            grouped
                .entry(child.name.as_str())
                .or_default()
                .push(child.php_value());
        }
        let map = grouped
            .into_iter()
            .map(|(name, mut values)| {
                let value = if values.len() == 1 {
                    values.remove(0)
                } else {
                    Value::Array(values)
                };
                (name.to_owned(), value)
            })
            .collect();
        Value::Object(map)
    }

    /// Whether this element or one below it holds a value only inside CDATA (which QloApps loses).
    pub(super) fn has_cdata_only_value(&self) -> bool {
        if self.children.is_empty() {
            return self.text.trim().is_empty() && !self.cdata.trim().is_empty();
        }
        self.children.iter().any(Self::has_cdata_only_value)
    }
}

/// Parses a request body as XML; `None` when it is not well-formed (what `simplexml_load_string`
/// refuses). A leading `xml=` (form posts) is stripped first, as the dispatcher does.
pub(super) fn parse_xml(body: &str) -> Option<XmlNode> {
    let body = body.strip_prefix("xml=").unwrap_or(body);
    let mut reader = quick_xml::Reader::from_str(body);
    let mut stack: Vec<XmlNode> = Vec::new();
    let mut root = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                stack.push(XmlNode {
                    name,
                    ..XmlNode::default()
                });
            }
            Event::Empty(empty) => {
                let node = XmlNode {
                    name: String::from_utf8_lossy(empty.local_name().as_ref()).into_owned(),
                    ..XmlNode::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None if root.is_none() => root = Some(node),
                    None => return None,
                }
            }
            Event::End(_) => {
                let node = stack.pop()?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None if root.is_none() => root = Some(node),
                    None => return None,
                }
            }
            Event::Text(text) => {
                let text = text.decode().ok()?;
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return None,
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().ok()? {
                    Some(c) => c.to_string(),
                    None => match reference.decode().ok()?.as_ref() {
                        "amp" => "&".to_owned(),
                        "lt" => "<".to_owned(),
                        "gt" => ">".to_owned(),
                        "quot" => "\"".to_owned(),
                        "apos" => "'".to_owned(),
                        _ => return None,
                    },
                };
                stack.last_mut()?.text.push_str(&resolved);
            }
            Event::CData(data) => {
                let data = data.decode().ok()?;
                stack.last_mut()?.cdata.push_str(&data);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if stack.is_empty() {
        root
    } else {
        None
    }
}

/// `levenshtein`-closest name, ties going to the later one (`WebserviceRequest::getClosest`).
pub(super) fn closest<'a>(input: &str, words: &[&'a str]) -> &'a str {
    let mut best = ("", usize::MAX);
    for word in words {
        let distance = levenshtein(input, word);
        if distance == 0 {
            return word;
        }
        if distance <= best.1 {
            best = (word, distance);
        }
    }
    best.0
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_floats_print_like_php() {
        assert_eq!(php_float(220.0), "220");
        assert_eq!(php_float(24.2), "24.2");
        assert_eq!(json_float(220.0), "220.0");
        assert_eq!(json_float(0.0), "0.0");
    }

    #[test]
    fn cdata_values_are_lost_like_simplexml_loses_them() {
        let root =
            parse_xml("<qloapps><booking><a>x</a><b><![CDATA[y]]></b><id/></booking></qloapps>")
                .expect("well-formed");
        let booking = root.php_value()["booking"].clone();
        assert_eq!(booking["a"], "x");
        assert_eq!(booking["b"], serde_json::json!({}));
        assert_eq!(booking["id"], serde_json::json!({}));
        assert!(root.has_cdata_only_value());
    }

    #[test]
    fn closest_prefers_the_later_of_equals() {
        assert_eq!(
            closest("booking", &["bookings", "room_bookings"]),
            "bookings"
        );
    }
}
