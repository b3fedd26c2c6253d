//! QloApps' JSON, as serde types: the `bookings` documents we send and read, the `orders` rows
//! that carry a booking's state and marker, the `room_types` list, the error envelope.
//!
//! The answers are PHP's `json_encode` of arrays, so a reader has to accept what PHP gives:
//! numbers as numbers or as text (`"5"`, `5`, `5.0`), an empty answer or empty map as a bare
//! `[]` (`{"orders":[…]}` becomes `[]` when nothing matched — the trap of `find_booking`), lists
//! as arrays, as maps keyed by id, or wrapped in their singular (`{"room_type":[…]}`). The
//! lenient readers below do that, once, so the types stay plain.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::errors::EnvelopeError;

// ---- what we send -------------------------------------------------------------------------

/// `{"booking":{…}}`, the body of `POST` and `PUT /api/bookings`.
#[derive(Debug, Serialize)]
pub(crate) struct BookingBody<T> {
    pub booking: T,
}

/// A new booking. No `id` key at all: QloApps refuses even an empty one on a create.
#[derive(Debug, Serialize)]
pub(crate) struct NewBooking {
    pub id_property: u32,
    pub currency: String,
    /// 1: new.
    pub booking_status: u8,
    /// 3: awaiting payment (the guest pays at the hotel; conserje takes no payment).
    pub payment_status: u8,
    /// Our marker, `conserje-<reservation id>` (orders.source): how a create whose answer was
    /// lost is found again, QloApps having no idempotency key.
    pub source: String,
    pub remark: String,
    pub customer_detail: NewCustomer,
    pub price_details: PriceDetails,
    pub room_types: Vec<RoomLine>,
}

#[derive(Debug, Serialize)]
pub(crate) struct NewCustomer {
    pub firstname: String,
    pub lastname: String,
    pub email: String,
    pub phone: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct PriceDetails {
    /// The quoted total as decimal text: QloApps adds a discount when it is below its own total
    /// and raises the room prices when above, so the booking records what the guest was quoted.
    pub total_price_with_tax: String,
}

/// A change to an existing booking: `id` in the body (the URL's id is ignored), `room_types` the
/// full replacement of its lines.
#[derive(Debug, Serialize)]
pub(crate) struct BookingUpdate {
    pub id: u64,
    pub id_property: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_status: Option<u8>,
    pub customer_detail: CustomerEmail,
    pub room_types: Vec<RoomLine>,
}

/// PUT matches the booking's customer by e-mail.
#[derive(Debug, Serialize)]
pub(crate) struct CustomerEmail {
    pub email: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct RoomLine {
    pub id_room_type: u64,
    pub checkin_date: String,
    pub checkout_date: String,
    pub number_of_rooms: u32,
    pub rooms: Vec<RoomOccupancy>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RoomOccupancy {
    /// Set when a cancel repeats the booking's own rooms, so each line matches itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_room: Option<u64>,
    /// `adult`, singular: the create path reads this key (its schema says `adults`, which it
    /// ignores, silently booking the room type's base occupancy instead).
    pub adult: u32,
    pub child: u32,
}

// ---- what we read -------------------------------------------------------------------------

/// `{"booking":{…}}`, the answer of GET, POST and PUT `/api/bookings`.
#[derive(Debug, Deserialize)]
pub(crate) struct BookingDocument {
    pub booking: BookingRecord,
}

/// A booking (an order) as `getBookingDetails` renders it. It holds no state: that is the
/// order's `current_state`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BookingRecord {
    #[serde(deserialize_with = "whole")]
    pub id: u64,
    #[serde(default, deserialize_with = "optional_whole")]
    pub id_property: Option<u64>,
    #[serde(default, deserialize_with = "text")]
    pub source: String,
    #[serde(default, deserialize_with = "object_or_default")]
    associations: BookingParts,
    /// The same parts at the top level: the request accepts both places, so a reader does too.
    #[serde(flatten)]
    top_level: BookingParts,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct BookingParts {
    #[serde(default, deserialize_with = "optional_object")]
    customer_detail: Option<CustomerDetail>,
    #[serde(default, deserialize_with = "list")]
    room_types: Vec<BookedLine>,
}

impl BookingRecord {
    pub(crate) fn customer(&self) -> Option<&CustomerDetail> {
        self.associations
            .customer_detail
            .as_ref()
            .or(self.top_level.customer_detail.as_ref())
    }

    pub(crate) fn lines(&self) -> &[BookedLine] {
        if self.associations.room_types.is_empty() {
            &self.top_level.room_types
        } else {
            &self.associations.room_types
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct CustomerDetail {
    #[serde(default, deserialize_with = "text")]
    pub email: String,
}

/// One room type over one stay, with its rooms.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BookedLine {
    #[serde(deserialize_with = "whole")]
    pub id_room_type: u64,
    /// `Y-m-d H:i:s`.
    #[serde(default, deserialize_with = "text")]
    pub checkin_date: String,
    #[serde(default, deserialize_with = "text")]
    pub checkout_date: String,
    #[serde(default, deserialize_with = "optional_whole")]
    pub number_of_rooms: Option<u64>,
    #[serde(default, deserialize_with = "list")]
    pub rooms: Vec<BookedRoom>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BookedRoom {
    #[serde(default, deserialize_with = "optional_whole")]
    pub id_room: Option<u64>,
    #[serde(default, alias = "adult", deserialize_with = "optional_whole")]
    pub adults: Option<u64>,
    #[serde(default, alias = "children", deserialize_with = "optional_whole")]
    pub child: Option<u64>,
}

/// An order as `display=[id,current_state]` (or the whole record) shows it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct OrderRow {
    #[serde(deserialize_with = "whole")]
    pub id: u64,
    #[serde(default, deserialize_with = "optional_whole")]
    pub current_state: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct OrderList {
    #[serde(default, deserialize_with = "list")]
    orders: Vec<OrderRow>,
}

#[derive(Debug, Deserialize)]
struct OrderDocument {
    order: OrderRow,
}

/// A room type of `GET /api/room_types?display=full`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RoomTypeRow {
    #[serde(deserialize_with = "whole")]
    pub id: u64,
    #[serde(default, deserialize_with = "optional_whole")]
    pub id_hotel: Option<u64>,
    /// A plain string with one language active, else `[{"id":L,"value":…}]`: the first.
    #[serde(default, deserialize_with = "i18n")]
    pub name: String,
}

#[derive(Debug, Default, Deserialize)]
struct RoomTypeList {
    #[serde(default, deserialize_with = "list")]
    room_types: Vec<RoomTypeRow>,
}

#[derive(Debug, Deserialize)]
struct RoomTypeDocument {
    room_type: RoomTypeRow,
}

#[derive(Debug, Deserialize)]
struct ErrorDocument {
    #[serde(deserialize_with = "list")]
    errors: Vec<ErrorEntry>,
}

#[derive(Debug, Deserialize)]
struct ErrorEntry {
    #[serde(default, deserialize_with = "optional_whole")]
    code: Option<u64>,
    #[serde(default, deserialize_with = "text")]
    message: String,
}

/// A booking document; `None` when the body is not one.
pub(crate) fn booking(body: &str) -> Option<BookingRecord> {
    serde_json::from_str::<BookingDocument>(body)
        .ok()
        .map(|d| d.booking)
}

/// The rows of an `orders` list; a bare `[]` is the empty list.
pub(crate) fn orders(body: &str) -> Option<Vec<OrderRow>> {
    list_answer::<OrderList>(body, "orders").map(|l| l.orders)
}

/// One `order`; `None` when the body is not one.
pub(crate) fn order(body: &str) -> Option<OrderRow> {
    serde_json::from_str::<OrderDocument>(body)
        .ok()
        .map(|d| d.order)
}

/// The rows of a `room_types` list; a bare `[]` is the empty list.
pub(crate) fn room_types(body: &str) -> Option<Vec<RoomTypeRow>> {
    list_answer::<RoomTypeList>(body, "room_types").map(|l| l.room_types)
}

/// One `room_type`; `None` when the body is not one.
pub(crate) fn room_type(body: &str) -> Option<RoomTypeRow> {
    serde_json::from_str::<RoomTypeDocument>(body)
        .ok()
        .map(|d| d.room_type)
}

/// The errors of a JSON error envelope; `None` when the body is not one.
pub(crate) fn errors(body: &str) -> Option<Vec<EnvelopeError>> {
    let document: ErrorDocument = serde_json::from_str(body).ok()?;
    Some(
        document
            .errors
            .into_iter()
            .map(|e| EnvelopeError {
                code: e.code.and_then(|c| u32::try_from(c).ok()),
                message: e.message,
            })
            .collect(),
    )
}

/// A list answer `{"<plural>":…}`, where PHP's empty array — no key, no object — means "nothing
/// matched". Any other object (an error envelope under a 2xx, a proxy's JSON) is not the list:
/// read as empty it would make `find_booking` say "no booking" and a create be retried twice.
fn list_answer<T: DeserializeOwned + Default>(body: &str, plural: &str) -> Option<T> {
    match serde_json::from_str::<Value>(body).ok()? {
        Value::Array(items) if items.is_empty() => Some(T::default()),
        Value::Object(map) if map.contains_key(plural) => {
            serde_json::from_value(Value::Object(map)).ok()
        }
        _ => None,
    }
}

// ---- lenient readers ----------------------------------------------------------------------

/// A whole number from a JSON value PHP wrote: `5`, `5.0` or `"5"` (never through a float).
fn as_whole(value: &Value) -> Option<u64> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    let digits = match text.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => whole,
        Some(_) => return None,
        None => &text,
    };
    digits.parse().ok()
}

fn whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let value = Value::deserialize(deserializer)?;
    as_whole(&value).ok_or_else(|| D::Error::custom(format!("{value} is not a whole number")))
}

/// A whole number, or `None` for PHP's empty values (`null`, `""`, `[]`, `false`).
fn optional_whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    if is_php_empty(&value) {
        return Ok(None);
    }
    as_whole(&value)
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("{value} is not a whole number")))
}

/// Text, from a string or a number; PHP's empty values are `""`.
fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    })
}

/// An i18n field: a string, or the first `{"id","value"}` of a list.
fn i18n<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => s,
        Value::Array(items) => items
            .iter()
            .find_map(|item| item.get("value").and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    })
}

fn is_php_empty(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Bool(true) | Value::Number(_) => false,
    }
}

/// A map, or its default when PHP rendered the empty array (`[]`) or an empty value.
fn object_or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    Ok(optional_object(deserializer)?.unwrap_or_default())
}

fn optional_object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(deserializer)? {
        value @ Value::Object(_) if !is_php_empty(&value) => serde_json::from_value(value)
            .map(Some)
            .map_err(D::Error::custom),
        _ => Ok(None),
    }
}

/// A list as PHP may render it: an array; a map keyed by id (`{"5":{…}}`); the list wrapped in
/// its singular (`{"room_type":[…]}` or `{"room_type":{…}}`); one record on its own; or empty
/// (`[]`, `""`, `0`, `null`).
fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    items(Value::deserialize(deserializer)?)
        .into_iter()
        .map(|item| serde_json::from_value(item).map_err(D::Error::custom))
        .collect()
}

fn items(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Object(map) if map.is_empty() => Vec::new(),
        Value::Object(map) if map.keys().all(|k| k.bytes().all(|b| b.is_ascii_digit())) => {
            map.into_iter().map(|(_, v)| v).collect()
        }
        Value::Object(map)
            if map.len() == 1 && map.values().all(|v| v.is_array() || v.is_object()) =>
        {
            map.into_iter().flat_map(|(_, v)| items(v)).collect()
        }
        record @ Value::Object(_) => vec![record],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_come_as_php_writes_them() {
        for (value, expected) in [
            (serde_json::json!(5), Some(5)),
            (serde_json::json!("5"), Some(5)),
            (serde_json::json!(5.0), Some(5)),
            (serde_json::json!("5.000"), Some(5)),
            (serde_json::json!(5.5), None),
            (serde_json::json!("x"), None),
        ] {
            assert_eq!(as_whole(&value), expected, "{value}");
        }
    }

    #[test]
    fn an_empty_order_list_is_a_bare_array() {
        assert_eq!(orders("[]").unwrap().len(), 0);
        let rows = orders(r#"{"orders":[{"id":7,"current_state":"4"}]}"#).unwrap();
        assert_eq!((rows[0].id, rows[0].current_state), (7, Some(4)));
        assert!(orders("nonsense").is_none());
        assert!(
            orders(r#"{"errors":[{"code":46,"message":"x"}]}"#).is_none(),
            "an object without the list is not an empty list"
        );
        assert!(room_types(r#"{"orders":[]}"#).is_none());
        assert_eq!(
            order(r#"{"order":{"id":"7","current_state":"2"}}"#)
                .unwrap()
                .id,
            7
        );
    }

    #[test]
    fn a_booking_reads_from_associations_or_the_top_level() {
        let body = r#"{"booking":{"id":12,"id_property":"1","currency":"EUR","source":"conserje-x",
            "associations":{"customer_detail":{"id_customer":3,"email":"ana@mail.com"},
            "cart_rules":[],"remarks":[],
            "room_types":{"room_type":{"id_room_type":"11","checkin_date":"2030-05-01 00:00:00",
            "checkout_date":"2030-05-03 00:00:00","number_of_rooms":1,
            "rooms":[{"id_room":4,"adults":"2","child":0,"unit_price_without_tax":200.0}]}}}}}"#;
        let record = booking(body).unwrap();
        assert_eq!(record.id, 12);
        assert_eq!(record.customer().unwrap().email, "ana@mail.com");
        let line = &record.lines()[0];
        assert_eq!(line.id_room_type, 11);
        assert_eq!(line.rooms[0].adults, Some(2));
        let flat = r#"{"booking":{"id":"12","associations":[],"room_types":[{"id_room_type":11,
            "rooms":{"3":{"id_room":3,"adult":1}}}]}}"#;
        let record = booking(flat).unwrap();
        assert_eq!(record.lines()[0].rooms[0].adults, Some(1));
        assert!(record.customer().is_none());
    }

    #[test]
    fn names_and_errors_read_either_way() {
        let rows = room_types(
            r#"{"room_types":[{"id":11,"id_hotel":"1","name":[{"id":"1","value":"Standard"}]},
            {"id":12,"id_hotel":1,"name":"Double"}]}"#,
        )
        .unwrap();
        assert_eq!(
            (rows[0].name.as_str(), rows[1].name.as_str()),
            ("Standard", "Double")
        );
        assert_eq!(room_types("[]").unwrap().len(), 0);
        let errors = errors(r#"{"errors":[{"code":"27","message":"Nope"}]}"#).unwrap();
        assert_eq!(errors[0].code, Some(27));
        assert!(super::errors(r#"{"booking":{}}"#).is_none());
    }
}
