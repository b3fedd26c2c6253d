//! `bookings` (`WebserviceSpecificManagementBookings`, new in 1.6.1): order-level booking
//! create, read and modify. The booking id is the order id.
//!
//! Traps kept on purpose, each as QloApps 1.6.1 has it:
//! - create answers **200**, not 201, with the same document `GET` returns;
//! - validation failures are HTTP 400 with the internal code **404**;
//! - a room's adults are read from `adult` (singular); `adults` is ignored and the room type's
//!   base occupancy used; `child` counts only when `child_ages` is sent too, else it is 0;
//! - a phone is required (`PS_ONE_PHONE_AT_LEAST`, on in a fresh install);
//! - `GET` shows neither the status nor the reference (read `orders/{id}` for those);
//! - in XML an empty value or list is rendered `0` (`<cart_rules><![CDATA[0]]></cart_rules>`);
//! - `PUT` matches lines on (room type, check-in, check-out); everything unmatched is removed
//!   and everything new is added after an availability check in which the order's own old
//!   rooms still count as taken (QloApps removes them last).

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::api::{Reply, Request};
use super::ari::is_unsigned_int;
use super::booking_doc::{list, render, schema};
use super::store::{
    now_text, parse_money, parse_php_date, releases_rooms, round2, Customer, Line, Money, Order,
    Store,
};
use super::wire::{parse_xml, php_int, php_str, truthy, ApiError};

pub(super) fn handle(store: &mut Store, request: &Request<'_>) -> Result<Reply, ApiError> {
    match request.method.as_str() {
        "GET" | "HEAD" => Ok(if let Some(id) = request.id_segment() {
            let id = u32::try_from(php_int(&Value::String(id.to_owned()))).unwrap_or(0);
            match store.order(id) {
                Some(order) => Reply::ok(render(store, order, request.format)),
                None => Reply::not_found(),
            }
        } else if request.query.get("schema").is_some() {
            Reply::ok(schema(request.format))
        } else {
            Reply::ok(list(store, request))
        }),
        "POST" => create(store, request),
        "PUT" => update(store, request),
        other => Err(ApiError::new(
            405,
            23,
            format!("Method {other} is not valid"),
        )),
    }
}

fn invalid_request() -> ApiError {
    ApiError::new(500, 127, "Invalid request.")
}

/// `getRequestParams('booking')` and `formatRequestData`: the `booking` object with its
/// associations merged into the top level (an association wins over a top-level key).
fn request_params(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let text = String::from_utf8_lossy(body);
    let decoded = match serde_json::from_str::<Value>(&text) {
        // `if ($array = json_decode(…))`: a falsy JSON value falls through to the XML branch.
        Ok(json) if truthy(&json) => json.get("booking").cloned().ok_or_else(invalid_request)?,
        _ => parse_xml(&text)
            .and_then(|root| root.php_value().get("booking").cloned())
            .ok_or_else(invalid_request)?,
    };
    let Value::Object(mut data) = decoded else {
        return Err(invalid_request());
    };
    if let Some(Value::Object(associations)) = data.remove("associations") {
        data.extend(associations);
    }
    Ok(data)
}

/// A list in any of the accepted shapes: a plain array, `{"room_type":[…]}` or
/// `{"room_type":{…}}`.
fn list_of(value: Option<&Value>, singular: &str) -> Vec<Value> {
    match value {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Object(map)) => match map.get(singular) {
            Some(Value::Array(items)) => items.clone(),
            Some(item @ Value::Object(_)) => vec![item.clone()],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// One requested room.
#[derive(Clone, Debug, Default)]
struct RoomRequest {
    id_room: Option<u32>,
    /// From `adult` (truthy) only.
    adults: Option<u32>,
    children: u32,
    price: Option<Money>,
    tax: Option<Money>,
    /// Services or facilities were asked for (the simulated hotel has none).
    extras: bool,
}

/// One requested (room type, stay) after `formatRoomTypesInRequestData`.
#[derive(Clone, Debug)]
struct TypeRequest {
    id_room_type: Option<Value>,
    checkin: Option<Value>,
    checkout: Option<Value>,
    number_of_rooms: Option<i64>,
    /// `None` when no `rooms` key was sent.
    rooms: Option<Vec<RoomRequest>>,
}

impl TypeRequest {
    fn dates(&self) -> Option<(NaiveDate, NaiveDate)> {
        let date = |v: &Option<Value>| {
            v.as_ref()
                .and_then(php_str)
                .and_then(|s| parse_php_date(&s))
        };
        Some((date(&self.checkin)?, date(&self.checkout)?))
    }

    fn type_id(&self) -> u32 {
        self.id_room_type
            .as_ref()
            .map_or(0, |v| u32::try_from(php_int(v)).unwrap_or(0))
    }

    /// The `id_room_type` + check-in + check-out join key QloApps merges and matches on.
    fn key(&self) -> (u32, Option<(NaiveDate, NaiveDate)>) {
        (self.type_id(), self.dates())
    }
}

fn room_request(value: &Value) -> RoomRequest {
    let field = |name: &str| value.get(name).filter(|v| !v.is_null());
    let has_child_ages = match field("child_ages") {
        Some(Value::Object(map)) => map.get("child_age").is_some_and(truthy),
        Some(Value::Array(items)) => !items.is_empty(),
        _ => false,
    };
    let extras = ["services", "facilities"]
        .iter()
        .any(|name| field(name).is_some_and(truthy));
    RoomRequest {
        id_room: field("id_room").map(|v| u32::try_from(php_int(v)).unwrap_or(0)),
        adults: field("adult")
            .filter(|v| truthy(v))
            .map(|v| u32::try_from(php_int(v)).unwrap_or(0)),
        children: if has_child_ages {
            field("child").map_or(0, |v| u32::try_from(php_int(v)).unwrap_or(0))
        } else {
            0
        },
        price: field("unit_price_without_tax")
            .and_then(php_str)
            .and_then(|s| parse_money(&s)),
        tax: field("total_tax")
            .filter(|v| truthy(v))
            .and_then(php_str)
            .and_then(|s| parse_money(&s)),
        extras,
    }
}

/// The requested room types, duplicates merged (their `number_of_rooms` added up).
fn type_requests(data: &Map<String, Value>) -> Vec<TypeRequest> {
    let mut merged: Vec<TypeRequest> = Vec::new();
    for item in list_of(data.get("room_types"), "room_type") {
        let field = |name: &str| item.get(name).filter(|v| !v.is_null()).cloned();
        let request = TypeRequest {
            id_room_type: field("id_room_type"),
            checkin: field("checkin_date"),
            checkout: field("checkout_date"),
            number_of_rooms: field("number_of_rooms").map(|v| php_int(&v)),
            rooms: item.get("rooms").map(|rooms| {
                list_of(Some(rooms), "room")
                    .iter()
                    .map(room_request)
                    .collect()
            }),
        };
        match merged.iter_mut().find(|m| m.key() == request.key()) {
            Some(existing) => {
                existing.number_of_rooms = Some(
                    existing.number_of_rooms.unwrap_or(0) + request.number_of_rooms.unwrap_or(0),
                );
                if request.rooms.is_some() {
                    existing.rooms = request.rooms;
                }
            }
            None => merged.push(request),
        }
    }
    merged
}

fn text(data: &Map<String, Value>, name: &str) -> Option<String> {
    data.get(name).and_then(php_str)
}

/// A non-empty (after trimming) text field of an object.
fn filled(object: Option<&Value>, name: &str) -> Option<String> {
    object
        .and_then(|o| o.get(name))
        .filter(|v| truthy(v))
        .and_then(php_str)
        .filter(|s| !s.trim().is_empty())
}

/// `Validate::isPrice`.
fn is_price(value: &str) -> bool {
    let (whole, fraction) = value
        .split_once('.')
        .map_or((value, None), |(w, f)| (w, Some(f)));
    (1..=10).contains(&whole.len())
        && whole.chars().all(|c| c.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
}

/// `validateRoomType`.
fn validate_type(store: &Store, request: &TypeRequest) -> Result<(), ApiError> {
    let is_date = |v: &Option<Value>| {
        v.as_ref()
            .and_then(php_str)
            .is_some_and(|s| parse_php_date(&s).is_some())
    };
    if request.id_room_type.is_none() {
        return Err(ApiError::booking("Id room type is missing"));
    }
    if !is_date(&request.checkin) {
        return Err(ApiError::booking("Invalid check in date in the request"));
    }
    if !is_date(&request.checkout) {
        return Err(ApiError::booking("Invalid check out date in the request"));
    }
    let Some(number) = request.number_of_rooms else {
        return Err(ApiError::booking("number of rooms is missing"));
    };
    if store.room_type(request.type_id()).is_none() {
        return Err(ApiError::booking("Invalid room type in the request"));
    }
    if let Some(rooms) = &request.rooms {
        if !rooms.is_empty() && rooms.len() as i64 != number {
            return Err(ApiError::booking(
                "Room count does not matches with the number of rooms",
            ));
        }
    }
    match request.dates() {
        // QloApps lets equal dates through and then books a zero-night stay; refused here.
        Some((from, to)) if from < to => Ok(()),
        _ => Err(ApiError::booking(
            "Invalid check in and check out dates in the request",
        )),
    }
}

/// `validateRequestedRoomTypes`: every type valid, enough rooms free for the whole stay, each
/// named room among them.
fn validate_availability(
    store: &Store,
    requests: &[TypeRequest],
    not_available: &str,
) -> Result<(), ApiError> {
    if requests.is_empty() {
        return Err(ApiError::booking(not_available));
    }
    for request in requests {
        validate_type(store, request)?;
        let Some((from, to)) = request.dates() else {
            return Err(ApiError::booking(not_available));
        };
        let free = store.free_rooms(request.type_id(), from, to);
        if (free.len() as i64) < request.number_of_rooms.unwrap_or(0) || free.is_empty() {
            return Err(ApiError::booking(not_available));
        }
        for room in request.rooms.iter().flatten() {
            if room
                .id_room
                .is_some_and(|id| !free.iter().any(|r| r.id == id))
            {
                return Err(ApiError::booking(not_available));
            }
            if room.extras {
                return Err(ApiError::booking(
                    "Invalid service or facility requested (the simulated hotel has none).",
                ));
            }
        }
    }
    Ok(())
}

/// `validateAddressFields`, without QloApps' country and state tables: any two-letter code is
/// a country, and no country needs a state or a zip code.
fn validate_address(customer: &Value) -> Result<(), ApiError> {
    let sent = ["address", "city", "country_code", "state_code", "zip"]
        .iter()
        .any(|f| customer.get(*f).is_some_and(|v| !v.is_null()));
    if !sent {
        return Ok(());
    }
    let present = |f: &str| customer.get(f).is_some_and(truthy);
    if !present("address") {
        return Err(ApiError::booking("Address is required."));
    }
    if !present("city") {
        return Err(ApiError::booking("City is required."));
    }
    if !present("country_code") {
        return Err(ApiError::booking("Country code is required."));
    }
    let code = customer
        .get("country_code")
        .and_then(php_str)
        .unwrap_or_default();
    if code.len() != 2 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(ApiError::booking("Invalid country code."));
    }
    Ok(())
}

/// A status field within `1..=max`, when sent.
fn in_range(data: &Map<String, Value>, name: &str, max: i64) -> bool {
    match data.get(name).filter(|v| !v.is_null()) {
        None => true,
        Some(value) => {
            let text = php_str(value).unwrap_or_default();
            is_unsigned_int(text.trim()) && (1..=max).contains(&php_int(value))
        }
    }
}

/// `validatePostRequest`, in its order.
fn validate_post(
    store: &Store,
    data: &Map<String, Value>,
    requests: &[TypeRequest],
) -> Result<(), ApiError> {
    if data.get("id").is_some_and(|v| !v.is_null()) {
        return Err(ApiError::booking(
            "id is forbidden when adding a new resource",
        ));
    }
    let currency_ok = data
        .get("currency")
        .filter(|v| truthy(v))
        .and_then(php_str)
        .is_some_and(|c| c.trim().eq_ignore_ascii_case(&store.hotel.currency));
    if !currency_ok {
        return Err(ApiError::booking("Please provide valid currency."));
    }
    let Some(customer) = data.get("customer_detail").filter(|v| truthy(v)) else {
        return Err(ApiError::booking("Customer details not found."));
    };
    validate_property(store, data)?;
    if let Some(id) = customer.get("id_customer").filter(|v| truthy(v)) {
        if u32::try_from(php_int(id))
            .ok()
            .and_then(|id| store.customer(id))
            .is_none()
        {
            return Err(ApiError::booking("Please provide a valid id_customer."));
        }
    }
    for (field, message) in [
        ("firstname", "Please provide a valid first name."),
        ("lastname", "Please provide a valid last name."),
        ("email", "Please provide a valid email."),
    ] {
        if filled(Some(customer), field).is_none() {
            return Err(ApiError::booking(message));
        }
    }
    if store.phone_required && filled(Some(customer), "phone").is_none() {
        return Err(ApiError::booking("Please provide a valid phone number."));
    }
    let prices = data.get("price_details");
    for (field, message) in [
        ("total_paid", "Invalid value for total paid."),
        (
            "total_price_with_tax",
            "Invalid value for total amount with tax.",
        ),
    ] {
        if let Some(value) = prices.and_then(|p| p.get(field)).filter(|v| truthy(v)) {
            if !php_str(value).is_some_and(|s| is_price(&s)) {
                return Err(ApiError::booking(message));
            }
        }
    }
    validate_address(customer)?;
    validate_availability(store, requests, "Requested room(s) not available.")?;
    if let Some(kind) = data
        .get("payment_detail")
        .and_then(|p| p.get("payment_type"))
        .filter(|v| !v.is_null())
    {
        let kind = php_str(kind).unwrap_or_default();
        if !matches!(kind.as_str(), "online" | "remote" | "pay at hotel") {
            return Err(ApiError::booking("Invalid payment type."));
        }
    }
    if !in_range(data, "booking_status", 4) {
        return Err(ApiError::booking("Invalid booking status."));
    }
    if !in_range(data, "payment_status", 3) {
        return Err(ApiError::booking("Invalid payment status."));
    }
    if data.get("cart_rules").is_some_and(truthy) {
        return Err(ApiError::booking(
            "Invalid cart rules. (the simulated hotel has no cart rules)",
        ));
    }
    Ok(())
}

fn validate_property(store: &Store, data: &Map<String, Value>) -> Result<(), ApiError> {
    let id = data.get("id_property").map_or(0, php_int);
    if id != i64::from(store.hotel.id_hotel) {
        return Err(ApiError::booking("Please provide a valid id_property."));
    }
    Ok(())
}

/// `processGuestDetails` + `processCustomer`: the customer by id, else by e-mail, else a new
/// one; a found customer takes the names and phone sent.
fn customer_for(store: &mut Store, customer: &Value) -> u32 {
    let by_id = customer
        .get("id_customer")
        .filter(|v| !v.is_null())
        .and_then(|v| u32::try_from(php_int(v)).ok())
        .and_then(|id| store.customer(id))
        .map(|c| c.id);
    let email = filled(Some(customer), "email").unwrap_or_default();
    let found = by_id.or_else(|| store.customer_by_email(&email).map(|c| c.id));
    let sent = |f: &str| filled(Some(customer), f);
    match found.and_then(|id| store.customers.iter_mut().find(|c| c.id == id)) {
        Some(existing) => {
            for (field, value) in [
                (&mut existing.firstname, sent("firstname")),
                (&mut existing.lastname, sent("lastname")),
                (&mut existing.email, sent("email")),
                (&mut existing.phone, sent("phone")),
            ] {
                if let Some(value) = value {
                    *field = value;
                }
            }
            existing.id
        }
        None => store.add_customer(Customer {
            id: 0,
            firstname: sent("firstname").unwrap_or_default(),
            lastname: sent("lastname").unwrap_or_default(),
            email: email.trim().to_owned(),
            phone: sent("phone").unwrap_or_default(),
        }),
    }
}

/// Rooms for the requested types: named rooms as named, the others the lowest free ids.
/// `taken_by_order` lines of the order being built count as taken. `None` when a type runs out.
fn allocate(
    store: &mut Store,
    requests: &[TypeRequest],
    mut taken_by_order: Vec<Line>,
) -> Option<Vec<Line>> {
    let mut added = Vec::new();
    for request in requests {
        let (from, to) = request.dates()?;
        let room_type = store.room_type(request.type_id())?.clone();
        let rooms: Vec<RoomRequest> = match &request.rooms {
            Some(rooms) if !rooms.is_empty() => rooms.clone(),
            // No room list: `number_of_rooms` rooms at base occupancy (0 still books one).
            _ => vec![RoomRequest::default(); request.number_of_rooms.unwrap_or(1).max(1) as usize],
        };
        for room in rooms {
            let clashes = |id: u32| {
                taken_by_order
                    .iter()
                    .any(|l| l.id_room == id && l.date_from < to && from < l.date_to)
            };
            let free = store.free_rooms(room_type.id, from, to);
            let chosen = match room.id_room {
                Some(id) => free.iter().find(|r| r.id == id && !clashes(r.id)),
                None => free.iter().find(|r| !clashes(r.id)),
            }?
            .id;
            let (price, tax) = store.line_price(&room_type, from, to, room.price, room.tax);
            let line = Line {
                id_hotel_booking: store.new_line_id(),
                id_room_type: room_type.id,
                id_room: chosen,
                date_from: from,
                date_to: to,
                adults: room.adults.unwrap_or(room_type.base_adults),
                children: room.children,
                price,
                tax,
            };
            taken_by_order.push(line.clone());
            added.push(line);
        }
    }
    Some(added)
}

/// The order state a new booking gets, and what counts as paid (`handlePostRequest`).
fn creation_state(data: &Map<String, Value>, paid: Money, total: Money) -> (u32, Money) {
    let status = data
        .get("booking_status")
        .filter(|v| truthy(v))
        .map_or(1, php_int);
    let payment_status = data.get("payment_status").map_or(0, php_int);
    match status {
        2 if paid == 0 => (2, total),
        2 if paid < total => (8, paid),
        2 => (2, paid),
        3 => (4, paid),
        4 => (5, paid),
        _ if paid > 0 && paid < total => (8, paid),
        _ if paid > 0 && paid >= total => (2, paid),
        _ => match payment_status {
            1 => (2, paid),
            2 => (8, paid),
            _ => (1, paid),
        },
    }
}

fn paid_of(data: &Map<String, Value>) -> Option<Money> {
    data.get("price_details")
        .and_then(|p| p.get("total_paid"))
        .filter(|v| !v.is_null())
        .and_then(php_str)
        .and_then(|s| parse_money(&s))
}

/// `POST /api/bookings`.
fn create(store: &mut Store, request: &Request<'_>) -> Result<Reply, ApiError> {
    let data = request_params(request.body)?;
    let requests = type_requests(&data);
    validate_post(store, &data, &requests)?;
    let Some(lines) = allocate(store, &requests, Vec::new()) else {
        return Err(ApiError::booking("Requested room(s) not available."));
    };
    let customer = data.get("customer_detail").cloned().unwrap_or(Value::Null);
    let id_customer = customer_for(store, &customer);
    let total: Money = lines.iter().map(|l| l.price + l.tax).sum();
    let (state, paid) = creation_state(&data, paid_of(&data).unwrap_or(0), total);
    let now = now_text();
    let date_add = text(&data, "booking_date")
        .and_then(|d| {
            let time = d
                .split_once(' ')
                .map_or("00:00:00".to_owned(), |(_, t)| t.to_owned());
            parse_php_date(&d).map(|date| format!("{date} {time}"))
        })
        .unwrap_or_else(|| now.clone());
    let remarks = text(&data, "remark")
        .filter(|r| !r.trim().is_empty())
        .into_iter()
        .collect();
    let payment = filled(data.get("payment_detail"), "payment_method")
        .unwrap_or_else(|| "Order from API".to_owned());
    let id = store.next_order_id();
    let order = Order {
        id,
        reference: store.new_reference(id),
        id_customer,
        id_lang: 1,
        source: data
            .get("source")
            .filter(|v| truthy(v))
            .and_then(php_str)
            .unwrap_or_else(|| request.shop_domain.clone()),
        payment,
        current_state: state,
        released: releases_rooms(state),
        lines,
        remarks,
        paid,
        date_add,
        date_upd: now,
    };
    store.orders.push(order);
    let body = store
        .order(id)
        .map(|order| render(store, order, request.format))
        .unwrap_or_default();
    Ok(Reply {
        committed: true,
        ..Reply::ok(body)
    })
}

/// `validatePutRequest` and `validatePutRequestRoomTypes`, in their order.
fn validate_put(
    store: &Store,
    data: &Map<String, Value>,
    requests: &[TypeRequest],
) -> Result<u32, ApiError> {
    let Some(id) = data.get("id").filter(|v| truthy(v)) else {
        return Err(ApiError::booking("id is required with PUT requests."));
    };
    let id = u32::try_from(php_int(id)).unwrap_or(0);
    if store.order(id).is_none() {
        return Err(ApiError::booking("Booking not found."));
    }
    if let Some(status) = data.get("booking_status").filter(|v| !v.is_null()) {
        if !(0..=4).contains(&php_int(status)) {
            return Err(ApiError::booking("Invalid booking status."));
        }
    }
    if requests.is_empty() {
        return Err(ApiError::booking("Rooms not found in the request."));
    }
    let customer = data.get("customer_detail");
    if let Some(id) = customer
        .and_then(|c| c.get("id_customer"))
        .filter(|v| !v.is_null())
    {
        if u32::try_from(php_int(id))
            .ok()
            .and_then(|id| store.customer(id))
            .is_none()
        {
            return Err(ApiError::booking("Invalid ID customer."));
        }
    }
    validate_property(store, data)?;
    let email = customer
        .and_then(|c| c.get("email"))
        .and_then(php_str)
        .unwrap_or_default();
    if !email.contains('@') || store.customer_by_email(&email).is_none() {
        return Err(ApiError::booking("Customer not found."));
    }
    if !in_range(data, "booking_status", 4) {
        return Err(ApiError::booking("Invalid booking status."));
    }
    for request in requests {
        validate_type(store, request)?;
        let mut unnamed = request.number_of_rooms.unwrap_or(0);
        for room in request.rooms.iter().flatten() {
            match room.id_room {
                None if unnamed > 0 => unnamed -= 1,
                None => return Err(ApiError::booking("Requested room(s) not available")),
                Some(id) => {
                    if store
                        .room(id)
                        .is_none_or(|r| r.id_room_type != request.type_id())
                    {
                        return Err(ApiError::booking("Invalid Id room."));
                    }
                }
            }
            if room.extras {
                return Err(ApiError::booking(
                    "Invalid service or facility requested (the simulated hotel has none).",
                ));
            }
        }
    }
    if data.get("cart_rules").is_some_and(truthy) {
        return Err(ApiError::booking(
            "Invalid cart rules. (the simulated hotel has no cart rules)",
        ));
    }
    Ok(id)
}

/// `PUT /api/bookings`: the order id comes from the body; an id in the URL is ignored.
fn update(store: &mut Store, request: &Request<'_>) -> Result<Reply, ApiError> {
    let data = request_params(request.body)?;
    let mut requests = type_requests(&data);
    let id = validate_put(store, &data, &requests)?;
    let customer = data.get("customer_detail").cloned().unwrap_or(Value::Null);
    customer_for(store, &customer);
    let Some(order) = store.order(id).cloned() else {
        return Err(ApiError::booking("Booking not found."));
    };
    // Match the order's lines against the request, consuming it.
    let mut kept = Vec::new();
    for line in &order.lines {
        let key = (line.id_room_type, Some((line.date_from, line.date_to)));
        let Some(position) = requests
            .iter()
            .position(|r| r.key() == key && r.number_of_rooms.is_some())
        else {
            continue;
        };
        let wanted = &mut requests[position];
        let mut line = line.clone();
        if let Some(rooms) = wanted.rooms.as_mut() {
            let named = rooms.iter().position(|r| r.id_room == Some(line.id_room));
            let taken = named.or_else(|| rooms.iter().position(|r| r.id_room.is_none()));
            if let Some(room) = taken.map(|i| rooms.remove(i)) {
                if let Some(price) = room.price.filter(|p| round2(*p) != line.price) {
                    let room_type = store.room_type(line.id_room_type).cloned();
                    if let Some(room_type) = room_type {
                        (line.price, line.tax) = store.line_price(
                            &room_type,
                            line.date_from,
                            line.date_to,
                            Some(price),
                            room.tax,
                        );
                    }
                }
            }
        }
        match wanted.number_of_rooms {
            Some(n) if n > 1 => wanted.number_of_rooms = Some(n - 1),
            _ => {
                requests.remove(position);
            }
        }
        kept.push(line);
    }
    if !requests.is_empty() {
        validate_availability(store, &requests, "Requested room(s) not available")?;
    }
    // The order's old lines are still in the store here, so they hold their rooms.
    let Some(added) = allocate(store, &requests, Vec::new()) else {
        return Err(ApiError::booking("Requested room(s) not available"));
    };
    let new_state = put_state(&data);
    let paid = paid_of(&data);
    let remark = text(&data, "remark").filter(|r| !r.trim().is_empty());
    let Some(order) = store.order_mut(id) else {
        return Err(ApiError::booking("Booking not found."));
    };
    order.lines = kept.into_iter().chain(added).collect();
    if let Some(remark) = remark {
        if !order.remarks.contains(&remark) {
            order.remarks.push(remark);
        }
    }
    if let Some(state) = new_state.filter(|s| *s != order.current_state) {
        order.current_state = state;
        order.released |= releases_rooms(state);
    }
    if let Some(paid) = paid {
        order.paid = paid;
    }
    order.date_upd = now_text();
    let body = store
        .order(id)
        .map(|order| render(store, order, request.format))
        .unwrap_or_default();
    Ok(Reply::ok(body))
}

/// The order state a `booking_status` sent with `PUT` leads to.
fn put_state(data: &Map<String, Value>) -> Option<u32> {
    let status = data.get("booking_status").filter(|v| !v.is_null())?;
    Some(match php_int(status) {
        3 => 4,
        4 => 5,
        2 => 2,
        _ => match data.get("payment_status").map_or(0, php_int) {
            1 => 2,
            2 => 8,
            _ => 1,
        },
    })
}
