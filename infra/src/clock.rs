//! The machine's clock: the production adapter of the domain's [`Clock`] port. It lives here, not
//! in `domain/`, so that no rule can read the time except through the clock it was handed (tests
//! hand a fixed one).

use chrono::{DateTime, Utc};
use conserje_domain::ports::Clock;

/// The clock of the machine, for production.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
