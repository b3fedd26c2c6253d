//! The QloApps 1.6.1 webservice (PrestaShop 1.6's, rebranded) for one hotel, as
//! `/work/shared/pms-qloapps.md` describes it from the QloApps source.
//!
//! Served under `{base}/api/…` (and `{base}/webservice/dispatcher.php?url=…`): the resource list,
//! `hotel_ari` (availability and rates, XML in), `bookings` (create, read, modify; JSON or XML
//! in), and read-only `orders`, `room_types` and `hotels`. Authentication, output format,
//! envelopes and error codes are QloApps' own, including its traps — a plain-text 401 without a
//! key, `200` for a created booking, `[]` for an empty JSON list, `adult` not `adults`, CDATA
//! values that QloApps silently loses. Each module says which traps it keeps.
//!
//! The simulator also misbehaves on demand, as a PMS does: latency and spikes, failure statuses,
//! hangs, connection resets (real RSTs, also on kept-alive connections), the webservice switched
//! off, and the double-booking trap — a booking committed whose answer never arrives.

mod api;
mod ari;
mod booking_doc;
mod bookings;
mod entities;
mod faults;
mod server;
mod store;
mod wire;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;

use super::{lock, Server};
use faults::Faults;
use store::{now_text, parse_money, releases_rooms, Line, Order, Store};

/// A room type of the simulated hotel.
#[derive(Clone, Debug)]
pub struct SimRoomType {
    /// The room type's product id (`id_room_type`, `room_types/{id}`).
    pub id: u32,
    pub name: String,
    /// How many rooms of the type exist.
    pub rooms: u32,
    /// A night's price, tax excluded: `"100.00"`.
    pub price_per_night: String,
    /// The tax rate in percent: `10`.
    pub tax_percent: u32,
    /// The base occupancy: what a booking gets when it sends no (or only `adults`) occupancy.
    pub base_adults: u32,
}

/// The one hotel the simulator runs.
#[derive(Clone, Debug)]
pub struct SimHotel {
    pub id_hotel: u32,
    pub name: String,
    /// The shop's default currency, ISO code (`"EUR"`).
    pub currency: String,
    pub room_types: Vec<SimRoomType>,
}

impl SimHotel {
    /// Hotel 1, EUR, 10 % tax, base occupancy 2: Standard (11, €100), Double (12, €140),
    /// King (13, €180) with 5 rooms each, Suite (14, €260) with 2.
    pub fn sample() -> Self {
        let room_type = |id, name: &str, rooms, price: &str| SimRoomType {
            id,
            name: name.to_owned(),
            rooms,
            price_per_night: price.to_owned(),
            tax_percent: 10,
            base_adults: 2,
        };
        Self {
            id_hotel: 1,
            name: "Hotel Conserje".to_owned(),
            currency: "EUR".to_owned(),
            room_types: vec![
                room_type(11, "Standard", 5, "100.00"),
                room_type(12, "Double", 5, "140.00"),
                room_type(13, "King", 5, "180.00"),
                room_type(14, "Suite", 2, "260.00"),
            ],
        }
    }
}

/// An order as the simulator holds it, for assertions.
#[derive(Clone, Debug, PartialEq)]
pub struct SimBooking {
    /// The order id, which is also the booking id.
    pub id_order: u32,
    pub id_customer: u32,
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    pub phone: Option<String>,
    /// `orders.source`: what the client sent, or the shop domain.
    pub source: String,
    /// The order's messages (`remark` on create, each new `remark` on modify).
    pub remarks: Vec<String>,
    pub lines: Vec<SimLine>,
    /// The order state id (1 awaiting payment, 2 paid, 4 cancelled, 5 refunded, 8 partial…).
    pub current_state: u32,
    /// The order reached a state that released its rooms (4, 5 or 6).
    pub cancelled: bool,
}

/// One room of an order for one stay.
#[derive(Clone, Debug, PartialEq)]
pub struct SimLine {
    pub id_room_type: u32,
    pub id_room: u32,
    pub date_from: NaiveDate,
    pub date_to: NaiveDate,
    pub adults: u32,
    pub children: u32,
}

/// What the request handlers share.
struct Shared {
    api_key: String,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    base_url: String,
    store: Mutex<Store>,
    faults: Faults,
    /// (method, path) of every request received, faulted ones included.
    calls: Mutex<Vec<(String, String)>>,
}

impl Shared {
    fn record(&self, method: &str, path: &str) {
        lock(&self.calls).push((method.to_owned(), path.to_owned()));
    }
}

/// A local QloApps webservice; it stops when dropped.
pub struct QloAppsSimulator {
    server: Server,
    shared: Arc<Shared>,
}

impl QloAppsSimulator {
    /// Starts a QloApps for `hotel` whose only webservice key is `api_key` (32 characters, as
    /// QloApps generates them; any other length is refused like QloApps refuses it).
    pub async fn start(api_key: &str, hotel: SimHotel) -> Self {
        let mut server = Server::bind().await;
        let shared = Arc::new(Shared {
            api_key: api_key.to_owned(),
            base_url: server.base_url(),
            store: Mutex::new(Store::new(hotel)),
            faults: Faults::default(),
            calls: Mutex::new(Vec::new()),
        });
        // The house `Server` serves an axum router; this simulator needs its own accept loop,
        // so it takes the listener and installs the task itself (dropping `Server` aborts it).
        let listener = server
            .listener
            .take()
            .expect("a fresh server has its listener");
        server.task = Some(tokio::spawn(server::accept_loop(
            listener,
            Arc::clone(&shared),
        )));
        Self { server, shared }
    }

    /// The shop base, `http://127.0.0.1:PORT`; the webservice is at `{base}/api/`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// Every order, cancelled ones included, by id.
    pub fn bookings(&self) -> Vec<SimBooking> {
        let store = lock(&self.shared.store);
        store.orders.iter().map(|o| store.sim_booking(o)).collect()
    }

    /// The orders still holding their rooms.
    pub fn active_bookings(&self) -> Vec<SimBooking> {
        self.bookings()
            .into_iter()
            .filter(|b| !b.cancelled)
            .collect()
    }

    /// Requests received, faulted ones included.
    pub fn calls(&self) -> usize {
        lock(&self.shared.calls).len()
    }

    /// Requests received with `method` whose path starts with `path_prefix` (`"/api/bookings"`).
    pub fn calls_to(&self, method: &str, path_prefix: &str) -> usize {
        lock(&self.shared.calls)
            .iter()
            .filter(|(m, p)| m.eq_ignore_ascii_case(method) && p.starts_with(path_prefix))
            .count()
    }

    /// Makes the type have `rooms` rooms (staff taking rooms out of service, or adding some).
    /// Removed rooms keep their bookings but are no longer offered.
    pub fn set_rooms(&self, id_room_type: u32, rooms: u32) {
        lock(&self.shared.store).set_rooms(id_room_type, rooms);
    }

    /// Overrides one night's price of a room type, tax excluded (`"120.00"`).
    pub fn set_price(&self, id_room_type: u32, night: NaiveDate, price_per_night: &str) {
        let price = parse_money(price_per_night)
            .unwrap_or_else(|| panic!("{price_per_night:?} is not a price"));
        let mut store = lock(&self.shared.store);
        assert!(
            store.room_type(id_room_type).is_some(),
            "room type {id_room_type} is not in the simulated hotel"
        );
        store.prices.push((id_room_type, night, price));
    }

    /// A booking made at the front desk, not through the API: one room of the type for
    /// `[from, to)`, for a walk-in customer, awaiting payment. Returns the order id.
    ///
    /// Panics when no room of the type is free on every night (a test set-up mistake).
    pub fn book_directly(&self, id_room_type: u32, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut store = lock(&self.shared.store);
        let room_type = store
            .room_type(id_room_type)
            .cloned()
            .unwrap_or_else(|| panic!("room type {id_room_type} is not in the simulated hotel"));
        let room = store
            .free_rooms(id_room_type, from, to)
            .first()
            .map(|r| r.id)
            .unwrap_or_else(|| panic!("no {} room is free from {from} to {to}", room_type.name));
        let id_customer = match store.customer_by_email("front-desk@example.com") {
            Some(customer) => customer.id,
            None => store.add_customer(store::Customer {
                id: 0,
                firstname: "Walk-in".to_owned(),
                lastname: "Guest".to_owned(),
                email: "front-desk@example.com".to_owned(),
                phone: String::new(),
            }),
        };
        let (price, tax) = store.line_price(&room_type, from, to, None, None);
        let line = Line {
            id_hotel_booking: store.new_line_id(),
            id_room_type,
            id_room: room,
            date_from: from,
            date_to: to,
            adults: room_type.base_adults,
            children: 0,
            price,
            tax,
        };
        let id = store.next_order_id();
        let now = now_text();
        let order = Order {
            id,
            reference: store.new_reference(id),
            id_customer,
            id_lang: 1,
            source: self.base_url().trim_start_matches("http://").to_owned(),
            payment: "Pay at hotel".to_owned(),
            current_state: 1,
            released: releases_rooms(1),
            lines: vec![line],
            remarks: Vec::new(),
            paid: 0,
            date_add: now.clone(),
            date_upd: now,
        };
        store.orders.push(order);
        id
    }

    /// `PS_ONE_PHONE_AT_LEAST`: on (a fresh install's default) a booking without a phone is
    /// refused with "Please provide a valid phone number.".
    pub fn set_phone_required(&self, on: bool) {
        lock(&self.shared.store).phone_required = on;
    }

    /// Every request waits `latency` before it is handled (faulted ones too, resets and hangs
    /// excepted).
    pub fn set_latency(&self, latency: Duration) {
        self.shared.faults.set_latency(latency);
    }

    /// That share of requests (exactly ⌊n × share⌋ of the first n, evenly spread: 0.1 is every
    /// tenth) waits `extra` on top of the latency.
    pub fn set_spikes(&self, share: f64, extra: Duration) {
        self.shared.faults.set_spikes(share, extra);
    }

    /// The next `count` requests answer `status` with a QloApps error envelope (code 46, a
    /// message saying it was injected) in the requested format; nothing is done. The client
    /// sees an HTTP error status.
    pub fn fail_next(&self, count: u32, status: u16) {
        assert!(
            hyper::StatusCode::from_u16(status).is_ok(),
            "{status} is not an HTTP status"
        );
        self.shared.faults.fail_next(count, status);
    }

    /// Every request fails like `fail_next` with `status` until `None` (a PMS down for minutes).
    pub fn set_failing(&self, status: Option<u16>) {
        if let Some(status) = status {
            assert!(
                hyper::StatusCode::from_u16(status).is_ok(),
                "{status} is not an HTTP status"
            );
        }
        self.shared.faults.set_failing(status);
    }

    /// The next `count` requests are held for `for_`, then their connection is closed without
    /// an answer; nothing is done. The client times out (or, if it waits longer, sees the
    /// connection close).
    pub fn hang_next(&self, count: u32, for_: Duration) {
        self.shared.faults.hang_next(count, for_);
    }

    /// The next `count` successful `POST /api/bookings` commit the booking and then wait `for_`
    /// before answering: a client that times out first has made a booking it does not know of.
    pub fn commit_then_hang_next(&self, count: u32, for_: Duration) {
        self.shared.faults.commit_then_hang_next(count, for_);
    }

    /// The next `count` requests are read and then their connection is reset (RST, no byte of
    /// answer), kept-alive connections included: the client sees a connection error, never a
    /// status. Nothing is done.
    pub fn reset_next(&self, count: u32) {
        self.shared.faults.reset_next(count);
    }

    /// Every request is reset like `reset_next` until turned off (the PMS host is down).
    pub fn set_resetting(&self, on: bool) {
        self.shared.faults.set_resetting(on);
    }

    /// Off: every authenticated call answers 503, code 22 ("The QloApps webservice is
    /// disabled…"); a call without any key still gets the plain 401 first, as in QloApps.
    pub fn set_webservice_enabled(&self, on: bool) {
        self.shared.faults.set_webservice_enabled(on);
    }

    /// Back to a healthy PMS: no latency, spikes, failures, hangs or resets, webservice on.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }
}
