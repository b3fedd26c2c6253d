-- Analytics for the hotel's analysts. `analytics_messages` is fed by the `message-stats`
-- projection (one row per guest message, idempotent on (session_id, sequence)); the views derive
-- the daily figures from the projections' tables, so they can never disagree with them.
CREATE TABLE analytics_messages
(
    session_id  text        NOT NULL,
    sequence    bigint      NOT NULL,
    tenant_id   text        NOT NULL,
    channel     text        NOT NULL,
    day         date        NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (session_id, sequence)
);

CREATE INDEX analytics_messages_by_day ON analytics_messages (tenant_id, day);

-- Guest messages per hotel, channel and (UTC) day.
CREATE VIEW message_counts AS
SELECT tenant_id, channel, day, count(*) AS messages, count(DISTINCT session_id) AS conversations
FROM analytics_messages
GROUP BY tenant_id, channel, day;

-- Room-nights held per hotel, room type and night (requested or confirmed reservations).
CREATE VIEW daily_occupancy AS
SELECT r.tenant_id, r.room_type, night::date AS night, count(*) AS rooms, sum(r.guests) AS guests
FROM reservations r,
     generate_series(r.check_in, r.check_out - 1, interval '1 day') AS night
WHERE r.status IN ('requested', 'confirmed')
GROUP BY r.tenant_id, r.room_type, night::date;
