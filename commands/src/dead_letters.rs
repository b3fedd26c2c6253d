//! The dead-letter queue (`conserje.dlq.v1`): records whose side effect failed, kept with the
//! reason and where they came from, so an operator (or an automatic retry) can send them back.
//!
//! A dead letter is the original record — same key, payload and headers — plus `dlq_*` headers.
//! Redriving appends it again to its source topic without those headers; the consumers there are
//! idempotent, so a redrive of something that meanwhile succeeded changes nothing.

use conserje_domain::log::{LogRecord, OutgoingRecord};

/// Header names of a dead letter.
pub mod headers {
    /// Stable code of the failure (`transcription_failed`, `send_failed`, …).
    pub const REASON: &str = "dlq_reason";
    /// The failure as the failing component described it.
    pub const DETAIL: &str = "dlq_detail";
    /// `topic/partition@offset` of the original record.
    pub const SOURCE: &str = "dlq_source";
    /// The consumer group that gave up on it.
    pub const CONSUMER: &str = "dlq_consumer";
}

/// The dead letter of `record`, for `dlq_topic`.
pub fn dead_letter(
    record: &LogRecord,
    dlq_topic: &str,
    reason: &str,
    detail: &str,
    consumer: &str,
) -> OutgoingRecord {
    let mut kept: Vec<(String, String)> = record
        .headers
        .iter()
        .filter(|(name, _)| !name.starts_with("dlq_"))
        .cloned()
        .collect();
    kept.extend([
        (headers::REASON.to_owned(), reason.to_owned()),
        (headers::DETAIL.to_owned(), detail.to_owned()),
        (
            headers::SOURCE.to_owned(),
            format!("{}/{}@{}", record.topic, record.partition, record.offset),
        ),
        (headers::CONSUMER.to_owned(), consumer.to_owned()),
    ]);
    OutgoingRecord {
        topic: dlq_topic.to_owned(),
        key: record.key.clone(),
        headers: kept,
        payload: record.payload.clone(),
    }
}

/// The topic a dead letter came from.
pub fn source_topic(dead: &LogRecord) -> Option<&str> {
    let source = dead.header(headers::SOURCE)?;
    let slash = source.rfind('/')?;
    Some(&source[..slash])
}

/// The record that sends `dead` back to its source topic, with `extra` headers (an attempt
/// count, say); `None` when it does not say where it came from.
pub fn redrive(dead: &LogRecord, extra: &[(&str, String)]) -> Option<OutgoingRecord> {
    let topic = source_topic(dead)?.to_owned();
    let mut kept: Vec<(String, String)> = dead
        .headers
        .iter()
        .filter(|(name, _)| {
            !name.starts_with("dlq_") && !extra.iter().any(|(extra, _)| extra == name)
        })
        .cloned()
        .collect();
    kept.extend(extra.iter().map(|(n, v)| ((*n).to_owned(), v.clone())));
    Some(OutgoingRecord {
        topic,
        key: dead.key.clone(),
        headers: kept,
        payload: dead.payload.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_letter_goes_back_where_it_came_from_without_its_dlq_headers() {
        let original = LogRecord {
            topic: "t.conserje.inbound.v1".into(),
            partition: 2,
            offset: 41,
            key: "default/whatsapp/34600111222".into(),
            headers: vec![("tenant".into(), "default".into())],
            payload: b"{}".to_vec(),
        };
        let dead = dead_letter(&original, "t.conserje.dlq.v1", "send_failed", "400", "x");
        let stored = LogRecord {
            topic: dead.topic.clone(),
            partition: 0,
            offset: 7,
            key: dead.key.clone(),
            headers: dead.headers.clone(),
            payload: dead.payload.clone(),
        };
        assert_eq!(source_topic(&stored), Some("t.conserje.inbound.v1"));
        let back = redrive(&stored, &[("attempt", "2".into())]).unwrap();
        assert_eq!(back.topic, "t.conserje.inbound.v1");
        assert_eq!(back.key, original.key);
        assert_eq!(
            back.headers,
            vec![
                ("tenant".to_owned(), "default".to_owned()),
                ("attempt".to_owned(), "2".to_owned())
            ]
        );
    }
}
