-- The staff console's inbox: one row per conversation (session), fed from the session events by
-- the checkpointed `inbox` subscription. Holds the guest's display name (rebuilt by replay
-- when a guest is forgotten) and no message text.
CREATE TABLE inbox
(
    session_id       text    NOT NULL PRIMARY KEY,
    tenant_id        text    NOT NULL,
    channel          text    NOT NULL,
    guest_ref        text    NOT NULL,
    guest_name       text,
    language         text,
    handed_off       boolean NOT NULL,
    handoff_reason   text,
    handed_off_at    timestamptz,
    waiting_since    timestamptz,
    started_at       timestamptz NOT NULL,
    last_message_at  timestamptz,
    last_activity_at timestamptz NOT NULL,
    message_count    bigint  NOT NULL,
    last_sequence    bigint  NOT NULL
);
-- The inbox's order: handed off first, the longest wait first, then the latest activity.
CREATE INDEX inbox_by_hotel ON inbox (tenant_id, handed_off, last_activity_at);
-- The console's bookings list: a hotel's reservations, the latest change first.
CREATE INDEX reservations_by_hotel ON reservations (tenant_id, updated_at);
