-- The index of the dead-letter topic (see conserje_domain::dead_letter): one row per dead letter,
-- written by the `dead-letter-index` consumer group, marked by `conserje dlq redrive`. The
-- queue's depth is a count of the rows that wait for an operator and were not redriven. No key and
-- no payload: a conversation's key names the guest.
CREATE TABLE dead_letters
(
    dlq_topic       text    NOT NULL,
    dlq_partition   integer NOT NULL,
    dlq_offset      bigint  NOT NULL,
    reason          text    NOT NULL,
    consumer        text    NOT NULL,
    source_topic    text    NOT NULL,
    tenant_id       text,
    -- false while an automatic retry will send it back (a voice note with attempts left)
    awaits_operator boolean NOT NULL,
    indexed_at      text NOT NULL,
    redriven_at     text,
    PRIMARY KEY (dlq_topic, dlq_partition, dlq_offset)
);
CREATE INDEX dead_letters_waiting ON dead_letters (reason) WHERE awaits_operator AND redriven_at IS NULL;
