CREATE TABLE analytics_messages
(
    session_id  text    NOT NULL,
    sequence    integer NOT NULL,
    tenant_id   text    NOT NULL,
    channel     text    NOT NULL,
    day         text    NOT NULL,
    received_at text    NOT NULL,
    PRIMARY KEY (session_id, sequence)
);

CREATE INDEX analytics_messages_by_day ON analytics_messages (tenant_id, day);

CREATE VIEW message_counts AS
SELECT tenant_id, channel, day, count(*) AS messages, count(DISTINCT session_id) AS conversations
FROM analytics_messages
GROUP BY tenant_id, channel, day;

CREATE VIEW daily_occupancy AS
WITH RECURSIVE nights (tenant_id, room_type, guests, night, check_out) AS (
    SELECT tenant_id, room_type, guests, check_in, check_out
    FROM reservations
    WHERE status IN ('requested', 'confirmed')
    UNION ALL
    SELECT tenant_id, room_type, guests, date(night, '+1 day'), check_out
    FROM nights
    WHERE date(night, '+1 day') < check_out
)
SELECT tenant_id, room_type, night, count(*) AS rooms, sum(guests) AS guests
FROM nights
GROUP BY tenant_id, room_type, night;
