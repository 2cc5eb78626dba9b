-- The audit history's filters: the school an event belongs to, and an index per filter.
-- `school_id` is a lookup column derived from the event's subject when it is appended (the case,
-- the staff account or the school it is about); it is not part of the sealed content, which
-- `audit verify` checks. Events about nobody's school (a failed sign-in) have none.
ALTER TABLE audit_events ADD COLUMN school_id TEXT;
UPDATE audit_events SET school_id = COALESCE(
    (SELECT c.school_id FROM cases c WHERE c.id = audit_events.subject),
    (SELECT u.school_id FROM users u WHERE u.id = audit_events.subject),
    (SELECT s.id FROM schools s WHERE s.id = audit_events.subject));
CREATE INDEX audit_school ON audit_events (school_id, seq);
CREATE INDEX audit_actor ON audit_events (actor_id, seq);
CREATE INDEX audit_action ON audit_events (action, seq);
CREATE INDEX audit_time ON audit_events (at_ms, seq);
