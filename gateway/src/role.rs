//! Which parts of conserje one process runs (`conserje serve --role`), so that the webhook/API
//! tier and the consumers scale apart.
//!
//! Any number of processes of each role share one store, broker and Redis: the consumer groups
//! split the log's partitions among the processes that run them (one conversation's partition
//! has one worker at a time), and the store-fed consumers — the relay, the booking process and
//! its retries, the SQL read models — run under a lease, in one process at a time, with the
//! others standing by (see `conserje_infra::leases`).

use clap::ValueEnum;

/// What `serve` runs besides `/health/*` and `/metrics`, which every role answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// The webhooks and the HTTP API: receive, acknowledge, answer queries. Consumes nothing.
    Api,
    /// The conversation worker, the channel sender, voice-note retries and the PMS sync (booking
    /// process, its retries and cache warming).
    Worker,
    /// The read models: the SQL projections, the audit trail, the relay from the store to the
    /// events topic and the projections fed from that topic.
    Projector,
    /// Everything in one process (the embedded default).
    #[default]
    All,
}

impl Role {
    pub fn serves_api(self) -> bool {
        matches!(self, Self::Api | Self::All)
    }

    pub fn runs_worker(self) -> bool {
        matches!(self, Self::Worker | Self::All)
    }

    pub fn runs_projections(self) -> bool {
        matches!(self, Self::Projector | Self::All)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Worker => "worker",
            Self::Projector => "projector",
            Self::All => "all",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_runs_in_all_and_in_exactly_one_split_role() {
        for part in [Role::serves_api, Role::runs_worker, Role::runs_projections] {
            assert!(part(Role::All));
            let split = [Role::Api, Role::Worker, Role::Projector]
                .into_iter()
                .filter(|role| part(*role))
                .count();
            assert_eq!(split, 1, "a part must run in exactly one split role");
        }
    }
}
