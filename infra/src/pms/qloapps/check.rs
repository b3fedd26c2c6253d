//! `conserje pms check`: is this hotel's QloApps reachable, does it take the key, may the key do
//! what conserje needs, does the room-type mapping match the hotel, and does a search work?
//!
//! Each step's detail is for the hotel's operator, in plain words, with the fix where there is
//! one: the people who read it configure QloApps' back office, not HTTP. A step that cannot run
//! because an earlier one failed is listed as not checked, so the report never looks shorter
//! (and so healthier) than it is.

use std::collections::BTreeSet;

use chrono::{Days, Utc};
use conserje_domain::ports::PmsError;
use reqwest::Method;

use super::errors::{self, Subject};
use super::json;
use super::money::format_minor;
use super::xml;
use super::QloApps;

/// What `check` found, step by step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub steps: Vec<CheckStep>,
}

/// One step: its name (`reach`, `key`, `permissions`, `room types`, `availability`), whether it
/// passed, and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckStep {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

impl CheckReport {
    /// Every step ran and passed.
    pub fn ok(&self) -> bool {
        !self.steps.is_empty() && self.steps.iter().all(|s| s.ok)
    }

    fn push(&mut self, name: &'static str, ok: bool, detail: impl Into<String>) {
        self.steps.push(CheckStep {
            name,
            ok,
            detail: detail.into(),
        });
    }

    fn skip(&mut self, names: &[&'static str], why: &str) {
        for name in names {
            self.push(name, false, format!("not checked: {why}"));
        }
    }
}

/// What conserje calls, by resource: availability searches, the booking lifecycle, and the
/// order states that say whether a booking is cancelled.
const NEEDED: &[(&str, &[&str], &str)] = &[
    ("hotel_ari", &["POST"], "search availability"),
    (
        "bookings",
        &["GET", "POST", "PUT"],
        "read, make and change bookings",
    ),
    ("orders", &["GET"], "read booking states"),
];

const AFTER_REACH: &[&str] = &["key", "permissions", "room types", "availability"];
const AFTER_KEY: &[&str] = &["permissions", "room types", "availability"];

/// Where to change a key's settings in QloApps' back office.
const WEBSERVICE_PAGE: &str = "QloApps back office › Advanced Parameters › Webservice";

impl QloApps {
    /// Runs every step against the PMS; never fails, the report says what did.
    pub async fn check(&self) -> CheckReport {
        let mut report = CheckReport::default();
        let host = reqwest::Url::parse(&self.base)
            .ok()
            .and_then(|url| {
                url.host_str()
                    .map(|h| url.port().map_or(h.to_owned(), |p| format!("{h}:{p}")))
            })
            .unwrap_or_else(|| self.base.clone());

        // reach: any HTTP answer at all to GET /api/.
        let (status, body) = match self.answer(self.request(Method::GET, "")).await {
            Ok(answer) => answer,
            Err(error) => {
                let why = match &error {
                    PmsError::TimedOut(ms) => format!("{host} did not answer within {ms} ms"),
                    other => format!("could not connect to {host}: {other}"),
                };
                report.push("reach", false, why);
                report.skip(AFTER_REACH, "the PMS could not be reached");
                return report;
            }
        };
        report.push("reach", true, format!("the PMS at {host} answers"));

        // key: the same answer, 200 only with an accepted key.
        if let Err(detail) = key_verdict(status, &body) {
            report.push("key", false, detail);
            report.skip(AFTER_KEY, "the key was not accepted");
            return report;
        }
        report.push("key", true, "the PMS accepted the key");

        let (ok, detail) = permissions(&body);
        report.push("permissions", ok, detail);

        let (ok, detail) = self.check_room_types().await;
        report.push("room types", ok, detail);

        let (ok, detail) = self.check_availability().await;
        report.push("availability", ok, detail);
        report
    }

    async fn check_room_types(&self) -> (bool, String) {
        let hotel = self.settings.id_hotel;
        // Every room type, this hotel's picked out here: `id_hotel` has a getter, and QloApps
        // refuses a filter on such a field (400, code 34, "The field … is dynamic").
        let request = self
            .request(Method::GET, "room_types")
            .query(&[("display", "full"), ("output_format", "JSON")]);
        let all = match self.call(request, Subject::default()).await {
            Ok(body) => match json::room_types(&body) {
                Some(rows) => rows,
                None => {
                    let error = errors::malformed("a room type list", &body);
                    return (
                        false,
                        format!("could not read the hotel's room types: {error}"),
                    );
                }
            },
            Err(error) => {
                return (
                    false,
                    format!("could not list the hotel's room types: {error}"),
                );
            }
        };
        let rows: Vec<_> = all
            .into_iter()
            .filter(|row| row.id_hotel == Some(u64::from(hotel)))
            .collect();
        let mut found = Vec::new();
        let mut wrong = Vec::new();
        for (code, id) in &self.settings.room_types {
            match rows.iter().find(|row| row.id == u64::from(*id)) {
                Some(row) => found.push(format!("{code} → {id} ({})", row.name)),
                None => wrong.push(format!(
                    "{code} → {id}: {}",
                    self.whose_room_type(*id).await
                )),
            }
        }
        let mapped: BTreeSet<u64> = self
            .settings
            .room_types
            .iter()
            .map(|(_, id)| u64::from(*id))
            .collect();
        let unmapped: Vec<String> = rows
            .iter()
            .filter(|row| !mapped.contains(&row.id))
            .map(|row| format!("{} ({})", row.id, row.name))
            .collect();
        let mut detail = if wrong.is_empty() {
            format!(
                "every mapped room type is hotel {hotel}'s: {}",
                found.join(", ")
            )
        } else {
            format!(
                "fix the room_types mapping: {}{}",
                wrong.join("; "),
                if found.is_empty() {
                    String::new()
                } else {
                    format!(" (correct: {})", found.join(", "))
                }
            )
        };
        if !unmapped.is_empty() {
            detail.push_str(&format!(
                ". Not mapped, so guests cannot book them: {}",
                unmapped.join(", ")
            ));
        }
        (wrong.is_empty(), detail)
    }

    /// Why a mapped id is not among the hotel's room types.
    async fn whose_room_type(&self, id: u32) -> String {
        let request = self
            .request(Method::GET, &format!("room_types/{id}"))
            .query(&[("output_format", "JSON")]);
        match self.call(request, Subject::default()).await {
            Ok(body) => match json::room_type(&body) {
                Some(row) => match row.id_hotel {
                    Some(other) => format!(
                        "room type {id} ({}) belongs to hotel {other}, not hotel {}",
                        row.name, self.settings.id_hotel
                    ),
                    None => format!("room type {id} ({}) belongs to no hotel", row.name),
                },
                None => format!("room type {id} is not a hotel room type"),
            },
            Err(PmsError::Refused(fault)) if fault.status == 404 => {
                format!("the PMS has no room type {id}")
            }
            Err(error) => format!("room type {id} could not be looked up: {error}"),
        }
    }

    async fn check_availability(&self) -> (bool, String) {
        let tomorrow = Utc::now().date_naive() + Days::new(1);
        let night = tomorrow + Days::new(1);
        let search = xml::AriRequest::new(self.settings.id_hotel, tomorrow, night, None, false);
        let result = match self.search(search, Subject::default()).await {
            Ok(document) => match document.hotel_ari {
                Some(result) => result,
                None => return (false, "the search answered night by night, unasked".into()),
            },
            Err(error) => return (false, format!("the availability search failed: {error}")),
        };
        let currency = result.currency.trim().to_owned();
        let lines: Vec<String> = self
            .settings
            .room_types
            .iter()
            .map(|(code, id)| {
                let entry = result
                    .room_types
                    .room_type
                    .iter()
                    .find(|entry| entry.id() == Some(*id));
                match entry {
                    None => format!("{code}: not offered"),
                    Some(entry) => {
                        let free = entry.rooms.available.room.len();
                        let price = entry
                            .base_price_with_tax
                            .as_deref()
                            .and_then(|p| super::money::parse_minor(p, &currency))
                            .map(|minor| {
                                format!(" at {} {currency}", format_minor(minor, &currency))
                            })
                            .unwrap_or_default();
                        format!("{code}: {free} free{price}")
                    }
                }
            })
            .collect();
        (true, format!("night of {tomorrow}: {}", lines.join(", ")))
    }
}

/// Whether `GET /api/`'s answer means the key was accepted; else what to tell the operator.
fn key_verdict(status: u16, body: &str) -> Result<(), String> {
    let fault = errors::fault(status, body);
    let said = match fault.code {
        Some(code) => format!("QloApps said: {} (code {code})", fault.message),
        None => format!("QloApps said: {}", fault.message),
    };
    match status {
        200..=299 => Ok(()),
        401 => Err(format!(
            "the PMS refused the key: wrong key, or the webservice key is not active \
             (check it in {WEBSERVICE_PAGE}); {said}"
        )),
        403 => Err(format!("the key is not allowed on this shop; {said}")),
        503 if fault.code == Some(22) => Err(format!(
            "the PMS's webservice is switched off: enable it in {WEBSERVICE_PAGE}; {said}"
        )),
        _ => Err(format!("the PMS answered HTTP {status}; {said}")),
    }
}

/// Whether the resource list grants everything in [`NEEDED`]; names what is missing.
fn permissions(body: &str) -> (bool, String) {
    let Some(list) = xml::resources(body) else {
        return (
            false,
            format!(
                "the PMS's list of what the key may use could not be read: {}",
                crate::http::excerpt(body, 200)
            ),
        );
    };
    let mut missing = Vec::new();
    for (resource, methods, _) in NEEDED {
        for method in *methods {
            if !list.0.get(*resource).is_some_and(|g| g.allows(method)) {
                missing.push(format!("{resource} {method}"));
            }
        }
    }
    if missing.is_empty() {
        let uses: Vec<String> = NEEDED
            .iter()
            .map(|(resource, methods, why)| format!("{why} ({resource} {})", methods.join("/")))
            .collect();
        (true, format!("the key may {}", uses.join(", ")))
    } else {
        (
            false,
            format!(
                "the key lacks {}: tick them for this key in {WEBSERVICE_PAGE}",
                missing.join(", ")
            ),
        )
    }
}
