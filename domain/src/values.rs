//! Value objects shared by the aggregates: each one can only be built valid, so the aggregates never
//! have to re-check what a type already guarantees.

use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// The hotel (tenant) a piece of data belongs to. Every stream and read-model row is scoped by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    /// Accepts a short slug (`[a-z0-9_-]`, 1–64 characters), because tenant ids end up in stream
    /// ids, Kafka keys and Redis keys, where separators must stay unambiguous.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValueError::InvalidTenant(raw.to_owned()))
        }
    }

    /// The tenant of what belongs to no one hotel: the operators' own acts, such as issuing an
    /// admin key for every hotel. The leading `_` keeps it apart from hotel ids by convention.
    pub fn operations() -> Self {
        Self("_operations".to_owned())
    }

    /// The hotel of a single-hotel installation: the one `conserje serve` answers for when the
    /// configuration names none, and the one a webhook or message without a hotel belongs to.
    pub fn default_hotel() -> Self {
        Self(DEFAULT_HOTEL.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id of [`TenantId::default_hotel`].
pub const DEFAULT_HOTEL: &str = "default";

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The channel a conversation happens on. Its word is part of every session id
/// (`tenant/channel/guest`), so the words never change: `whatsapp`, `telegram`, and `api` for
/// messages a hotel's own system posts through `POST /api/v1/messages`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// The WhatsApp Cloud API: a 24-hour window, templates, receipts.
    WhatsApp,
    /// The Telegram Bot API: no window, but a bot cannot write first.
    Telegram,
    /// A hotel's own system, through the messages API.
    Api,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Self::WhatsApp, Self::Telegram, Self::Api];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::WhatsApp => "whatsapp",
            Self::Telegram => "telegram",
            Self::Api => "api",
        }
    }

    /// The channel a word names (`whatsapp`, `telegram`, `api`).
    pub fn parse(word: &str) -> Result<Self, ValueError> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == word)
            .ok_or_else(|| ValueError::InvalidChannel(word.to_owned()))
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The hotel's label for one guest across reservations and conversations: the e-mail for
/// bookings made through the API unless the caller names one, the channel identity (WhatsApp
/// `wa_id`, Telegram chat id) for conversations. It decides who may cancel or change a
/// reservation from a conversation, but *not* who the guest is for the active-reservation limit:
/// the caller chooses it, so a new ref would escape the limit and someone else's ref would lock
/// its owner out. The limit goes by [`Email::identity`] and [`Phone`] (see `crate::guest`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GuestRef(String);

impl GuestRef {
    /// Trims and lower-cases so that `Ana@Mail.com` and `ana@mail.com` are the same guest.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let clean = raw.trim().to_lowercase();
        if clean.is_empty() || clean.len() > 200 || clean.chars().any(char::is_control) {
            return Err(ValueError::InvalidGuestRef);
        }
        Ok(Self(clean))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GuestRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A room category code of the hotel (`standard`, `double`, `king`, `suite`…). The PMS decides
/// which codes exist; here it is only normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoomType(String);

impl RoomType {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let clean = raw.trim().to_lowercase();
        if clean.is_empty()
            || clean.len() > 40
            || !clean
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        {
            return Err(ValueError::InvalidRoomType(raw.to_owned()));
        }
        Ok(Self(clean))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A guest's e-mail, checked by `email_address` plus a dot in the domain: the parser alone accepts
/// `ana@localhost`, which no hotel can write to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let clean = raw.trim();
        let parsed: email_address::EmailAddress = clean
            .parse()
            .map_err(|_| ValueError::InvalidEmail(raw.to_owned()))?;
        let domain = parsed.domain();
        let dotted = domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.');
        if !dotted {
            return Err(ValueError::InvalidEmail(raw.to_owned()));
        }
        Ok(Self(clean.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The mailbox this address delivers to, as far as the address itself tells: the key by
    /// which the active-reservation limit and the blacklist recognise a guest. Without it
    /// `ana+1@mail.com`, `ana+2@mail.com`… would be as many guests (each with five reservations)
    /// and `blocked+x@mail.com` would pass a blacklist naming `blocked@mail.com`, although every
    /// one of them reaches the same inbox.
    ///
    /// - the whole address is lower-cased (no provider in practice has case-sensitive mailboxes);
    /// - the sub-address is dropped: the local part ends at its first `+` (`ana+spam` → `ana`),
    ///   unless that would leave it empty;
    /// - for Gmail (`gmail.com`, and `googlemail.com`, which is the same service) the dots of the
    ///   local part are ignored, as Gmail ignores them (`a.n.a@gmail.com` → `ana@gmail.com`).
    ///   Other providers treat dots as significant (`ana.perez@` and `anaperez@` may be two
    ///   people), so there they stay.
    pub fn identity(&self) -> String {
        let lower = self.0.to_lowercase();
        let Some((local, domain)) = lower.rsplit_once('@') else {
            return lower;
        };
        let local = match local.split_once('+') {
            Some((mailbox, _tag)) if !mailbox.is_empty() => mailbox,
            _ => local,
        };
        match domain {
            "gmail.com" | "googlemail.com" => format!("{}@gmail.com", local.replace('.', "")),
            _ => format!("{local}@{domain}"),
        }
    }
}

static PHONE_METADATA_WARM: LazyLock<()> = LazyLock::new(|| {
    let _ = phonenumber::parse(None, "+14155550100");
});

/// A phone number in E.164 form (`+` and country code), validated against real numbering plans
/// by the `phonenumber` crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Loads the numbering-plan metadata once (~120 ms) so that the first guest does not pay it.
    pub fn warm_up() {
        LazyLock::force(&PHONE_METADATA_WARM);
    }

    /// Requires the leading `+`: without a country code a number is ambiguous across the
    /// countries a hotel's guests come from.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        if !compact.starts_with('+') {
            return Err(ValueError::InvalidPhone(raw.to_owned()));
        }
        let number = phonenumber::parse(None, &compact)
            .map_err(|_| ValueError::InvalidPhone(raw.to_owned()))?;
        if !phonenumber::is_valid(&number) {
            return Err(ValueError::InvalidPhone(raw.to_owned()));
        }
        Ok(Self(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text a guest adds to a booking. Control characters and markup are removed and the length
/// bounded, because staff read it in the PMS and it must not carry HTML or terminal escapes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SpecialRequests(String);

impl SpecialRequests {
    pub const MAX_CHARS: usize = 500;

    pub fn sanitise(raw: &str) -> Self {
        let mut out = String::with_capacity(raw.len().min(Self::MAX_CHARS));
        let mut in_tag = false;
        for c in raw.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                _ if in_tag => {}
                '\n' | '\t' => out.push(' '),
                c if c.is_control() => {}
                c => out.push(c),
            }
        }
        let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
        Self(collapsed.chars().take(Self::MAX_CHARS).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An amount of money in integer minor units (cents) with its ISO currency, so that prices never
/// pass through floating point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: String,
}

impl Money {
    pub fn new(minor: i64, currency: &str) -> Self {
        Self {
            minor,
            currency: currency.to_owned(),
        }
    }
}

/// A value that could not be built from what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("tenant id {0:?} must be 1-64 characters of a-z, 0-9, '-' or '_'")]
    InvalidTenant(String),
    #[error("guest reference must be 1-200 printable characters")]
    InvalidGuestRef,
    #[error("room type {0:?} is not a room code")]
    InvalidRoomType(String),
    #[error("{0:?} is not a valid e-mail address")]
    InvalidEmail(String),
    #[error("{0:?} is not a valid phone number in E.164 form (+<country><number>)")]
    InvalidPhone(String),
    #[error("{0:?} is not a channel (whatsapp, telegram or api)")]
    InvalidChannel(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_read_and_write_their_words() {
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Ok(channel));
            let json = serde_json::to_string(&channel).unwrap();
            assert_eq!(json, format!("\"{channel}\""));
        }
        assert!(Channel::parse("sms").is_err());
    }

    #[test]
    fn email_needs_a_dotted_domain() {
        assert!(Email::parse("ana@hotel.com").is_ok());
        assert_eq!(
            Email::parse("ana@localhost"),
            Err(ValueError::InvalidEmail("ana@localhost".into()))
        );
        assert!(Email::parse("not-an-email").is_err());
        assert!(Email::parse("").is_err());
    }

    fn identity(raw: &str) -> String {
        Email::parse(raw).unwrap().identity()
    }

    #[test]
    fn email_identity_is_lower_case() {
        assert_eq!(identity("Ana.Perez@Example.COM"), "ana.perez@example.com");
        // Built from stored events without `parse`, the identity is still lower-case.
        let stored: Email = serde_json::from_str(r#""ANA@Example.com""#).unwrap();
        assert_eq!(stored.identity(), "ana@example.com");
    }

    #[test]
    fn email_identity_drops_the_sub_address() {
        assert_eq!(identity("Blocked+1@Example.com"), "blocked@example.com");
        assert_eq!(identity("ana+spam@example.com"), "ana@example.com");
        assert_eq!(
            identity("Ana+Spam@Example.com"),
            identity("ana@example.com")
        );
        // Only the first `+` starts the tag: everything after it goes.
        assert_eq!(identity("ana+a+b@example.com"), "ana@example.com");
        assert_eq!(identity("ana+@example.com"), "ana@example.com");
        // A local part that is nothing but a tag has no sub-address to drop.
        assert_eq!(identity("+ana@example.com"), "+ana@example.com");
    }

    #[test]
    fn email_identity_ignores_dots_only_at_gmail() {
        assert_eq!(
            identity("b.locked@gmail.com"),
            identity("blocked@gmail.com")
        );
        assert_eq!(identity("B.Lock.Ed+x@GMail.com"), "blocked@gmail.com");
        assert_eq!(identity("b.locked@googlemail.com"), "blocked@gmail.com");
        assert_eq!(
            identity("blocked@googlemail.com"),
            identity("blocked@gmail.com")
        );
        // Everywhere else a dot is part of the mailbox's name.
        assert_eq!(identity("b.locked@example.com"), "b.locked@example.com");
        assert_ne!(
            identity("b.locked@example.com"),
            identity("blocked@example.com")
        );
        assert_eq!(
            identity("ana.perez@mail.gmail.com"),
            "ana.perez@mail.gmail.com"
        );
        assert_ne!(identity("ana@gmail.com"), identity("ana@example.com"));
    }

    #[test]
    fn phone_must_be_a_real_e164_number() {
        assert_eq!(
            Phone::parse("+54 9 11 5555-1234").unwrap().as_str(),
            "+5491155551234"
        );
        assert!(Phone::parse("+34 600 123 456").is_ok());
        assert!(Phone::parse("600123456").is_err(), "no country code");
        assert!(Phone::parse("+1 000").is_err());
        assert!(Phone::parse("call me").is_err());
    }

    #[test]
    fn special_requests_lose_markup_and_control_characters() {
        let s = SpecialRequests::sanitise("<b>Late</b> arrival\u{7}\n<script>x</script>please");
        assert_eq!(s.as_str(), "Late arrival xplease");
        let long = SpecialRequests::sanitise(&"a".repeat(2000));
        assert_eq!(long.as_str().len(), SpecialRequests::MAX_CHARS);
    }

    #[test]
    fn tenant_and_room_codes_are_normalised_slugs() {
        assert!(TenantId::parse("hotel-sol").is_ok());
        assert!(TenantId::parse("Hotel Sol").is_err());
        assert_eq!(RoomType::parse(" Suite ").unwrap().as_str(), "suite");
        assert_eq!(
            GuestRef::parse(" Ana@Mail.COM ").unwrap().as_str(),
            "ana@mail.com"
        );
    }
}
