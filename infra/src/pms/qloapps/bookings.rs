//! Bookings: created, changed and cancelled through the order-level `bookings` resource (JSON),
//! their state and marker read from `orders`.
//!
//! - A booking is an order: its `pms_ref` is the order id.
//! - QloApps has no idempotency key, so each booking carries our marker `conserje-<reservation
//!   id>` as its `source` (orders.source). A create whose answer was lost (a timeout) is found
//!   again with `orders?filter[source]=[marker]` before it is tried again.
//! - The booking document holds no state; `orders/{id}` → `current_state` does (4 cancelled,
//!   5 refunded: the install-default ids, which release the rooms).
//! - PUT replaces the booking's lines: a change sends the one new line, a cancel repeats the
//!   current lines unchanged with `booking_status: 3`.

use chrono::NaiveDate;
use conserje_domain::ports::{PmsBooking, PmsBookingRequest, PmsError, PmsFault};
use conserje_domain::stay::StayDates;
use conserje_domain::values::RoomType;
use reqwest::Method;
use uuid::Uuid;

use super::errors::{self, Subject};
use super::json::{
    self, BookedLine, BookingBody, BookingRecord, BookingUpdate, CustomerEmail, NewBooking,
    NewCustomer, PriceDetails, RoomLine, RoomOccupancy,
};
use super::money::format_minor;
use super::QloApps;

/// How our bookings' `source` starts; the reservation id follows.
const MARKER_PREFIX: &str = "conserje-";

/// Install-default order states that end a booking (PS_OS_CANCELED, PS_OS_REFUND).
const CANCELLED_STATES: [u64; 2] = [4, 5];

/// `booking_status` of a create (new) and of a cancel.
const STATUS_NEW: u8 = 1;
const STATUS_CANCELLED: u8 = 3;
/// `payment_status` 3, awaiting: the guest pays the hotel, conserje takes no payment.
const PAYMENT_AWAITING: u8 = 3;

/// QloApps' `Customer` names: at most 32 characters, none of `Validate::isName`'s forbidden ones
/// (digits, `!<>,;?=+()@#"°{}_$%:¤|`). A guest who wrote "Ana (Ms)" must get a booking, not a
/// validation refusal.
const NAME_MAX_CHARS: usize = 32;
const NAME_FORBIDDEN: &str = "!<>,;?=+()@#\"°{}_$%:¤|";

/// The marker written into a booking made for `reservation_id`.
pub(crate) fn marker(reservation_id: Uuid) -> String {
    format!("{MARKER_PREFIX}{reservation_id}")
}

/// The reservation a booking's `source` names, or nil for a booking not made by conserje (the
/// front desk's, a channel manager's).
pub(crate) fn reservation_of(source: &str) -> Uuid {
    source
        .trim()
        .strip_prefix(MARKER_PREFIX)
        .and_then(|id| Uuid::parse_str(id).ok())
        .unwrap_or(Uuid::nil())
}

pub(crate) fn is_cancelled(state: Option<u64>) -> bool {
    state.is_some_and(|s| CANCELLED_STATES.contains(&s))
}

/// The rooms of `record`'s `id_room_type` lines whose stay overlaps `stay`.
///
/// An approximation, on purpose: the rooms count as free for the whole asked stay when they
/// overlap it on any night, although on the nights outside the booking another booking may hold
/// them. It never hides a room the modification frees; it can offer one that is taken on a
/// night the booking did not cover, which the PUT's own availability check then refuses.
pub(crate) fn rooms_overlapping(
    record: &BookingRecord,
    id_room_type: u64,
    stay: &StayDates,
) -> u32 {
    record
        .lines()
        .iter()
        .filter(|line| line.id_room_type == id_room_type)
        .filter(|line| {
            matches!((date_of(&line.checkin_date), date_of(&line.checkout_date)),
                (Some(from), Some(to)) if from < stay.check_out && stay.check_in < to)
        })
        .map(room_count)
        .sum()
}

fn room_count(line: &BookedLine) -> u32 {
    let listed = line.rooms.len() as u64;
    let count = if listed > 0 {
        listed
    } else {
        line.number_of_rooms.unwrap_or(0)
    };
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// `Y-m-d` or `Y-m-d H:i:s`, as QloApps writes dates.
fn date_of(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d").ok()
}

/// A name QloApps' validator accepts: forbidden characters dropped, spaces collapsed, cut at 32.
fn clean_name(raw: &str) -> String {
    let kept: String = raw
        .chars()
        .filter(|c| !c.is_ascii_digit() && !NAME_FORBIDDEN.contains(*c) && !c.is_control())
        .collect();
    let collapsed = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .chars()
        .take(NAME_MAX_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// First and last name: split on the last space ("Ana María López" → "Ana María", "López"); a
/// one-word name is both, as QloApps requires both.
fn split_name(guest_name: &str) -> (String, String) {
    let clean = clean_name(guest_name);
    let clean = if clean.is_empty() {
        "Guest".to_owned()
    } else {
        clean
    };
    match clean.rsplit_once(' ') {
        Some((first, last)) => (clean_name(first), clean_name(last)),
        None => (clean.clone(), clean),
    }
}

/// The order id of a `pms_ref`; anything else is a booking this PMS cannot have.
fn order_id(pms_ref: &str) -> Result<u64, PmsError> {
    pms_ref
        .trim()
        .parse()
        .map_err(|_| PmsError::BookingNotFound(pms_ref.to_owned()))
}

fn new_line(id_room_type: u64, stay: &StayDates, guests: u8) -> RoomLine {
    RoomLine {
        id_room_type,
        checkin_date: stay.check_in.format("%Y-%m-%d").to_string(),
        checkout_date: stay.check_out.format("%Y-%m-%d").to_string(),
        number_of_rooms: 1,
        rooms: vec![RoomOccupancy {
            id_room: None,
            adult: u32::from(guests.max(1)),
            child: 0,
        }],
    }
}

/// A line of the booking exactly as QloApps holds it, so a cancel's full replacement matches
/// every line (room type, dates as written, the same rooms) and removes none.
fn same_line(line: &BookedLine) -> RoomLine {
    RoomLine {
        id_room_type: line.id_room_type,
        checkin_date: line.checkin_date.clone(),
        checkout_date: line.checkout_date.clone(),
        number_of_rooms: room_count(line),
        rooms: line
            .rooms
            .iter()
            .map(|room| RoomOccupancy {
                id_room: room.id_room,
                adult: u32::try_from(room.adults.unwrap_or(1)).unwrap_or(1),
                child: u32::try_from(room.child.unwrap_or(0)).unwrap_or(0),
            })
            .collect(),
    }
}

impl QloApps {
    /// `GET /api/bookings/{id}`; an unknown id is a 404 with an empty body.
    async fn read_booking(&self, id: u64, pms_ref: &str) -> Result<BookingRecord, PmsError> {
        let request = self
            .request(Method::GET, &format!("bookings/{id}"))
            .header("Output-Format", "JSON");
        let body = self.call(request, Subject::booking(pms_ref)).await?;
        json::booking(&body).ok_or_else(|| errors::malformed("a booking document", &body))
    }

    /// The order's `current_state`: the booking document does not carry it.
    async fn read_state(&self, id: u64, pms_ref: &str) -> Result<Option<u64>, PmsError> {
        let request = self
            .request(Method::GET, &format!("orders/{id}"))
            .query(&[("output_format", "JSON")]);
        let body = self.call(request, Subject::booking(pms_ref)).await?;
        let order = json::order(&body).ok_or_else(|| errors::malformed("an order", &body))?;
        Ok(order.current_state)
    }

    async fn read_both(&self, pms_ref: &str) -> Result<(BookingRecord, Option<u64>), PmsError> {
        let id = order_id(pms_ref)?;
        let (record, state) =
            tokio::join!(self.read_booking(id, pms_ref), self.read_state(id, pms_ref));
        Ok((record?, state?))
    }

    /// The booking our marker names, with its state.
    ///
    /// Two orders with one marker should not exist (a create is looked up before it is tried
    /// again); if they do, the active one wins, then the newest, so conserje tracks the booking
    /// that holds the guest's room.
    pub(super) async fn find_record(
        &self,
        reservation_id: Uuid,
    ) -> Result<Option<(BookingRecord, Option<u64>)>, PmsError> {
        let marker = marker(reservation_id);
        let request = self.request(Method::GET, "orders").query(&[
            ("filter[source]", format!("[{marker}]").as_str()),
            ("display", "[id,current_state]"),
            ("output_format", "JSON"),
        ]);
        let body = self.call(request, Subject::default()).await?;
        let rows = json::orders(&body).ok_or_else(|| errors::malformed("an order list", &body))?;
        let Some(row) = rows
            .into_iter()
            .max_by_key(|row| (!is_cancelled(row.current_state), row.id))
        else {
            return Ok(None);
        };
        let pms_ref = row.id.to_string();
        let record = self.read_booking(row.id, &pms_ref).await?;
        // A shop that ignored the filter would answer every order: never take someone else's
        // booking for ours (a create retried on that belief would not happen; a cancel would hit
        // the wrong guest).
        if record.source.trim() != marker {
            return Err(PmsError::Malformed(format!(
                "orders?filter[source] answered order {} whose source is not {marker}",
                row.id
            )));
        }
        Ok(Some((record, row.current_state)))
    }

    /// A QloApps booking as conserje's: its first line is the room type and stay (conserje
    /// books one line; a front-desk booking with several is shown by its first).
    fn to_booking(
        &self,
        record: &BookingRecord,
        state: Option<u64>,
    ) -> Result<PmsBooking, PmsError> {
        let line = record.lines().first().ok_or_else(|| {
            PmsError::Malformed(format!("booking {} has no room type line", record.id))
        })?;
        let room_type: RoomType =
            self.room_type_code(line.id_room_type)
                .cloned()
                .ok_or_else(|| {
                    PmsError::UnknownRoomType(format!("QloApps room type {}", line.id_room_type))
                })?;
        let (Some(check_in), Some(check_out)) =
            (date_of(&line.checkin_date), date_of(&line.checkout_date))
        else {
            return Err(PmsError::Malformed(format!(
                "booking {} has dates {:?} to {:?}",
                record.id, line.checkin_date, line.checkout_date
            )));
        };
        let guests: u64 = line
            .rooms
            .iter()
            .map(|room| room.adults.unwrap_or(0) + room.child.unwrap_or(0))
            .sum();
        Ok(PmsBooking {
            pms_ref: record.id.to_string(),
            reservation_id: reservation_of(&record.source),
            room_type,
            stay: StayDates {
                check_in,
                check_out,
            },
            guests: u8::try_from(guests.max(1)).unwrap_or(u8::MAX),
            cancelled: is_cancelled(state),
        })
    }

    pub(super) async fn create(&self, request: &PmsBookingRequest) -> Result<PmsBooking, PmsError> {
        let id_room_type = self.room_type_id(&request.room_type)?;
        let (firstname, lastname) = split_name(&request.guest_name);
        let mut remark = format!("conserje reservation {}", request.reservation_id);
        if !request.special_requests.trim().is_empty() {
            remark.push_str(". Special requests: ");
            remark.push_str(request.special_requests.trim());
        }
        let body = BookingBody {
            booking: NewBooking {
                id_property: self.settings.id_hotel,
                currency: request.price.currency.clone(),
                booking_status: STATUS_NEW,
                payment_status: PAYMENT_AWAITING,
                source: marker(request.reservation_id),
                remark,
                customer_detail: NewCustomer {
                    firstname,
                    lastname,
                    email: request.email.as_str().to_owned(),
                    phone: request.phone.as_str().to_owned(),
                },
                price_details: PriceDetails {
                    total_price_with_tax: format_minor(
                        request.price.total_minor,
                        &request.price.currency,
                    ),
                },
                room_types: vec![new_line(
                    u64::from(id_room_type),
                    &request.stay,
                    request.guests,
                )],
            },
        };
        let http = self
            .request(Method::POST, "bookings")
            .header("Output-Format", "JSON")
            .json(&body);
        // Success is 200 (not 201) with the booking document; `call` takes any 2xx.
        let answer = self
            .call(http, Subject::room_type(&request.room_type))
            .await?;
        let record = json::booking(&answer)
            .ok_or_else(|| errors::malformed("a booking document", &answer))?;
        let mut booking = self.to_booking(&record, None)?;
        booking.reservation_id = request.reservation_id;
        Ok(booking)
    }

    pub(super) async fn find(&self, reservation_id: Uuid) -> Result<Option<PmsBooking>, PmsError> {
        match self.find_record(reservation_id).await? {
            Some((record, state)) => self.to_booking(&record, state).map(Some),
            None => Ok(None),
        }
    }

    pub(super) async fn get(&self, pms_ref: &str) -> Result<PmsBooking, PmsError> {
        let (record, state) = self.read_both(pms_ref).await?;
        self.to_booking(&record, state)
    }

    /// The e-mail PUT matches the booking's customer by, and the hotel it belongs to.
    fn owner(&self, record: &BookingRecord) -> Result<(String, u64), PmsError> {
        let email = record
            .customer()
            .map(|c| c.email.trim().to_owned())
            .filter(|e| !e.is_empty())
            .ok_or_else(|| {
                PmsError::Malformed(format!("booking {} has no customer e-mail", record.id))
            })?;
        // A booking whose lines are all gone shows `id_property` 0.
        let id_property = record
            .id_property
            .filter(|id| *id != 0)
            .unwrap_or(u64::from(self.settings.id_hotel));
        Ok((email, id_property))
    }

    async fn put(
        &self,
        update: BookingUpdate,
        subject: Subject<'_>,
    ) -> Result<BookingRecord, PmsError> {
        let http = self
            .request(Method::PUT, "bookings")
            .header("Output-Format", "JSON")
            .json(&BookingBody { booking: update });
        let answer = self.call(http, subject).await?;
        json::booking(&answer).ok_or_else(|| errors::malformed("a booking document", &answer))
    }

    pub(super) async fn modify(
        &self,
        pms_ref: &str,
        room_type: &RoomType,
        stay: &StayDates,
        guests: u8,
    ) -> Result<PmsBooking, PmsError> {
        let id_room_type = self.room_type_id(room_type)?;
        let (record, state) = self.read_both(pms_ref).await?;
        // QloApps' PUT does not check the order's state: changing a cancelled booking would put
        // its rooms back into a dead order. Refused here, as the back office refuses it.
        if is_cancelled(state) {
            return Err(PmsError::Refused(PmsFault {
                status: 409,
                code: None,
                message: format!(
                    "booking {pms_ref} is cancelled in the PMS (order state {}) and cannot be changed",
                    state.unwrap_or_default()
                ),
            }));
        }
        let (email, id_property) = self.owner(&record)?;
        let update = BookingUpdate {
            id: record.id,
            id_property,
            booking_status: None,
            customer_detail: CustomerEmail { email },
            room_types: vec![new_line(u64::from(id_room_type), stay, guests)],
        };
        let subject = Subject {
            room_type: Some(room_type),
            booking: Some(pms_ref),
        };
        let changed = self.put(update, subject).await?;
        self.to_booking(&changed, state)
    }

    pub(super) async fn cancel(&self, pms_ref: &str) -> Result<(), PmsError> {
        let (record, state) = self.read_both(pms_ref).await?;
        // Cancelling twice succeeds without a second PUT: each PUT with status 3 adds an order
        // history entry (and its e-mail to the guest).
        if is_cancelled(state) {
            return Ok(());
        }
        let (email, id_property) = self.owner(&record)?;
        let update = BookingUpdate {
            id: record.id,
            id_property,
            booking_status: Some(STATUS_CANCELLED),
            customer_detail: CustomerEmail { email },
            room_types: record.lines().iter().map(same_line).collect(),
        };
        self.put(update, Subject::booking(pms_ref)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_foreign_sources_are_nil() {
        let id = Uuid::now_v7();
        assert_eq!(reservation_of(&marker(id)), id);
        assert_eq!(reservation_of("webservice"), Uuid::nil());
        assert_eq!(reservation_of("conserje-nope"), Uuid::nil());
    }

    #[test]
    fn names_split_on_the_last_space_and_pass_qloapps_validation() {
        assert_eq!(
            split_name("Ana María López"),
            ("Ana María".into(), "López".into())
        );
        assert_eq!(split_name("Cher"), ("Cher".into(), "Cher".into()));
        assert_eq!(
            split_name("Ana (Ms) Pérez 2"),
            ("Ana Ms".into(), "Pérez".into())
        );
        assert_eq!(split_name("  "), ("Guest".into(), "Guest".into()));
        assert_eq!(clean_name(&"x".repeat(40)).chars().count(), NAME_MAX_CHARS);
    }

    #[test]
    fn only_cancelled_and_refunded_orders_are_cancelled() {
        assert!(is_cancelled(Some(4)) && is_cancelled(Some(5)));
        assert!(!is_cancelled(Some(2)) && !is_cancelled(Some(6)) && !is_cancelled(None));
    }

    #[test]
    fn a_booking_counts_back_only_where_it_overlaps() {
        let record = json::booking(
            r#"{"booking":{"id":3,"associations":{"room_types":[
            {"id_room_type":11,"checkin_date":"2030-05-02 00:00:00","checkout_date":"2030-05-04 00:00:00",
             "number_of_rooms":1,"rooms":[{"id_room":1,"adults":2,"child":0}]}]}}}"#,
        )
        .unwrap();
        let stay = |a: u32, b: u32| StayDates {
            check_in: NaiveDate::from_ymd_opt(2030, 5, a).unwrap(),
            check_out: NaiveDate::from_ymd_opt(2030, 5, b).unwrap(),
        };
        assert_eq!(rooms_overlapping(&record, 11, &stay(1, 3)), 1);
        assert_eq!(
            rooms_overlapping(&record, 11, &stay(4, 6)),
            0,
            "check-out day is free"
        );
        assert_eq!(rooms_overlapping(&record, 11, &stay(1, 2)), 0);
        assert_eq!(rooms_overlapping(&record, 12, &stay(1, 3)), 0);
    }
}
