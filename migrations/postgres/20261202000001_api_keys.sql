-- Read model: one row per API key as its events left it (issued, revoked), for `conserje keys
-- list` and the admin API. Authentication does not read it: it loads the key's own stream, which
-- is never behind. The secret's hash is not copied here.
CREATE TABLE api_keys
(
    key_id        text PRIMARY KEY,
    name          text        NOT NULL,
    role          text        NOT NULL,
    -- the hotel, or '*' for an admin key of every hotel
    scope         text        NOT NULL,
    expires_at    timestamptz,
    issued_at     timestamptz NOT NULL,
    issued_by     text        NOT NULL,
    revoked_at    timestamptz,
    revoked_by    text,
    last_sequence bigint      NOT NULL
);
