-- What guests ask and when the bot hands them to staff (see the PostgreSQL twin).
CREATE TABLE analytics_turns
(
    session_id     text    NOT NULL,
    sequence       integer NOT NULL,
    tenant_id      text    NOT NULL,
    channel        text    NOT NULL,
    day            text    NOT NULL,
    recorded_at    text    NOT NULL,
    kind           text    NOT NULL CHECK (kind IN ('intent', 'handoff')),
    intent         text,
    language       text,
    confidence     real,
    model_version  text,
    handoff_reason text,
    PRIMARY KEY (session_id, sequence)
);

CREATE INDEX analytics_turns_by_day ON analytics_turns (tenant_id, day);

CREATE VIEW intent_mix AS
SELECT tenant_id, day, language, intent, count(*) AS messages, avg(confidence) AS avg_confidence
FROM analytics_turns
WHERE kind = 'intent'
GROUP BY tenant_id, day, language, intent;

CREATE VIEW handoff_counts AS
SELECT tenant_id, day, handoff_reason, count(*) AS handoffs
FROM analytics_turns
WHERE kind = 'handoff'
GROUP BY tenant_id, day, handoff_reason;
