-- Crypto-shredding: one AES-256-GCM key per guest of a hotel. Guests' contact data and words
-- are stored in events sealed with their key (`{"$sealed": {"kid", "nonce", "data", ...}}`);
-- forgetting a guest deletes the row, and every copy of those events — the store, its backups,
-- the events topic — becomes unreadable at once, while the events themselves (and the audit
-- chain over them) stay as they were.
--   subject: SHA-256 of "<tenant>\0<guest_ref>", so this table does not name the guest either.
CREATE TABLE guest_keys
(
    kid        text PRIMARY KEY,
    tenant_id  text NOT NULL,
    subject    text NOT NULL,
    secret     text NOT NULL,
    created_at text NOT NULL,
    UNIQUE (tenant_id, subject)
);
