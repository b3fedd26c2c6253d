-- The embedded profile's message log and key-value read models, in their own SQLite file
-- (never the event store's: each file has its own migration history).

-- Topics exist before anything is appended to them, with a partition count fixed at creation:
-- changing it would move keys to other partitions and break their order.
CREATE TABLE log_topics
(
    name       text PRIMARY KEY,
    partitions integer NOT NULL CHECK (partitions > 0)
);

-- One row per record; offsets are contiguous from 0 within (topic, partition_id), and the
-- primary key serves both the next-offset lookup and reading a partition in order.
CREATE TABLE log_records
(
    topic         text    NOT NULL REFERENCES log_topics (name),
    partition_id  integer NOT NULL,
    record_offset integer NOT NULL,
    key           text    NOT NULL,
    headers       text    NOT NULL, -- JSON array of [name, value] pairs, order and repeats kept
    payload       blob    NOT NULL,
    appended_at   text    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (topic, partition_id, record_offset)
) WITHOUT ROWID;

-- Where each consumer group resumes: the offset after the last record it committed.
CREATE TABLE log_group_offsets
(
    group_name   text    NOT NULL,
    topic        text    NOT NULL,
    partition_id integer NOT NULL,
    next_offset  integer NOT NULL,
    PRIMARY KEY (group_name, topic, partition_id)
) WITHOUT ROWID;

-- Key-value read models. Expiry instants are milliseconds since the Unix epoch; reads skip
-- expired rows and `purge_expired` deletes them, which is what keeps the file bounded.
CREATE TABLE kv_values
(
    key        text PRIMARY KEY,
    value      text    NOT NULL,
    expires_at integer NOT NULL
);

CREATE INDEX kv_values_by_expiry ON kv_values (expires_at);

-- A set's expiry lives on the set, not on its members (as in Redis).
CREATE TABLE kv_sets
(
    key        text PRIMARY KEY,
    expires_at integer NOT NULL
);

CREATE INDEX kv_sets_by_expiry ON kv_sets (expires_at);

CREATE TABLE kv_set_members
(
    key    text NOT NULL REFERENCES kv_sets (key) ON DELETE CASCADE,
    member text NOT NULL,
    PRIMARY KEY (key, member)
) WITHOUT ROWID;
