-- gradphoto server schema (logical schema shared by the SQLite and PostgreSQL migrations).
-- Timestamps are epoch milliseconds, ids are text, booleans are 0/1 integers.

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('case_change', 0);
INSERT INTO counters (name, value) VALUES ('audit', 0);

CREATE TABLE schools (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    policy_json TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    school_id TEXT REFERENCES schools(id),
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE students (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools(id),
    name TEXT NOT NULL,
    id_number_enc BYTEA NOT NULL,
    id_number_hash TEXT NOT NULL,
    id_number_masked TEXT NOT NULL,
    student_no TEXT NOT NULL,
    college TEXT NOT NULL,
    major TEXT NOT NULL,
    level TEXT NOT NULL,
    graduation_year BIGINT NOT NULL,
    enrollment_photo TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (school_id, id_number_hash),
    UNIQUE (school_id, student_no)
);

CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL UNIQUE REFERENCES students(id),
    school_id TEXT NOT NULL REFERENCES schools(id),
    state TEXT NOT NULL,
    lease_holder TEXT REFERENCES users(id),
    lease_until BIGINT,
    change_seq BIGINT NOT NULL,
    round BIGINT NOT NULL DEFAULT 0,
    flagged BIGINT NOT NULL DEFAULT 0,
    face_match_failures BIGINT NOT NULL DEFAULT 0,
    last_match_passed BIGINT,
    submitted_attempt_id TEXT,
    paid_order_id TEXT,
    id_front_key TEXT,
    id_back_key TEXT,
    identity_verified_at BIGINT,
    record_confirmed_at BIGINT,
    submitted_at BIGINT,
    decided_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX cases_change_seq ON cases (change_seq);
CREATE INDEX cases_state ON cases (state, submitted_at);
CREATE INDEX cases_school ON cases (school_id, state);

CREATE TABLE codes (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    code_hash TEXT NOT NULL UNIQUE,
    code_enc BYTEA NOT NULL,
    status TEXT NOT NULL,
    bound_session_hash TEXT,
    claimed_at BIGINT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX codes_case ON codes (case_id, status);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id TEXT REFERENCES users(id),
    case_id TEXT REFERENCES cases(id),
    code_id TEXT REFERENCES codes(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_case ON sessions (case_id);

CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    version TEXT NOT NULL,
    accepted_at BIGINT NOT NULL
);
CREATE INDEX consents_case ON consents (case_id, kind);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    provider TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    status TEXT NOT NULL,
    provider_ref TEXT,
    round BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    paid_at BIGINT
);
CREATE INDEX orders_case ON orders (case_id, status);

CREATE TABLE attempts (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    round BIGINT NOT NULL,
    client_upload_id TEXT,
    status TEXT NOT NULL,
    error_code TEXT,
    error_zh TEXT,
    error_en TEXT,
    source TEXT NOT NULL,
    original_key TEXT NOT NULL,
    original_mime TEXT NOT NULL,
    original_size BIGINT NOT NULL,
    standardized_key TEXT,
    report_json TEXT,
    overall TEXT,
    face_distance DOUBLE PRECISION,
    face_same_person BIGINT,
    ocr_json TEXT,
    created_at BIGINT NOT NULL,
    analyzed_at BIGINT,
    UNIQUE (case_id, client_upload_id)
);
CREATE INDEX attempts_case ON attempts (case_id, created_at);

CREATE TABLE decisions (
    id TEXT PRIMARY KEY,
    client_decision_id TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL REFERENCES cases(id),
    attempt_id TEXT REFERENCES attempts(id),
    reviewer_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    reasons_json TEXT NOT NULL,
    comment TEXT,
    round BIGINT NOT NULL,
    decided_at BIGINT NOT NULL
);
CREATE INDEX decisions_case ON decisions (case_id, decided_at);

CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_subject ON audit_events (subject, seq);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    tries BIGINT NOT NULL DEFAULT 0,
    run_after BIGINT NOT NULL,
    locked_by TEXT,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (status, run_after);

CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL
);
