//! The hotels of the configuration, answering the domain's questions about them: time zone,
//! cancellation policy, blacklist, profile.
//!
//! Hotels not named in the file get the `default` entry, so a fresh install answers for any
//! tenant id without configuration.

use std::collections::{BTreeMap, BTreeSet};

use chrono_tz::Tz;
use conserje_domain::cancellation::CancellationPolicy;
use conserje_domain::hotel::{HotelProfile, HotelProfiles};
use conserje_domain::ports::{GuestScreening, HotelDirectory};
use conserje_domain::values::{Email, Phone, TenantId};

use crate::config::{HotelSettings, DEFAULT_HOTEL};

/// A hotel's blacklist in the form it is matched in: e-mail identities and E.164 phones.
///
/// Matching the raw entries (as text, ignoring case) let `blocked+1@example.com` or, at Gmail,
/// `b.locked@gmail.com` through a list naming `blocked@…`, although both reach the blocked
/// guest's inbox; both sides are therefore reduced to [`Email::identity`] first. Entries are
/// parsed once, here, rather than on every booking.
#[derive(Debug, Clone, Default)]
struct Blacklist {
    emails: BTreeSet<String>,
    phones: BTreeSet<String>,
}

impl Blacklist {
    fn of(entries: &[String]) -> Self {
        let mut list = Self::default();
        for entry in entries {
            if let Ok(email) = Email::parse(entry) {
                list.emails.insert(email.identity());
            } else if let Ok(phone) = Phone::parse(entry) {
                list.phones.insert(phone.as_str().to_owned());
            } else {
                // Neither can ever match a guest (bookings need a valid e-mail and phone).
                tracing::warn!(
                    entry = %entry.trim(),
                    "blacklist entry is neither an e-mail nor an E.164 phone"
                );
            }
        }
        list
    }

    fn refuses(&self, email: &Email, phone: &Phone) -> bool {
        self.emails.contains(&email.identity()) || self.phones.contains(phone.as_str())
    }
}

/// The hotels of the configuration, answering the domain's questions about them.
#[derive(Debug, Clone)]
pub struct HotelRegistry {
    hotels: BTreeMap<String, HotelSettings>,
    blacklists: BTreeMap<String, Blacklist>,
}

impl HotelRegistry {
    pub fn new(hotels: BTreeMap<String, HotelSettings>) -> Self {
        let blacklists = hotels
            .iter()
            .map(|(name, settings)| (name.clone(), Blacklist::of(&settings.blacklist)))
            .collect();
        Self { hotels, blacklists }
    }

    /// The entry of `tenant`, or the default one for tenants the file does not name.
    fn entry_name<'a>(&self, tenant: &'a TenantId) -> &'a str {
        if self.hotels.contains_key(tenant.as_str()) {
            tenant.as_str()
        } else {
            DEFAULT_HOTEL
        }
    }

    fn settings(&self, tenant: &TenantId) -> &HotelSettings {
        self.hotels
            .get(self.entry_name(tenant))
            .expect("ConfigFile::load guarantees a default hotel")
    }
}

impl HotelDirectory for HotelRegistry {
    fn time_zone(&self, tenant: &TenantId) -> Tz {
        self.settings(tenant).time_zone
    }

    fn cancellation_policy(&self, tenant: &TenantId) -> CancellationPolicy {
        self.settings(tenant).cancellation
    }
}

impl HotelProfiles for HotelRegistry {
    fn profile(&self, tenant: &TenantId) -> HotelProfile {
        let settings = self.settings(tenant);
        HotelProfile {
            name: settings.name.clone(),
            business_hours: settings.business_hours,
            facts: settings.facts.clone(),
            contact: settings.contact.clone(),
            replies: settings.replies.clone(),
            templates: settings.templates.clone(),
            proactive: settings.proactive.clone(),
        }
    }
}

impl GuestScreening for HotelRegistry {
    fn is_blacklisted(&self, tenant: &TenantId, email: &Email, phone: &Phone) -> bool {
        self.blacklists
            .get(self.entry_name(tenant))
            .is_some_and(|list| list.refuses(email, phone))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigFile;

    #[test]
    fn built_in_config_parses_and_unknown_tenants_get_the_default() {
        let file = ConfigFile::load_with_env(None, vec![]).unwrap();
        let registry = HotelRegistry::new(file.hotels);
        let unknown = TenantId::parse("somewhere-else").unwrap();
        let default = TenantId::parse(DEFAULT_HOTEL).unwrap();
        assert_eq!(registry.time_zone(&unknown), registry.time_zone(&default));
        assert!(!file.pms_simulator.rooms.is_empty());
    }

    #[test]
    fn blacklist_matches_email_case_insensitively_and_phones_in_any_format() {
        let mut hotels = BTreeMap::new();
        hotels.insert(
            DEFAULT_HOTEL.to_owned(),
            HotelSettings {
                blacklist: vec!["Banned@Hotel.com".into(), "+34 600 123 456".into()],
                ..HotelSettings::in_zone(chrono_tz::UTC)
            },
        );
        let registry = HotelRegistry::new(hotels);
        let tenant = TenantId::parse("any").unwrap();
        let ok_phone = Phone::parse("+34 600 999 999").unwrap();
        let banned_phone = Phone::parse("+34600123456").unwrap();
        let banned_mail = Email::parse("banned@hotel.com").unwrap();
        let ok_mail = Email::parse("ana@hotel.com").unwrap();
        assert!(registry.is_blacklisted(&tenant, &banned_mail, &ok_phone));
        assert!(registry.is_blacklisted(&tenant, &ok_mail, &banned_phone));
        assert!(!registry.is_blacklisted(&tenant, &ok_mail, &ok_phone));
    }

    fn registry_refusing(entries: &[&str]) -> HotelRegistry {
        let mut hotels = BTreeMap::new();
        hotels.insert(
            DEFAULT_HOTEL.to_owned(),
            HotelSettings {
                blacklist: entries.iter().map(|e| (*e).to_owned()).collect(),
                ..HotelSettings::in_zone(chrono_tz::UTC)
            },
        );
        hotels.insert(
            "hotel-sol".to_owned(),
            HotelSettings::in_zone(chrono_tz::UTC),
        );
        HotelRegistry::new(hotels)
    }

    #[test]
    fn blacklist_matches_every_address_of_the_same_mailbox() {
        let registry = registry_refusing(&["blocked@example.com", "b.locked@gmail.com"]);
        let tenant = TenantId::parse("any").unwrap();
        let phone = Phone::parse("+34 600 999 999").unwrap();
        let refused =
            |raw: &str| registry.is_blacklisted(&tenant, &Email::parse(raw).unwrap(), &phone);
        assert!(refused("blocked@example.com"));
        assert!(refused("blocked+1@example.com"));
        assert!(refused("Blocked+Spam@Example.COM"));
        // At Gmail the dots do not matter, on either side, nor does googlemail.com.
        assert!(refused("blocked@gmail.com"));
        assert!(refused("b.l.o.c.k.e.d@gmail.com"));
        assert!(refused("B.Locked+x@GoogleMail.com"));
        // Elsewhere they do: b.locked@example.com is another mailbox.
        assert!(!refused("b.locked@example.com"));
        assert!(!refused("blocked@example.org"));
        assert!(!refused("blocked1@example.com"));
    }

    #[test]
    fn an_entry_with_a_tag_refuses_the_whole_mailbox_and_only_its_hotel() {
        let registry = registry_refusing(&["  Blocked.Guest+old@Example.com ", "not an entry"]);
        let phone = Phone::parse("+34 600 999 999").unwrap();
        let email = Email::parse("blocked.guest@example.com").unwrap();
        let any = TenantId::parse("any").unwrap();
        let sol = TenantId::parse("hotel-sol").unwrap();
        assert!(registry.is_blacklisted(&any, &email, &phone));
        assert!(
            !registry.is_blacklisted(&sol, &email, &phone),
            "hotel-sol has no blacklist"
        );
    }
}
