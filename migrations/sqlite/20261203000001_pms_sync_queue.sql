-- The PMS sync's retry schedule: one row per reservation whose last PMS operation failed and is
-- due again at due_at_ms (Unix milliseconds). Fed from `PmsSyncFailed` events by the booking
-- process's checkpointed subscription, so it survives a restart and is rebuilt by a replay; a
-- row leaves when the operation succeeds, the reservation is settled or the sync gives up.
CREATE TABLE pms_sync_queue
(
    reservation_id text PRIMARY KEY,
    due_at_ms      bigint NOT NULL
);
CREATE INDEX pms_sync_queue_due ON pms_sync_queue (due_at_ms);
