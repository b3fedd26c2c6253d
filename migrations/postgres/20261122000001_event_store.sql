-- The event store used by postgres-es, extended with a global order.
-- postgres-es inserts only its seven documented columns; the rest are filled by defaults:
--   position        global order of insertion (allocated before commit, so it can commit out of order)
--   transaction_id  the writing transaction, read by the catch-up reader so a late commit is never skipped
--   event_id        the UUIDv7 the store stamps into each event's metadata, as a queryable column
--   recorded_at     when the database stored the event
CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    position       bigserial                    NOT NULL UNIQUE,
    transaction_id xid8                         NOT NULL DEFAULT pg_current_xact_id(),
    event_id       uuid GENERATED ALWAYS AS ((metadata ->> 'event_id')::uuid) STORED,
    recorded_at    timestamptz                  NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE INDEX events_global_order ON events (transaction_id, position);
CREATE INDEX events_by_type ON events (event_type);

CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          json                                 NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);

-- How far each consumer of the global order has read.
CREATE TABLE projection_checkpoints
(
    consumer       text        PRIMARY KEY,
    transaction_id bigint      NOT NULL,
    position       bigint      NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
