//! WhatsApp message templates: the only messages WhatsApp delivers once a guest's 24-hour
//! customer-service window has closed.
//!
//! A hotel registers the templates Meta approved for its number in its configuration: the name,
//! the languages it was approved in, its category, and what fills each body placeholder
//! (`{{1}}`, `{{2}}`…). Each use conserje makes of templates names a [`TemplatePurpose`], so a
//! reply that would be refused (error 131047) goes as the hotel's `reply` template instead of
//! being lost. "Message template" is Meta's word; the bot's own wording (the reply book) is a
//! different thing and keeps the plain word "template" in `Reply::template`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::understanding::{Language, Locale};

/// Meta's name of an approved template: lowercase letters, digits and `_`, at most 512.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TemplateName(String);

/// Meta's limit on a template's name.
pub const MAX_TEMPLATE_NAME: usize = 512;

/// The longest text Meta takes in one body parameter.
pub const MAX_PARAMETER_CHARS: usize = 1024;

impl TemplateName {
    pub fn parse(raw: &str) -> Result<Self, TemplateError> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_TEMPLATE_NAME
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(TemplateError::InvalidName(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TemplateName {
    type Error = TemplateError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<TemplateName> for String {
    fn from(name: TemplateName) -> Self {
        name.0
    }
}

impl fmt::Display for TemplateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Meta's category of a template (what it is billed and reviewed as).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateCategory {
    #[default]
    Utility,
    Marketing,
    Authentication,
}

/// What conserje sends a template for. One template per purpose per hotel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplatePurpose {
    /// Any reply (the bot's or staff's) that must reach a guest whose window has closed: the
    /// fallback of a send WhatsApp refused with 131047.
    Reply,
    /// A booking made outside a conversation, confirmed to the guest (see `crate::proactive`).
    Confirmation,
    /// The note N days before check-in.
    PreArrival,
    /// The review request the day after check-out.
    ReviewRequest,
    /// Staff or the PMS changed or cancelled the booking.
    BookingUpdate,
}

impl TemplatePurpose {
    /// The fields a template of this purpose can be filled with: every purpose carries the
    /// message's own words (`reply`, with the dates and reference in them), so a hotel registers
    /// one template body per purpose and rewords the message in its reply book.
    pub fn fields(self) -> &'static [TemplateField] {
        &[
            TemplateField::GuestName,
            TemplateField::HotelName,
            TemplateField::Reply,
        ]
    }
}

/// What fills one body placeholder of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateField {
    /// The name the guest's WhatsApp profile gives.
    GuestName,
    /// The hotel's name as guests know it.
    HotelName,
    /// The words of the reply the template carries, on one line.
    Reply,
}

impl TemplateField {
    pub fn name(self) -> &'static str {
        match self {
            Self::GuestName => "guest_name",
            Self::HotelName => "hotel_name",
            Self::Reply => "reply",
        }
    }
}

/// One template the hotel had approved, as its configuration registers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplate {
    pub name: TemplateName,
    /// What conserje uses it for; a template with no purpose is only sent when staff name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<TemplatePurpose>,
    #[serde(default)]
    pub category: TemplateCategory,
    /// Meta's codes of the languages it was approved in (`es`, `en_US`, `pt_BR`…).
    pub languages: Vec<String>,
    /// What fills `{{1}}`, `{{2}}`… of its body, in order.
    #[serde(default)]
    pub parameters: Vec<TemplateField>,
}

/// The values a template may be filled with, as far as the sender knows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateValues {
    pub guest_name: Option<String>,
    pub hotel_name: Option<String>,
    pub reply: Option<String>,
}

impl TemplateValues {
    fn get(&self, field: TemplateField) -> Option<&str> {
        match field {
            TemplateField::GuestName => self.guest_name.as_deref(),
            TemplateField::HotelName => self.hotel_name.as_deref(),
            TemplateField::Reply => self.reply.as_deref(),
        }
        .filter(|v| !v.trim().is_empty())
    }
}

/// A template ready to send: its name, the language chosen, and the text of each parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateMessage {
    pub name: TemplateName,
    /// Meta's language code, as registered.
    pub language: String,
    pub parameters: Vec<String>,
}

/// Which template went, as a delivery records it (the parameters hold the guest's name and the
/// reply, which the event of the reply already holds; they are not copied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateUse {
    pub name: TemplateName,
    pub language: String,
}

impl From<&TemplateMessage> for TemplateUse {
    fn from(message: &TemplateMessage) -> Self {
        Self {
            name: message.name.clone(),
            language: message.language.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "{0:?} is not a WhatsApp template name (lowercase letters, digits and _, at most 512)"
    )]
    InvalidName(String),
    #[error("template {0} names no language: list the codes Meta approved it in (es, en_US…)")]
    NoLanguage(TemplateName),
    #[error("template {0} is registered twice")]
    Duplicate(TemplateName),
    #[error("templates {0} and {1} both have purpose {2:?}: one template per purpose")]
    SamePurpose(TemplateName, TemplateName, TemplatePurpose),
    #[error("template {template} is for {purpose:?}, which has no {field} to fill it with")]
    FieldNotAvailable {
        template: TemplateName,
        purpose: TemplatePurpose,
        field: &'static str,
    },
    #[error("template {template} needs the {field}, which this conversation does not have")]
    MissingValue {
        template: TemplateName,
        field: &'static str,
    },
}

impl MessageTemplate {
    /// The language to send in for a guest writing `locale`: the registered code of that
    /// variant (`pt_PT`), else of its language (`pt_BR` for any Portuguese), else the first one
    /// registered — a template in another language reaches the guest, none does not.
    pub fn language_for(&self, locale: Locale) -> Option<&str> {
        let exact = self
            .languages
            .iter()
            .find(|code| Locale::parse(code) == Some(locale) && code.contains(['_', '-']));
        let same_language = || {
            self.languages
                .iter()
                .find(|code| language_of(code) == Some(locale.language()))
        };
        exact
            .or_else(same_language)
            .or(self.languages.first())
            .map(String::as_str)
    }

    /// The template filled for a guest writing `locale`. Meta refuses parameters with line
    /// breaks, tabs or runs of spaces, and longer than 1,024 characters: each value is put on
    /// one line and cut.
    pub fn fill(
        &self,
        locale: Locale,
        values: &TemplateValues,
    ) -> Result<TemplateMessage, TemplateError> {
        let language = self
            .language_for(locale)
            .ok_or_else(|| TemplateError::NoLanguage(self.name.clone()))?;
        let parameters = self
            .parameters
            .iter()
            .map(|field| {
                values
                    .get(*field)
                    .map(one_line)
                    .ok_or_else(|| TemplateError::MissingValue {
                        template: self.name.clone(),
                        field: field.name(),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(TemplateMessage {
            name: self.name.clone(),
            language: language.to_owned(),
            parameters,
        })
    }
}

fn language_of(code: &str) -> Option<Language> {
    let prefix = code.split(['_', '-']).next().unwrap_or(code);
    Language::parse(prefix)
}

/// `text` on one line with single spaces, cut to [`MAX_PARAMETER_CHARS`] (with an ellipsis).
fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= MAX_PARAMETER_CHARS {
        return joined;
    }
    let mut cut: String = joined.chars().take(MAX_PARAMETER_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// A hotel's approved templates, checked as they are read (a configuration naming a template
/// twice, or two for one purpose, does not load).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<MessageTemplate>", into = "Vec<MessageTemplate>")]
pub struct TemplateRegistry(Vec<MessageTemplate>);

impl TryFrom<Vec<MessageTemplate>> for TemplateRegistry {
    type Error = TemplateError;

    fn try_from(templates: Vec<MessageTemplate>) -> Result<Self, Self::Error> {
        Self::new(templates)
    }
}

impl From<TemplateRegistry> for Vec<MessageTemplate> {
    fn from(registry: TemplateRegistry) -> Self {
        registry.0
    }
}

impl TemplateRegistry {
    /// The registry of `templates`, refused when a name is doubled, a template has no language,
    /// two share a purpose, or a parameter names a field its purpose cannot fill.
    pub fn new(templates: Vec<MessageTemplate>) -> Result<Self, TemplateError> {
        for (i, template) in templates.iter().enumerate() {
            if template.languages.iter().all(|l| l.trim().is_empty()) {
                return Err(TemplateError::NoLanguage(template.name.clone()));
            }
            if let Some(purpose) = template.purpose {
                let fields = purpose.fields();
                if let Some(field) = template.parameters.iter().find(|f| !fields.contains(f)) {
                    return Err(TemplateError::FieldNotAvailable {
                        template: template.name.clone(),
                        purpose,
                        field: field.name(),
                    });
                }
            }
            for earlier in &templates[..i] {
                if earlier.name == template.name {
                    return Err(TemplateError::Duplicate(template.name.clone()));
                }
                if let (Some(a), Some(b)) = (earlier.purpose, template.purpose) {
                    if a == b {
                        return Err(TemplateError::SamePurpose(
                            earlier.name.clone(),
                            template.name.clone(),
                            a,
                        ));
                    }
                }
            }
        }
        Ok(Self(templates))
    }

    /// Every template registered.
    pub fn iter(&self) -> impl Iterator<Item = &MessageTemplate> {
        self.0.iter()
    }

    /// The template registered for `purpose`.
    pub fn for_purpose(&self, purpose: TemplatePurpose) -> Option<&MessageTemplate> {
        self.0.iter().find(|t| t.purpose == Some(purpose))
    }

    /// The template named `name`.
    pub fn named(&self, name: &TemplateName) -> Option<&MessageTemplate> {
        self.0.iter().find(|t| &t.name == name)
    }

    /// The names registered, for error messages and the staff console.
    pub fn names(&self) -> impl Iterator<Item = &TemplateName> {
        self.0.iter().map(|t| &t.name)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(
        name: &str,
        purpose: Option<TemplatePurpose>,
        languages: &[&str],
    ) -> MessageTemplate {
        MessageTemplate {
            name: TemplateName::parse(name).unwrap(),
            purpose,
            category: TemplateCategory::Utility,
            languages: languages.iter().map(|l| (*l).to_owned()).collect(),
            parameters: vec![TemplateField::GuestName, TemplateField::Reply],
        }
    }

    #[test]
    fn a_template_name_is_what_meta_accepts() {
        assert!(TemplateName::parse("reserva_confirmada_2").is_ok());
        for bad in [
            "",
            "Reserva",
            "reserva confirmada",
            "reserva-confirmada",
            "ñ",
        ] {
            assert!(TemplateName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(TemplateName::parse(&"a".repeat(513)).is_err());
    }

    #[test]
    fn the_language_is_the_guests_variant_then_their_language_then_the_first() {
        let t = template("hola", None, &["en_US", "es", "pt_BR", "pt_PT"]);
        assert_eq!(t.language_for(Locale::PtPt), Some("pt_PT"));
        assert_eq!(t.language_for(Locale::PtBr), Some("pt_BR"));
        assert_eq!(t.language_for(Locale::Es), Some("es"));
        assert_eq!(t.language_for(Locale::En), Some("en_US"));
        let only_brazil = template("hola", None, &["pt_BR", "en"]);
        assert_eq!(only_brazil.language_for(Locale::PtPt), Some("pt_BR"));
        let only_english = template("hola", None, &["en"]);
        assert_eq!(only_english.language_for(Locale::Es), Some("en"));
    }

    #[test]
    fn parameters_are_filled_on_one_line_and_cut_to_metas_limit() {
        let t = template("hola", Some(TemplatePurpose::Reply), &["es"]);
        let values = TemplateValues {
            guest_name: Some("Ana".into()),
            hotel_name: None,
            reply: Some(format!("Hola,\n\nsu   habitación\t{}", "x".repeat(2000))),
        };
        let message = t.fill(Locale::Es, &values).unwrap();
        assert_eq!(message.language, "es");
        assert_eq!(message.parameters[0], "Ana");
        assert!(message.parameters[1].starts_with("Hola, su habitación xx"));
        assert_eq!(message.parameters[1].chars().count(), MAX_PARAMETER_CHARS);
        assert!(message.parameters[1].ends_with('…'));
    }

    #[test]
    fn a_missing_value_is_named_rather_than_sent_empty() {
        let t = template("hola", Some(TemplatePurpose::Reply), &["es"]);
        let values = TemplateValues {
            guest_name: Some("  ".into()),
            reply: Some("Hola".into()),
            ..TemplateValues::default()
        };
        let err = t.fill(Locale::Es, &values).unwrap_err();
        assert_eq!(
            err.to_string(),
            "template hola needs the guest_name, which this conversation does not have"
        );
    }

    #[test]
    fn the_registry_refuses_what_could_never_be_sent() {
        let reply = Some(TemplatePurpose::Reply);
        assert!(TemplateRegistry::new(vec![template("a", reply, &["es"])]).is_ok());
        assert!(matches!(
            TemplateRegistry::new(vec![template("a", reply, &[])]),
            Err(TemplateError::NoLanguage(_))
        ));
        assert!(matches!(
            TemplateRegistry::new(vec![
                template("a", None, &["es"]),
                template("a", None, &["en"])
            ]),
            Err(TemplateError::Duplicate(_))
        ));
        assert!(matches!(
            TemplateRegistry::new(vec![
                template("a", reply, &["es"]),
                template("b", reply, &["en"])
            ]),
            Err(TemplateError::SamePurpose(..))
        ));
        let registry = TemplateRegistry::new(vec![
            template("a", None, &["es"]),
            template("b", reply, &["en"]),
        ])
        .unwrap();
        assert_eq!(
            registry
                .for_purpose(TemplatePurpose::Reply)
                .unwrap()
                .name
                .as_str(),
            "b"
        );
        assert!(registry.named(&TemplateName::parse("a").unwrap()).is_some());
        assert!(registry.named(&TemplateName::parse("c").unwrap()).is_none());
    }
}
