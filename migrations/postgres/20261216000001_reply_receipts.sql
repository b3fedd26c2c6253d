-- What became of the bot's and staff's replies on the guest's platform (WhatsApp's statuses), for
-- the analysts' read rate: one row per recorded receipt (kind 'receipt'), from the
-- `conversation-stats` projection like the other turns. A message's receipts only climb (sent,
-- failed, delivered, read), so a message has at most one row per status.
ALTER TABLE analytics_turns DROP CONSTRAINT analytics_turns_kind_check;
ALTER TABLE analytics_turns
    ADD CONSTRAINT analytics_turns_kind_check CHECK (kind IN ('intent', 'handoff', 'receipt'));
ALTER TABLE analytics_turns ADD COLUMN message_id text;
ALTER TABLE analytics_turns ADD COLUMN receipt_status text;
ALTER TABLE analytics_turns ADD COLUMN failure_code bigint;

-- Replies with a receipt, per hotel, day (of the first receipt) and channel, and how many of them
-- reached the guest's phone, were read, or failed: read rate = read_replies / replies.
CREATE VIEW reply_read_rate AS
SELECT tenant_id, day, channel, count(*) AS replies,
       sum(delivered) AS delivered_replies, sum(was_read) AS read_replies,
       sum(failed) AS failed_replies
FROM (SELECT tenant_id, channel, message_id, min(day) AS day,
             max(CASE WHEN receipt_status IN ('delivered', 'read') THEN 1 ELSE 0 END) AS delivered,
             max(CASE WHEN receipt_status = 'read' THEN 1 ELSE 0 END) AS was_read,
             max(CASE WHEN receipt_status = 'failed' THEN 1 ELSE 0 END) AS failed
      FROM analytics_turns
      WHERE kind = 'receipt'
      GROUP BY tenant_id, channel, message_id) AS receipts
GROUP BY tenant_id, day, channel;
