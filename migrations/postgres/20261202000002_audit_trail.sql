-- The audit trail: one row per stored event, in each hotel's order, with who did it, when and
-- through which channel, and the link of its hotel's hash chain:
--   hash = SHA-256(prev_hash || canonical JSON of the stored event)
-- Built by the `audit-trail` subscription from the global order (which is final once the
-- catch-up reader hands an event out), so the chain of a hotel is the same on every rebuild.
-- `conserje audit verify` recomputes it from the events table and names the first broken link.
CREATE TABLE audit_trail
(
    position       bigint PRIMARY KEY,
    tenant_id      text        NOT NULL,
    link           bigint      NOT NULL,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    sequence       bigint      NOT NULL,
    event_type     text        NOT NULL,
    actor          text        NOT NULL,
    channel        text        NOT NULL,
    correlation_id text,
    source_ip      text,
    recorded_at    timestamptz NOT NULL,
    prev_hash      text        NOT NULL,
    hash           text        NOT NULL,
    UNIQUE (tenant_id, link)
);

CREATE INDEX audit_trail_by_actor ON audit_trail (tenant_id, actor, recorded_at);
CREATE INDEX audit_trail_by_aggregate ON audit_trail (tenant_id, aggregate_id);
CREATE INDEX audit_trail_by_time ON audit_trail (tenant_id, recorded_at);
