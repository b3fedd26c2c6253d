-- The API keys read model (see the PostgreSQL twin).
CREATE TABLE api_keys
(
    key_id        text PRIMARY KEY,
    name          text        NOT NULL,
    role          text        NOT NULL,
    -- the hotel, or '*' for an admin key of every hotel
    scope         text        NOT NULL,
    expires_at    text,
    issued_at     text NOT NULL,
    issued_by     text        NOT NULL,
    revoked_at    text,
    revoked_by    text,
    last_sequence integer      NOT NULL
);
