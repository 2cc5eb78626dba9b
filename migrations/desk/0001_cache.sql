-- Local cache of the reviewer workstation (one SQLite file per server + account).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every case this workstation knows: queue rows (summary only) and claimed items (with detail).
CREATE TABLE items (
    item_id      TEXT PRIMARY KEY,
    student_name TEXT NOT NULL,
    student_no   TEXT NOT NULL,
    school       TEXT NOT NULL,
    college      TEXT NOT NULL DEFAULT '',
    submitted_ms INTEGER NOT NULL,
    round        INTEGER NOT NULL,
    flagged      INTEGER NOT NULL DEFAULT 0,
    -- pending | claimed | decided | synced | conflict
    status       TEXT NOT NULL,
    lease_until_ms INTEGER,
    -- Order in which this workstation claimed the item: the J/K work list.
    claim_seq    INTEGER,
    -- The server's review record (JSON), fetched with the claim.
    detail       TEXT,
    hint_verdict TEXT,
    hints        TEXT,
    updated_ms   INTEGER NOT NULL
);
CREATE INDEX items_status ON items (status, submitted_ms);
CREATE INDEX items_claim ON items (claim_seq) WHERE claim_seq IS NOT NULL;

CREATE TABLE images (
    item_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    PRIMARY KEY (item_id, kind)
);

-- Decisions made here, kept until the server has accepted or refused them.
CREATE TABLE outbox (
    decision_id  TEXT PRIMARY KEY,
    item_id      TEXT NOT NULL,
    -- JSON of the decision (approve | reject with reasons and comment).
    body         TEXT NOT NULL,
    decided_ms   INTEGER NOT NULL,
    -- queued | synced | conflict
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    synced_ms    INTEGER
);
CREATE INDEX outbox_state ON outbox (state, decided_ms);

-- Decisions the server refused: shown to the reviewer until acknowledged, never deleted.
CREATE TABLE conflicts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id  TEXT NOT NULL,
    item_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    code         TEXT NOT NULL,
    message_zh   TEXT NOT NULL,
    message_en   TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    acknowledged_ms INTEGER
);
