//! Availability, rates and the calendar: `POST /api/hotel_ari` searches.
//!
//! A whole-range search answers, per room type, the rooms free on *every* night
//! (`rooms/available/room`) and `base_price_with_tax`, the average nightly price with tax — what
//! guests are quoted. A `date_wise_breakdown=1` search answers the same per night, which is
//! what the availability cache keeps.

use chrono::{Days, NaiveDate, Utc};
use conserje_domain::ports::{Freshness, NightOffer, PmsError, RoomAvailability};
use conserje_domain::stay::StayDates;
use conserje_domain::values::{Money, RoomType};
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use uuid::Uuid;

use super::errors::{self, Subject};
use super::money::parse_minor;
use super::xml::{self, AriDocument, AriRequest, AriResult, AriRoomType};
use super::QloApps;

/// The longest stretch one calendar search covers. A breakdown answer grows with nights × room
/// types × rooms and QloApps builds it in one PHP request (under its `max_execution_time`), so
/// a year is asked as twelve searches of a month rather than one that may time out.
pub(crate) const CALENDAR_CHUNK_NIGHTS: u64 = 31;

impl QloApps {
    /// One search; `Ok` only with an ARI document.
    pub(super) async fn search(
        &self,
        search: AriRequest,
        subject: Subject<'_>,
    ) -> Result<AriDocument, PmsError> {
        let body = search
            .to_xml()
            .map_err(|e| PmsError::Malformed(format!("the search could not be written: {e}")))?;
        let request = self
            .request(Method::POST, "hotel_ari")
            .header(CONTENT_TYPE, "text/xml")
            .body(body);
        let answer = self.call(request, subject).await?;
        xml::ari(&answer).ok_or_else(|| errors::malformed("a hotel_ari document", &answer))
    }

    /// A whole-range search's one result.
    async fn search_range(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        id_room_type: Option<u32>,
        subject: Subject<'_>,
    ) -> Result<AriResult, PmsError> {
        let search = AriRequest::new(self.settings.id_hotel, from, to, id_room_type, false);
        let document = self.search(search, subject).await?;
        document
            .hotel_ari
            .ok_or_else(|| PmsError::Malformed("expected one hotel_ari, got hotel_aris".into()))
    }

    pub(super) async fn search_availability(
        &self,
        room_type: &RoomType,
        stay: &StayDates,
        excluding: Option<Uuid>,
    ) -> Result<RoomAvailability, PmsError> {
        let id = self.room_type_id(room_type)?;
        let search = self.search_range(
            stay.check_in,
            stay.check_out,
            Some(id),
            Subject::room_type(room_type),
        );
        let (result, own) = match excluding {
            Some(reservation_id) => {
                let (result, own) = tokio::join!(search, self.find_record(reservation_id));
                (result?, own?)
            }
            None => (search.await?, None),
        };
        // A mapped room type the answer leaves out is not sold by this hotel (deleted, inactive
        // or another hotel's): saying "0 free" would hide a wrong mapping behind "sold out".
        let entry = find_type(&result, id)
            .ok_or_else(|| PmsError::UnknownRoomType(room_type.to_string()))?;
        let mut available_units = free_rooms(entry);
        // The reservation being modified holds rooms the modification will release: they count
        // as free. See `rooms_overlapping` for how approximate that is.
        if let Some((record, _)) = own.filter(|(_, state)| !super::bookings::is_cancelled(*state)) {
            available_units += super::bookings::rooms_overlapping(&record, u64::from(id), stay);
        }
        Ok(RoomAvailability {
            room_type: room_type.clone(),
            available_units,
            nightly_rate: rate(&result, entry)?,
            freshness: Freshness::Live,
        })
    }

    pub(super) async fn search_rates(&self) -> Result<Vec<(RoomType, Money)>, PmsError> {
        let today = Utc::now().date_naive();
        let result = self
            .search_range(today, today + Days::new(1), None, Subject::default())
            .await?;
        let mut rates = Vec::new();
        for (code, id) in &self.settings.room_types {
            if let Some(entry) = find_type(&result, *id) {
                rates.push((code.clone(), rate(&result, entry)?));
            }
        }
        Ok(rates)
    }

    /// Nights `from..to`, in searches of at most [`CALENDAR_CHUNK_NIGHTS`], one after the other
    /// (the resilience layer bounds how many calls a hotel's PMS gets at once; parallel chunks
    /// would bypass that).
    pub(super) async fn search_calendar(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NightOffer>, PmsError> {
        let mut offers = Vec::new();
        let mut start = from;
        while start < to {
            let end = (start + Days::new(CALENDAR_CHUNK_NIGHTS)).min(to);
            let search = AriRequest::new(self.settings.id_hotel, start, end, None, true);
            let document = self.search(search, Subject::default()).await?;
            let nights: Vec<AriResult> = match (document.hotel_aris, document.hotel_ari) {
                (Some(nights), _) => nights.hotel_ari,
                // A one-night search may come back unbroken; it is that night.
                (None, Some(single)) if end == start + Days::new(1) => vec![single],
                (None, _) => {
                    return Err(PmsError::Malformed(
                        "expected hotel_aris (date_wise_breakdown), got one hotel_ari: \
                         the PMS is older than QloApps 1.6.1"
                            .into(),
                    ))
                }
            };
            for result in &nights {
                let night = night_of(result, start)?;
                if night < start || night >= end {
                    continue;
                }
                for (code, id) in &self.settings.room_types {
                    if let Some(entry) = find_type(result, *id) {
                        offers.push(NightOffer {
                            night,
                            room_type: code.clone(),
                            available_units: free_rooms(entry),
                            rate: rate(result, entry)?,
                        });
                    }
                }
            }
            start = end;
        }
        Ok(offers)
    }
}

fn find_type(result: &AriResult, id: u32) -> Option<&AriRoomType> {
    result
        .room_types
        .room_type
        .iter()
        .find(|entry| entry.id() == Some(id))
}

fn free_rooms(entry: &AriRoomType) -> u32 {
    u32::try_from(entry.rooms.available.room.len()).unwrap_or(u32::MAX)
}

/// The room type's `base_price_with_tax` in the answer's currency.
fn rate(result: &AriResult, entry: &AriRoomType) -> Result<Money, PmsError> {
    let currency = result.currency.trim();
    if currency.is_empty() {
        return Err(PmsError::Malformed(
            "the search answer has no currency".into(),
        ));
    }
    let text = entry.base_price_with_tax.as_deref().unwrap_or_default();
    let minor = parse_minor(text, currency).ok_or_else(|| {
        PmsError::Malformed(format!(
            "room type {}: base_price_with_tax {text:?} is not a price",
            entry.id().unwrap_or_default()
        ))
    })?;
    Ok(Money::new(minor, currency))
}

/// The night a breakdown result is for: its `date_from` (`Y-m-d`, maybe with a time).
fn night_of(result: &AriResult, chunk_start: NaiveDate) -> Result<NaiveDate, PmsError> {
    let text = result.date_from.trim();
    let date = text.get(..10).unwrap_or(text);
    NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
        PmsError::Malformed(format!(
            "a night of the calendar from {chunk_start} has date_from {text:?}"
        ))
    })
}
