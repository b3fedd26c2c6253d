CREATE TABLE reservations
(
    reservation_id     text PRIMARY KEY,
    tenant_id          text    NOT NULL,
    guest_ref          text    NOT NULL,
    guest_name         text,
    guest_email        text,
    guest_phone        text,
    status             text    NOT NULL,
    room_type          text,
    check_in           text,
    check_out          text,
    nights             integer,
    guests             integer,
    nightly_rate_minor integer,
    subtotal_minor     integer,
    discount_percent   integer,
    discount_minor     integer,
    total_minor        integer,
    currency           text,
    special_requests   text,
    pms_ref            text,
    rejection_reason   text,
    requested_on       text,
    created_at         text    NOT NULL,
    updated_at         text    NOT NULL,
    last_sequence      integer NOT NULL
);

CREATE INDEX reservations_by_guest ON reservations (tenant_id, guest_ref);
