-- The proactive messages' durable timers: one row per reservation and kind (`pre_arrival`,
-- `review_request`) due at due_at_ms (Unix milliseconds). Fed from the reservation's events by
-- the proactive process's checkpointed subscription, so a restart in the middle of a wait loses
-- nothing; a row leaves when its message is recorded on the conversation (which records it
-- once, so a row fired twice still says it once) or its reservation is cancelled.
CREATE TABLE proactive_timers
(
    reservation_id text   NOT NULL,
    kind           text   NOT NULL,
    due_at_ms      bigint NOT NULL,
    PRIMARY KEY (reservation_id, kind)
);
CREATE INDEX proactive_timers_due ON proactive_timers (due_at_ms);
