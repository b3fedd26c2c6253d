-- How each guest message was read (see the PostgreSQL twin).
ALTER TABLE analytics_turns ADD COLUMN locale text;
ALTER TABLE analytics_turns ADD COLUMN from_context text;

CREATE VIEW context_readings AS
SELECT tenant_id, day, locale, coalesce(from_context, 'none') AS from_context,
       count(*) AS messages, avg(confidence) AS avg_confidence
FROM analytics_turns
WHERE kind = 'intent'
GROUP BY tenant_id, day, locale, coalesce(from_context, 'none');
