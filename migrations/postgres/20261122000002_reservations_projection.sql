-- Read model: one row per reservation, in its current state. Built by the `reservations`
-- projection from the global event order; `last_sequence` makes re-applying an event a no-op.
CREATE TABLE reservations
(
    reservation_id     uuid PRIMARY KEY,
    tenant_id          text        NOT NULL,
    guest_ref          text        NOT NULL,
    guest_name         text,
    guest_email        text,
    guest_phone        text,
    status             text        NOT NULL,
    room_type          text,
    check_in           date,
    check_out          date,
    nights             integer,
    guests             integer,
    nightly_rate_minor bigint,
    subtotal_minor     bigint,
    discount_percent   integer,
    discount_minor     bigint,
    total_minor        bigint,
    currency           text,
    special_requests   text,
    pms_ref            text,
    rejection_reason   text,
    requested_on       date,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    last_sequence      bigint      NOT NULL
);

CREATE INDEX reservations_by_guest ON reservations (tenant_id, guest_ref);
