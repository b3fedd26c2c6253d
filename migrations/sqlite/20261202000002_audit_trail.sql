-- The audit trail and its hash chains (see the PostgreSQL twin).
CREATE TABLE audit_trail
(
    position       integer PRIMARY KEY,
    tenant_id      text        NOT NULL,
    link           integer     NOT NULL,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    sequence       integer     NOT NULL,
    event_type     text        NOT NULL,
    actor          text        NOT NULL,
    channel        text        NOT NULL,
    correlation_id text,
    source_ip      text,
    recorded_at    text        NOT NULL,
    prev_hash      text        NOT NULL,
    hash           text        NOT NULL,
    UNIQUE (tenant_id, link)
);

CREATE INDEX audit_trail_by_actor ON audit_trail (tenant_id, actor, recorded_at);
CREATE INDEX audit_trail_by_aggregate ON audit_trail (tenant_id, aggregate_id);
CREATE INDEX audit_trail_by_time ON audit_trail (tenant_id, recorded_at);
