//! QloApps' XML, as serde types: the `hotel_ari` search and its answer, the error envelope and
//! the resource list of `GET /api/`.
//!
//! XML is the format for `hotel_ari` because it is the stable one: from 1.6.1 the JSON room lists
//! are PHP's internal maps keyed by room id, while the XML keeps `rooms/available/room` in every
//! version. QloApps' renderer has two habits a reader must survive, both handled by the types:
//! a list of one child is just that child (so lists are `Vec`s of the repeated element, never
//! "the single element"), and an empty list or value is the text `0` (`<room_types>0</room_types>`),
//! which the list types read as no items (their only field is the repeated child).
//!
//! Requests are serialised by quick-xml, never formatted by hand: a value with `<` or `&` is
//! escaped, and values are plain text, not CDATA, because QloApps reads request bodies through
//! `json_encode(SimpleXMLElement)`, which drops CDATA sections (a CDATA date would arrive empty).

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::errors::EnvelopeError;

/// `POST /api/hotel_ari`'s body: `<qloapps><hotel_ari>…</hotel_ari></qloapps>`.
#[derive(Debug, Serialize)]
#[serde(rename = "qloapps")]
pub(crate) struct AriRequest {
    pub hotel_ari: AriSearch,
}

/// One search: a hotel, a stay (`Y-m-d`), optionally one room type, optionally night by night.
#[derive(Debug, Serialize)]
pub(crate) struct AriSearch {
    pub id_hotel: u32,
    pub date_from: String,
    pub date_to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_room_type: Option<u32>,
    /// `1`: one `hotel_ari` per night under `hotel_aris` (1.6.1 and later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_wise_breakdown: Option<u8>,
}

impl AriRequest {
    pub(crate) fn new(
        id_hotel: u32,
        from: NaiveDate,
        to: NaiveDate,
        id_room_type: Option<u32>,
        breakdown: bool,
    ) -> Self {
        Self {
            hotel_ari: AriSearch {
                id_hotel,
                date_from: from.format("%Y-%m-%d").to_string(),
                date_to: to.format("%Y-%m-%d").to_string(),
                id_room_type,
                date_wise_breakdown: breakdown.then_some(1),
            },
        }
    }

    pub(crate) fn to_xml(&self) -> Result<String, quick_xml::SeError> {
        quick_xml::se::to_string(self)
    }
}

/// The answer's root: `hotel_ari` for a whole-range search, `hotel_aris` for a breakdown.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AriDocument {
    pub hotel_ari: Option<AriResult>,
    pub hotel_aris: Option<AriNights>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AriNights {
    #[serde(default)]
    pub hotel_ari: Vec<AriResult>,
}

/// One search result: the stay it covers, the shop's currency and the hotel's room types.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AriResult {
    #[serde(default)]
    pub date_from: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub room_types: AriRoomTypes,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AriRoomTypes {
    #[serde(default)]
    pub room_type: Vec<AriRoomType>,
}

/// A room type over the searched stay: its average nightly price and its rooms by category.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AriRoomType {
    #[serde(rename = "@id", default)]
    pub id_attribute: Option<String>,
    #[serde(default)]
    pub id_room_type: Option<String>,
    /// The average per night, tax included: what a guest is quoted.
    #[serde(default)]
    pub base_price_with_tax: Option<String>,
    #[serde(default)]
    pub rooms: AriRooms,
}

impl AriRoomType {
    /// The room type's id, from its element or else its `id` attribute.
    pub(crate) fn id(&self) -> Option<u32> {
        self.id_room_type
            .as_deref()
            .or(self.id_attribute.as_deref())
            .and_then(|id| id.trim().parse().ok())
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AriRooms {
    #[serde(default)]
    pub available: AriRoomList,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AriRoomList {
    #[serde(default)]
    pub room: Vec<AriRoom>,
}

/// One free room: only how many there are matters, so its fields are not read.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AriRoom {}

/// Reads an ARI answer; `None` when it is not one.
pub(crate) fn ari(body: &str) -> Option<AriDocument> {
    let document: AriDocument = quick_xml::de::from_str(body).ok()?;
    (document.hotel_ari.is_some() || document.hotel_aris.is_some()).then_some(document)
}

/// `<qloapps><errors><error><code/><message/></error>…</errors></qloapps>`.
#[derive(Debug, Default, Deserialize)]
struct ErrorDocument {
    errors: Option<ErrorList>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorList {
    #[serde(default)]
    error: Vec<ErrorEntry>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// The errors of an XML error envelope; `None` when the body is not one.
pub(crate) fn errors(body: &str) -> Option<Vec<EnvelopeError>> {
    if !body.trim_start().starts_with('<') {
        return None;
    }
    let document: ErrorDocument = quick_xml::de::from_str(body).ok()?;
    let list = document.errors?;
    Some(
        list.error
            .into_iter()
            .map(|e| EnvelopeError {
                code: e.code.and_then(|c| c.trim().parse().ok()),
                message: e.message.unwrap_or_default(),
            })
            .collect(),
    )
}

/// `GET /api/`: `<qloapps><api shopName="…"><bookings get="true" put="true" …/>…</api></qloapps>`.
#[derive(Debug, Default, Deserialize)]
struct ApiDocument {
    api: Option<ResourceList>,
}

/// The resources the key may use, each with the methods ticked for it.
#[derive(Debug, Default)]
pub(crate) struct ResourceList(pub BTreeMap<String, Grant>);

/// The method attributes of one resource (`get="true"`…).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Grant {
    #[serde(rename = "@get", default)]
    get: Option<String>,
    #[serde(rename = "@put", default)]
    put: Option<String>,
    #[serde(rename = "@post", default)]
    post: Option<String>,
    #[serde(rename = "@delete", default)]
    delete: Option<String>,
    #[serde(rename = "@head", default)]
    head: Option<String>,
}

impl Grant {
    /// Whether `method` (`GET`, `POST`…) is ticked for the resource.
    pub(crate) fn allows(&self, method: &str) -> bool {
        let flag = match method {
            "GET" => &self.get,
            "PUT" => &self.put,
            "POST" => &self.post,
            "DELETE" => &self.delete,
            "HEAD" => &self.head,
            _ => return false,
        };
        flag.as_deref().is_some_and(|v| v.trim() == "true")
    }
}

impl<'de> Deserialize<'de> for ResourceList {
    /// Every child element of `<api>` is a resource, whatever its name; the element's own
    /// attributes (`@shopName`) and text are not resources and are skipped.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Resources;
        impl<'de> Visitor<'de> for Resources {
            type Value = ResourceList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the webservice's resource list")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ResourceList, A::Error> {
                let mut grants = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    if name.starts_with('@') || name.starts_with('$') {
                        map.next_value::<IgnoredAny>()?;
                    } else {
                        grants.insert(name, map.next_value::<Grant>()?);
                    }
                }
                Ok(ResourceList(grants))
            }
        }
        deserializer.deserialize_map(Resources)
    }
}

/// Reads the resource list; `None` when the body is not one.
pub(crate) fn resources(body: &str) -> Option<ResourceList> {
    quick_xml::de::from_str::<ApiDocument>(body).ok()?.api
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_serialises_as_plain_text_elements() {
        let from = NaiveDate::from_ymd_opt(2030, 5, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2030, 5, 3).unwrap();
        let xml = AriRequest::new(1, from, to, Some(11), false)
            .to_xml()
            .unwrap();
        assert_eq!(
            xml,
            "<qloapps><hotel_ari><id_hotel>1</id_hotel><date_from>2030-05-01</date_from>\
             <date_to>2030-05-03</date_to><id_room_type>11</id_room_type></hotel_ari></qloapps>"
        );
        let xml = AriRequest::new(1, from, to, None, true).to_xml().unwrap();
        assert!(xml.contains("<date_wise_breakdown>1</date_wise_breakdown>"));
        assert!(!xml.contains("id_room_type"));
    }

    const ANSWER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<qloapps xmlns:xlink="http://www.w3.org/1999/xlink">
<hotel_ari>
<id_hotel><![CDATA[1]]></id_hotel>
<date_from><![CDATA[2030-05-01]]></date_from>
<date_to><![CDATA[2030-05-03]]></date_to>
<currency><![CDATA[EUR]]></currency>
<room_types>
<room_type id="11">
<id_room_type><![CDATA[11]]></id_room_type>
<base_price><![CDATA[100.000000]]></base_price>
<base_price_with_tax><![CDATA[110.000000]]></base_price_with_tax>
<name><language id="1"><![CDATA[Standard]]></language></name>
<rooms>
<available>
<room>
<id_room><![CDATA[1]]></id_room>
<room_number><![CDATA[S-101]]></room_number>
</room>
</available>
</rooms>
</room_type>
<room_type id="12">
<id_room_type><![CDATA[12]]></id_room_type>
<base_price_with_tax><![CDATA[154]]></base_price_with_tax>
<rooms><available><![CDATA[0]]></available></rooms>
</room_type>
<room_type id="13">
<base_price_with_tax><![CDATA[198]]></base_price_with_tax>
<rooms>
<available><room><id_room>7</id_room></room><room><id_room>8</id_room></room></available>
<booked>0</booked>
</rooms>
</room_type>
</room_types>
</hotel_ari>
</qloapps>
"#;

    #[test]
    fn one_room_none_and_two_are_all_lists() {
        let document = ari(ANSWER).unwrap();
        let result = document.hotel_ari.unwrap();
        assert_eq!(result.currency, "EUR");
        let types = &result.room_types.room_type;
        assert_eq!(types.len(), 3);
        assert_eq!(types[0].id(), Some(11));
        assert_eq!(types[0].base_price_with_tax.as_deref(), Some("110.000000"));
        assert_eq!(types[0].rooms.available.room.len(), 1);
        assert_eq!(types[1].rooms.available.room.len(), 0);
        assert_eq!(types[2].id(), Some(13), "the id attribute stands in");
        assert_eq!(types[2].rooms.available.room.len(), 2);
    }

    #[test]
    fn an_empty_room_type_list_is_zero() {
        let body = "<qloapps><hotel_ari><currency>EUR</currency><room_types><![CDATA[0]]></room_types></hotel_ari></qloapps>";
        let result = ari(body).unwrap().hotel_ari.unwrap();
        assert!(result.room_types.room_type.is_empty());
    }

    #[test]
    fn a_breakdown_has_one_result_per_night() {
        let body = "<qloapps><hotel_aris>\
            <hotel_ari><date_from>2030-05-01</date_from><currency>EUR</currency><room_types>0</room_types></hotel_ari>\
            </hotel_aris></qloapps>";
        let nights = ari(body).unwrap().hotel_aris.unwrap().hotel_ari;
        assert_eq!(nights.len(), 1);
        assert_eq!(nights[0].date_from, "2030-05-01");
        assert!(ari("<qloapps><errors/></qloapps>").is_none());
        assert!(ari("not xml").is_none());
    }

    #[test]
    fn the_resource_list_says_which_methods_are_granted() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<qloapps xmlns:xlink="http://www.w3.org/1999/xlink">
<api shopName="QloApps">
<bookings xlink:href="http://x/api/bookings" get="true" put="true" post="true" delete="false" head="true">
<description xlink:href="http://x/api/bookings" get="true">The Customer bookings</description>
</bookings>
<orders xlink:href="http://x/api/orders" get="true" put="false" post="false" delete="false" head="true">
<description>The Customers orders</description>
<schema xlink:href="http://x/api/orders?schema=blank" type="blank"/>
</orders>
</api>
</qloapps>"#;
        let list = resources(body).unwrap();
        assert_eq!(list.0.len(), 2);
        assert!(list.0["bookings"].allows("PUT"));
        assert!(!list.0["orders"].allows("POST"));
        assert!(list.0["orders"].allows("GET"));
    }
}
