-- What became of replies on the guest's platform (see the PostgreSQL twin). SQLite cannot change
-- a CHECK constraint in place, so the table is rebuilt (its views first dropped, then made again).
DROP VIEW intent_mix;
DROP VIEW handoff_counts;
DROP VIEW context_readings;

CREATE TABLE analytics_turns_next
(
    session_id     text    NOT NULL,
    sequence       integer NOT NULL,
    tenant_id      text    NOT NULL,
    channel        text    NOT NULL,
    day            text    NOT NULL,
    recorded_at    text    NOT NULL,
    kind           text    NOT NULL CHECK (kind IN ('intent', 'handoff', 'receipt')),
    intent         text,
    language       text,
    confidence     real,
    model_version  text,
    handoff_reason text,
    locale         text,
    from_context   text,
    message_id     text,
    receipt_status text,
    failure_code   integer,
    PRIMARY KEY (session_id, sequence)
);
INSERT INTO analytics_turns_next (session_id, sequence, tenant_id, channel, day, recorded_at, kind,
                                  intent, language, confidence, model_version, handoff_reason,
                                  locale, from_context)
SELECT session_id, sequence, tenant_id, channel, day, recorded_at, kind, intent, language,
       confidence, model_version, handoff_reason, locale, from_context
FROM analytics_turns;
DROP TABLE analytics_turns;
ALTER TABLE analytics_turns_next RENAME TO analytics_turns;
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

CREATE VIEW context_readings AS
SELECT tenant_id, day, locale, coalesce(from_context, 'none') AS from_context,
       count(*) AS messages, avg(confidence) AS avg_confidence
FROM analytics_turns
WHERE kind = 'intent'
GROUP BY tenant_id, day, locale, coalesce(from_context, 'none');

CREATE VIEW reply_read_rate AS
SELECT tenant_id, day, channel, count(*) AS replies,
       sum(delivered) AS delivered_replies, sum(was_read) AS read_replies,
       sum(failed) AS failed_replies
FROM (SELECT tenant_id, channel, message_id, min(day) AS day,
             max(CASE WHEN receipt_status IN ('delivered', 'read') THEN 1 ELSE 0 END) AS delivered,
             max(CASE WHEN receipt_status = 'read' THEN 1 ELSE 0 END) AS was_read,
             max(CASE WHEN receipt_status = 'failed' THEN 1 ELSE 0 END) AS failed
      FROM analytics_turns
      WHERE kind = 'receipt'
      GROUP BY tenant_id, channel, message_id) AS receipts
GROUP BY tenant_id, day, channel;
