-- Quality sampling: a share of each reviewer's decisions, decided again by a supervisor who
-- does not see the first decision. One sample per decision; the second look is written once.
CREATE TABLE rereviews (
    id TEXT PRIMARY KEY,
    decision_id TEXT NOT NULL UNIQUE REFERENCES decisions(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    school_id TEXT NOT NULL,
    reviewer_id TEXT NOT NULL REFERENCES users(id),
    sampled_at BIGINT NOT NULL,
    supervisor_id TEXT REFERENCES users(id),
    kind TEXT,
    reasons_json TEXT,
    comment TEXT,
    agrees BIGINT,
    decided_at BIGINT
);
-- Open samples oldest first (decided_at IS NULL), done ones newest first, per school.
CREATE INDEX rereviews_by_state ON rereviews (school_id, decided_at, sampled_at);
CREATE INDEX rereviews_by_reviewer ON rereviews (reviewer_id, decided_at);

-- Overrides waiting for a second supervisor, and how they were answered.
CREATE TABLE override_requests (
    id TEXT PRIMARY KEY,
    client_decision_id TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL REFERENCES cases(id),
    school_id TEXT NOT NULL,
    requested_by TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    reasons_json TEXT NOT NULL,
    comment TEXT,
    override_comment TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    answered_by TEXT REFERENCES users(id),
    answer_comment TEXT,
    answered_at BIGINT
);
-- At most one override of a case waits at a time.
CREATE UNIQUE INDEX override_requests_one_pending ON override_requests (case_id) WHERE status = 'pending';
CREATE INDEX override_requests_by_status ON override_requests (status, requested_at);
