//! `DataAccess`: that someone read a guest's personal data — a conversation's transcript, a
//! reservation's contact details — recorded as an event like any change, so the audit trail
//! answers "who looked at whose data, and when" and not only "who changed what".
//!
//! Each read is its own one-event stream (a UUIDv7 id): reads never contend with each other or
//! with the conversation or reservation they are about.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

/// What was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalData {
    /// Every message of a conversation (`subject` is the session id).
    Transcript,
    /// A reservation's guest name, e-mail and phone (`subject` is the reservation id).
    ContactData,
    /// A reservation's event trail, guest details included.
    ReservationTrail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataAccessCommand {
    RecordRead { subject: String, data: PersonalData },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataAccessEvent {
    GuestDataRead { subject: String, data: PersonalData },
}

impl DomainEvent for DataAccessEvent {
    fn event_type(&self) -> String {
        "GuestDataRead".to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataAccessError {
    #[error("this read was already recorded")]
    AlreadyRecorded,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataAccess {
    pub recorded: bool,
}

impl Aggregate for DataAccess {
    const TYPE: &'static str = "DataAccess";
    type Command = DataAccessCommand;
    type Event = DataAccessEvent;
    type Error = DataAccessError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        if self.recorded {
            return Err(DataAccessError::AlreadyRecorded);
        }
        let DataAccessCommand::RecordRead { subject, data } = command;
        sink.write(DataAccessEvent::GuestDataRead { subject, data }, self)
            .await;
        Ok(())
    }

    fn apply(&mut self, _event: Self::Event) {
        self.recorded = true;
    }
}
