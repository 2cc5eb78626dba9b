-- Statistics read decisions alone, without joining cases, students or the audit log for each
-- of a season's decisions: each decision keeps its school and college, when the decided
-- submission was made and when the deciding reviewer claimed it (NULL for overrides, which
-- are made without a claim), and which measures of the decided photo's analysis warned or
-- failed (space-separated codes; '' when all passed; NULL when it was not recorded, read
-- then from the attempt's report).
ALTER TABLE decisions ADD COLUMN school_id TEXT;
ALTER TABLE decisions ADD COLUMN college TEXT;
ALTER TABLE decisions ADD COLUMN submitted_at BIGINT;
ALTER TABLE decisions ADD COLUMN claimed_at BIGINT;
ALTER TABLE decisions ADD COLUMN doubted_measures TEXT;
UPDATE decisions SET
    school_id = (SELECT c.school_id FROM cases c WHERE c.id = decisions.case_id),
    college = (SELECT s.college FROM cases c JOIN students s ON s.id = c.student_id
               WHERE c.id = decisions.case_id),
    submitted_at = (SELECT MAX(a.at_ms) FROM audit_events a
                    WHERE a.subject = decisions.case_id AND a.action = 'submitted'
                      AND a.at_ms <= decisions.decided_at),
    claimed_at = CASE WHEN decisions.kind IN ('approve', 'reject') THEN
                     (SELECT MAX(a.at_ms) FROM audit_events a
                      WHERE a.subject = decisions.case_id AND a.action = 'claimed'
                        AND a.actor_id = decisions.reviewer_id
                        AND a.at_ms <= decisions.decided_at)
                 END;
CREATE INDEX decisions_time ON decisions (decided_at);
CREATE INDEX decisions_school_time ON decisions (school_id, decided_at);
