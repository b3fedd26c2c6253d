-- How each guest message was read: in which language variant (es, en, pt-BR, pt-PT), and whether
-- it was taken as the answer to the bot's own question (`from_context`: confirmation, room_type,
-- dates…) rather than by the model alone. Rows written before this migration have neither.
ALTER TABLE analytics_turns ADD COLUMN locale text;
ALTER TABLE analytics_turns ADD COLUMN from_context text;

-- How often context decided a turn, per hotel, day, locale and what the bot had asked.
CREATE VIEW context_readings AS
SELECT tenant_id, day, locale, coalesce(from_context, 'none') AS from_context,
       count(*) AS messages, avg(confidence) AS avg_confidence
FROM analytics_turns
WHERE kind = 'intent'
GROUP BY tenant_id, day, locale, coalesce(from_context, 'none');
