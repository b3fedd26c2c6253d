-- What guests ask and when the bot hands them to staff, for the hotel's analysts. Fed by the
-- `conversation-stats` projection: one row per understood guest message (kind 'intent') and one
-- per handoff (kind 'handoff'), idempotent on (session_id, sequence).
CREATE TABLE analytics_turns
(
    session_id     text             NOT NULL,
    sequence       bigint           NOT NULL,
    tenant_id      text             NOT NULL,
    channel        text             NOT NULL,
    day            date             NOT NULL,
    recorded_at    timestamptz      NOT NULL,
    kind           text             NOT NULL CHECK (kind IN ('intent', 'handoff')),
    intent         text,
    language       text,
    confidence     double precision,
    model_version  text,
    handoff_reason text,
    PRIMARY KEY (session_id, sequence)
);

CREATE INDEX analytics_turns_by_day ON analytics_turns (tenant_id, day);

-- What guests ask, per hotel, day and language, and how sure the model was.
CREATE VIEW intent_mix AS
SELECT tenant_id, day, language, intent, count(*) AS messages, avg(confidence) AS avg_confidence
FROM analytics_turns
WHERE kind = 'intent'
GROUP BY tenant_id, day, language, intent;

-- Conversations handed to staff, per hotel, day and reason.
CREATE VIEW handoff_counts AS
SELECT tenant_id, day, handoff_reason, count(*) AS handoffs
FROM analytics_turns
WHERE kind = 'handoff'
GROUP BY tenant_id, day, handoff_reason;
