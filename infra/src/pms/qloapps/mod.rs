//! A QloApps 1.6.1 shop as conserje's [`Pms`], through its webservice (`/api/…`).
//!
//! Availability, rates and the calendar are `POST /api/hotel_ari` searches in XML ([`ari`]);
//! bookings are order-level `bookings` documents in JSON, with each booking's state read from
//! `orders` ([`bookings`]). The wire contract, with its traps, is QloApps' own source (see
//! `shared/pms-qloapps.md`); every rule here that looks odd is one of those traps.
//!
//! One `QloApps` serves one hotel: the `tenant` argument of the [`Pms`] methods is ignored, a
//! router above picks the instance. The adapter makes one attempt per call and says precisely
//! how it failed ([`errors`]); retries, the circuit breaker and the bulkhead are the resilience
//! layer's. The key travels only as HTTP Basic credentials — never in a URL, a log or an error.

mod ari;
mod bookings;
mod check;
mod errors;
mod json;
mod money;
mod xml;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use conserje_domain::ports::{
    NightOffer, Pms, PmsBooking, PmsBookingRequest, PmsError, RoomAvailability,
};
use conserje_domain::stay::StayDates;
use conserje_domain::values::{Money, RoomType, TenantId};
use reqwest::{Method, RequestBuilder};
use uuid::Uuid;

pub use check::{CheckReport, CheckStep};

use crate::config::QloAppsSettings;
use crate::http::{client_builder, trim_base};
use errors::Subject;

/// The largest answer read: a year's calendar of a large hotel is a few MB of XML, so anything
/// past this is not QloApps answering and must not fill memory.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// A QloApps hotel's webservice.
pub struct QloApps {
    settings: QloAppsSettings,
    base: String,
    client: reqwest::Client,
    timeout: Duration,
}

impl fmt::Debug for QloApps {
    /// Without the key: a `Debug` print ends up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QloApps")
            .field("base", &self.base)
            .field("id_hotel", &self.settings.id_hotel)
            .field("room_types", &self.settings.room_types)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl QloApps {
    /// The webservice of the hotel `settings` describe; each request gives up after `timeout`
    /// (connecting, sending and reading the whole answer).
    ///
    /// # Panics
    /// When the TLS backend cannot initialise, like `reqwest::Client::new`.
    pub fn new(settings: QloAppsSettings, timeout: Duration) -> Self {
        let client = client_builder()
            .timeout(timeout)
            .build()
            .expect("the HTTP client's TLS backend initialises");
        Self {
            base: trim_base(settings.base_url.clone()),
            settings,
            client,
            timeout,
        }
    }

    /// A request to `{base}/api/{path}` with the key as Basic user name and no password (the
    /// dispatcher's first way to find a key; `ws_key=` would put it in the URL).
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}/api/{path}", self.base))
            .basic_auth(&self.settings.api_key, None::<&str>)
    }

    /// Sends `request` and reads its answer, whatever the status; `Err` only when no whole
    /// answer came back (timeout, refused or broken connection).
    async fn answer(&self, request: RequestBuilder) -> Result<(u16, String), PmsError> {
        let mut response = request
            .send()
            .await
            .map_err(|e| errors::from_transport(e, self.timeout))?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| errors::from_transport(e, self.timeout))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(PmsError::Malformed(format!(
                    "the answer is larger than {MAX_BODY_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// The body of a 2xx answer; any other status as the error it means for `subject`.
    async fn call(
        &self,
        request: RequestBuilder,
        subject: Subject<'_>,
    ) -> Result<String, PmsError> {
        let (status, body) = self.answer(request).await?;
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(errors::from_answer(status, &body, subject))
        }
    }

    /// QloApps' room type id for conserje's code; a code the hotel did not map is not sold.
    fn room_type_id(&self, room_type: &RoomType) -> Result<u32, PmsError> {
        self.settings
            .room_types
            .iter()
            .find(|(code, _)| code == room_type)
            .map(|(_, id)| *id)
            .ok_or_else(|| PmsError::UnknownRoomType(room_type.to_string()))
    }

    /// conserje's code for QloApps' room type id, if the hotel mapped it.
    fn room_type_code(&self, id: u64) -> Option<&RoomType> {
        self.settings
            .room_types
            .iter()
            .find(|(_, mapped)| u64::from(*mapped) == id)
            .map(|(code, _)| code)
    }
}

#[async_trait]
impl Pms for QloApps {
    async fn availability(
        &self,
        _tenant: &TenantId,
        room_type: &RoomType,
        stay: &StayDates,
        excluding: Option<Uuid>,
    ) -> Result<RoomAvailability, PmsError> {
        self.search_availability(room_type, stay, excluding).await
    }

    async fn rates(&self, _tenant: &TenantId) -> Result<Vec<(RoomType, Money)>, PmsError> {
        self.search_rates().await
    }

    async fn calendar(
        &self,
        _tenant: &TenantId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NightOffer>, PmsError> {
        self.search_calendar(from, to).await
    }

    async fn create_booking(
        &self,
        _tenant: &TenantId,
        request: &PmsBookingRequest,
    ) -> Result<PmsBooking, PmsError> {
        self.create(request).await
    }

    async fn find_booking(
        &self,
        _tenant: &TenantId,
        reservation_id: Uuid,
    ) -> Result<Option<PmsBooking>, PmsError> {
        self.find(reservation_id).await
    }

    async fn modify_booking(
        &self,
        _tenant: &TenantId,
        pms_ref: &str,
        room_type: &RoomType,
        stay: &StayDates,
        guests: u8,
    ) -> Result<PmsBooking, PmsError> {
        self.modify(pms_ref, room_type, stay, guests).await
    }

    async fn cancel_booking(&self, _tenant: &TenantId, pms_ref: &str) -> Result<(), PmsError> {
        self.cancel(pms_ref).await
    }

    async fn get_booking(&self, _tenant: &TenantId, pms_ref: &str) -> Result<PmsBooking, PmsError> {
        self.get(pms_ref).await
    }
}
