//! The hotel's state: rooms, nightly prices, customers and orders.
//!
//! Inventory is per room and per night: a room is taken on night `n` when a line of an order
//! whose rooms are not released covers it (`date_from ≤ n < date_to`). Money is kept in
//! millionths (QloApps' `decimal(20,6)` columns), so sums are exact and rounding happens only
//! where QloApps rounds (`Tools::ps_round`, half up, to cents).

use chrono::{Days, NaiveDate};

use super::{SimBooking, SimHotel, SimLine, SimRoomType};

/// An amount in millionths of the currency unit.
pub(super) type Money = i64;

pub(super) const UNIT: Money = 1_000_000;

/// `"100.00"`, `"99.5"`, `"-3"` → millionths; more than six decimals are cut.
pub(super) fn parse_money(text: &str) -> Option<Money> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: Money = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut micros: Money = 0;
    for (i, digit) in fraction.chars().take(6).enumerate() {
        let digit = Money::from(digit.to_digit(10)?);
        micros += digit * 10_i64.pow(5 - i as u32);
    }
    let value = whole.checked_mul(UNIT)?.checked_add(micros)?;
    Some(if negative { -value } else { value })
}

/// `Tools::ps_round($value, 2)` with the default half-up mode.
pub(super) fn round2(value: Money) -> Money {
    let cents = 10_000;
    let half = cents / 2;
    if value >= 0 {
        (value + half) / cents * cents
    } else {
        -((-value + half) / cents * cents)
    }
}

pub(super) fn as_f64(value: Money) -> f64 {
    value as f64 / UNIT as f64
}

/// A `decimal(20,6)` column as MySQL returns it: `"242.000000"`.
pub(super) fn decimal6(value: Money) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let value = value.abs();
    format!("{sign}{}.{:06}", value / UNIT, value % UNIT)
}

/// `price × (100 + percent) / 100`.
pub(super) fn with_tax(price: Money, percent: u32) -> Money {
    price * (100 + Money::from(percent)) / 100
}

#[derive(Clone, Debug)]
pub(super) struct Room {
    pub(super) id: u32,
    pub(super) id_room_type: u32,
    pub(super) number: String,
    /// `false` once `set_rooms` took it out of the inventory; its old lines keep pointing at it.
    pub(super) active: bool,
}

#[derive(Clone, Debug)]
pub(super) struct Customer {
    pub(super) id: u32,
    pub(super) firstname: String,
    pub(super) lastname: String,
    pub(super) email: String,
    pub(super) phone: String,
}

/// One room of an order for one stay (an `htl_booking_detail` row).
#[derive(Clone, Debug)]
pub(super) struct Line {
    pub(super) id_hotel_booking: u32,
    pub(super) id_room_type: u32,
    pub(super) id_room: u32,
    pub(super) date_from: NaiveDate,
    pub(super) date_to: NaiveDate,
    pub(super) adults: u32,
    pub(super) children: u32,
    /// The whole stay, tax excluded, rounded to cents.
    pub(super) price: Money,
    pub(super) tax: Money,
}

#[derive(Clone, Debug)]
pub(super) struct Order {
    pub(super) id: u32,
    pub(super) reference: String,
    pub(super) id_customer: u32,
    pub(super) id_lang: u32,
    pub(super) source: String,
    pub(super) payment: String,
    pub(super) current_state: u32,
    /// Set when the order reached a state that releases its rooms (4, 5 or 6); QloApps never
    /// takes them back, even if the state later changes again.
    pub(super) released: bool,
    pub(super) lines: Vec<Line>,
    pub(super) remarks: Vec<String>,
    /// `total_paid_real`: what was actually paid.
    pub(super) paid: Money,
    pub(super) date_add: String,
    pub(super) date_upd: String,
}

impl Order {
    pub(super) fn total_excl(&self) -> Money {
        self.lines.iter().map(|l| l.price).sum()
    }

    pub(super) fn total_incl(&self) -> Money {
        self.lines.iter().map(|l| l.price + l.tax).sum()
    }
}

/// Order states whose `actionOrderStatusPostUpdate` releases the rooms.
pub(super) fn releases_rooms(state: u32) -> bool {
    matches!(state, 4..=6)
}

#[derive(Debug)]
pub(super) struct Store {
    pub(super) hotel: SimHotel,
    pub(super) rooms: Vec<Room>,
    /// Per-night overrides of a room type's price, tax excluded (feature prices).
    pub(super) prices: Vec<(u32, NaiveDate, Money)>,
    pub(super) customers: Vec<Customer>,
    pub(super) orders: Vec<Order>,
    pub(super) next_line_id: u32,
    /// `PS_ONE_PHONE_AT_LEAST`, on in a fresh install.
    pub(super) phone_required: bool,
}

impl Store {
    pub(super) fn new(hotel: SimHotel) -> Self {
        let mut store = Self {
            hotel,
            rooms: Vec::new(),
            prices: Vec::new(),
            customers: Vec::new(),
            orders: Vec::new(),
            next_line_id: 1,
            phone_required: true,
        };
        let types: Vec<(u32, u32)> = store
            .hotel
            .room_types
            .iter()
            .map(|t| (t.id, t.rooms))
            .collect();
        for (id, rooms) in types {
            store.set_rooms(id, rooms);
        }
        store
    }

    pub(super) fn room_type(&self, id: u32) -> Option<&SimRoomType> {
        self.hotel.room_types.iter().find(|t| t.id == id)
    }

    /// Keeps exactly `count` active rooms of the type: reactivates or adds rooms at the end,
    /// or takes the highest-numbered ones out.
    pub(super) fn set_rooms(&mut self, id_room_type: u32, count: u32) {
        let Some(position) = self
            .hotel
            .room_types
            .iter()
            .position(|t| t.id == id_room_type)
        else {
            panic!("room type {id_room_type} is not in the simulated hotel");
        };
        self.hotel.room_types[position].rooms = count;
        let mut kept = 0;
        for room in self
            .rooms
            .iter_mut()
            .filter(|r| r.id_room_type == id_room_type)
        {
            room.active = kept < count;
            kept += 1;
        }
        while kept < count {
            let id = self.rooms.len() as u32 + 1;
            kept += 1;
            self.rooms.push(Room {
                id,
                id_room_type,
                number: format!("{}{:02}", position + 1, kept),
                active: true,
            });
        }
    }

    pub(super) fn room(&self, id: u32) -> Option<&Room> {
        self.rooms.iter().find(|r| r.id == id)
    }

    pub(super) fn active_rooms(&self, id_room_type: u32) -> impl Iterator<Item = &Room> {
        self.rooms
            .iter()
            .filter(move |r| r.active && r.id_room_type == id_room_type)
    }

    /// Whether some order other than `except` holds `room` on `night`.
    pub(super) fn taken(&self, room: u32, night: NaiveDate, except: Option<u32>) -> bool {
        self.orders
            .iter()
            .filter(|o| !o.released && Some(o.id) != except)
            .flat_map(|o| &o.lines)
            .any(|l| l.id_room == room && l.date_from <= night && night < l.date_to)
    }

    /// Whether `room` is active and free on every night of `[from, to)`.
    pub(super) fn free(&self, room: &Room, from: NaiveDate, to: NaiveDate) -> bool {
        room.active && nights(from, to).all(|night| !self.taken(room.id, night, None))
    }

    /// The active rooms of the type free on every night of `[from, to)`, by id.
    pub(super) fn free_rooms(
        &self,
        id_room_type: u32,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Vec<Room> {
        self.active_rooms(id_room_type)
            .filter(|r| self.free(r, from, to))
            .cloned()
            .collect()
    }

    /// The room type's price for one night, tax excluded.
    pub(super) fn night_price(&self, room_type: &SimRoomType, night: NaiveDate) -> Money {
        self.prices
            .iter()
            .rev()
            .find(|(id, date, _)| *id == room_type.id && *date == night)
            .map(|(_, _, price)| *price)
            .unwrap_or_else(|| parse_money(&room_type.price_per_night).unwrap_or(0))
    }

    /// The stay's price (tax excluded, tax included), unrounded.
    pub(super) fn stay_price(
        &self,
        room_type: &SimRoomType,
        from: NaiveDate,
        to: NaiveDate,
    ) -> (Money, Money) {
        nights(from, to).fold((0, 0), |(excl, incl), night| {
            let price = self.night_price(room_type, night);
            (excl + price, incl + with_tax(price, room_type.tax_percent))
        })
    }

    pub(super) fn customer(&self, id: u32) -> Option<&Customer> {
        self.customers.iter().find(|c| c.id == id)
    }

    /// MySQL's default collation compares e-mail addresses case-insensitively.
    pub(super) fn customer_by_email(&self, email: &str) -> Option<&Customer> {
        self.customers
            .iter()
            .find(|c| c.email.eq_ignore_ascii_case(email.trim()))
    }

    pub(super) fn add_customer(&mut self, mut customer: Customer) -> u32 {
        customer.id = self.customers.len() as u32 + 1;
        let id = customer.id;
        self.customers.push(customer);
        id
    }

    pub(super) fn order(&self, id: u32) -> Option<&Order> {
        self.orders.iter().find(|o| o.id == id)
    }

    pub(super) fn order_mut(&mut self, id: u32) -> Option<&mut Order> {
        self.orders.iter_mut().find(|o| o.id == id)
    }

    pub(super) fn next_order_id(&self) -> u32 {
        self.orders.len() as u32 + 1
    }

    /// `Order::generateReference`: nine capital letters, unique.
    pub(super) fn new_reference(&self, id_order: u32) -> String {
        let mut seed = u64::from(id_order).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        loop {
            let reference: String = (0..9)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    char::from(b'A' + (seed % 26) as u8)
                })
                .collect();
            if !self.orders.iter().any(|o| o.reference == reference) {
                return reference;
            }
        }
    }

    /// A price for a line: the given stay total or the computed one, and its tax.
    pub(super) fn line_price(
        &self,
        room_type: &SimRoomType,
        from: NaiveDate,
        to: NaiveDate,
        price: Option<Money>,
        tax: Option<Money>,
    ) -> (Money, Money) {
        let (excl, incl) = self.stay_price(room_type, from, to);
        match price {
            Some(price) => {
                let price = round2(price);
                let tax =
                    tax.unwrap_or_else(|| round2(price * Money::from(room_type.tax_percent) / 100));
                (price, tax)
            }
            None => {
                let (excl, incl) = (round2(excl), round2(incl));
                (excl, tax.unwrap_or(incl - excl))
            }
        }
    }

    pub(super) fn new_line_id(&mut self) -> u32 {
        let id = self.next_line_id;
        self.next_line_id += 1;
        id
    }

    pub(super) fn sim_booking(&self, order: &Order) -> SimBooking {
        let customer = self.customer(order.id_customer);
        let field = |f: fn(&Customer) -> &String| customer.map(f).cloned().unwrap_or_default();
        let phone = field(|c| &c.phone);
        SimBooking {
            id_order: order.id,
            id_customer: order.id_customer,
            email: field(|c| &c.email),
            firstname: field(|c| &c.firstname),
            lastname: field(|c| &c.lastname),
            phone: (!phone.is_empty()).then_some(phone),
            source: order.source.clone(),
            remarks: order.remarks.clone(),
            lines: order
                .lines
                .iter()
                .map(|l| SimLine {
                    id_room_type: l.id_room_type,
                    id_room: l.id_room,
                    date_from: l.date_from,
                    date_to: l.date_to,
                    adults: l.adults,
                    children: l.children,
                })
                .collect(),
            current_state: order.current_state,
            cancelled: order.released,
        }
    }
}

/// The nights of a stay: `from` up to, not including, `to`.
pub(super) fn nights(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    std::iter::successors(Some(from), |night| night.checked_add_days(Days::new(1)))
        .take_while(move |night| *night < to)
}

/// `Y-m-d H:i:s` of now, in local time like PHP's `date()`.
pub(super) fn now_text() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `Validate::isDate`: `Y-m-d` (one-digit month and day allowed) with an optional ` H:i:s`.
pub(super) fn parse_php_date(text: &str) -> Option<NaiveDate> {
    let (date, time) = match text.split_once(' ') {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    if let Some(time) = time {
        let parts: Vec<&str> = time.split(':').collect();
        let well_formed = parts.len() == 3
            && parts
                .iter()
                .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_digit()));
        if !well_formed {
            return None;
        }
    }
    let mut parts = date.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit())
    };
    if parts.next().is_some() || !digits(year, 4, 4) || !digits(month, 1, 2) || !digits(day, 1, 2) {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_and_rounds_like_ps_round() {
        assert_eq!(parse_money("100.00"), Some(100 * UNIT));
        assert_eq!(parse_money("0.005"), Some(5_000));
        assert_eq!(round2(5_000), 10_000);
        assert_eq!(decimal6(242 * UNIT), "242.000000");
        assert_eq!(parse_money("abc"), None);
    }

    #[test]
    fn php_dates() {
        assert!(parse_php_date("2025-1-5").is_some());
        assert!(parse_php_date("2025-01-05 00:00:00").is_some());
        assert!(parse_php_date("2025-02-30").is_none());
        assert!(parse_php_date("05/01/2025").is_none());
    }
}
