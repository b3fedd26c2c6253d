//! `Erasure`: that a guest of a hotel was forgotten, and by whom. The stream id is
//! `<tenant>/<subject>`, where the subject is a hash of the guest's ref — the event that
//! records the forgetting must not name the person it forgot.
//!
//! Forgetting itself is the deletion of the guest's data key (crypto-shredding, see the
//! `shredding` adapter); this stream is its audit record, and what tells an operator that a
//! returning guest with the same ref is, to the hotel, a new guest.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErasureCommand {
    Forget { reason: Option<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErasureEvent {
    GuestForgotten { reason: Option<String> },
}

impl DomainEvent for ErasureEvent {
    fn event_type(&self) -> String {
        "GuestForgotten".to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("erasure cannot fail")]
pub struct ErasureError;

/// How many times the guest's data was forgotten (a guest may come back and ask again).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    pub times: u32,
}

impl Aggregate for Erasure {
    const TYPE: &'static str = "Erasure";
    type Command = ErasureCommand;
    type Event = ErasureEvent;
    type Error = ErasureError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let ErasureCommand::Forget { reason } = command;
        sink.write(ErasureEvent::GuestForgotten { reason }, self)
            .await;
        Ok(())
    }

    fn apply(&mut self, _event: Self::Event) {
        self.times += 1;
    }
}
