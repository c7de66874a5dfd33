-- The first schema: flows and their versions, events with their steps and lineage,
-- dedupe claims, the work queue and the dead letters.
-- Every time is an integer of epoch milliseconds (UTC): it sorts and compares as a number.

CREATE TABLE flow_versions (
  flow_id   TEXT    NOT NULL,
  version   INTEGER NOT NULL CHECK (version > 0),
  name      TEXT    NOT NULL,
  document  TEXT    NOT NULL, -- canonical JSON of the flow document
  hash      TEXT    NOT NULL, -- sha256 of the canonical JSON, hex
  saved_at  INTEGER NOT NULL,
  saved_by  TEXT,
  PRIMARY KEY (flow_id, version)
) WITHOUT ROWID;

CREATE TABLE deployments (
  flow_id     TEXT    NOT NULL PRIMARY KEY,
  version     INTEGER NOT NULL,
  deployed_at INTEGER NOT NULL,
  FOREIGN KEY (flow_id, version) REFERENCES flow_versions (flow_id, version)
) WITHOUT ROWID;

CREATE TABLE events (
  id           TEXT    NOT NULL PRIMARY KEY,
  request_id   TEXT    NOT NULL,
  flow_id      TEXT,             -- null for a rejected request no flow took
  flow_version INTEGER,
  path         TEXT    NOT NULL,
  status       TEXT    NOT NULL CHECK (status IN ('accepted', 'processing', 'completed', 'dead', 'rejected', 'duplicate')),
  received_at  INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  headers      TEXT    NOT NULL DEFAULT '{}', -- JSON, credentials masked
  raw_body     TEXT,             -- null once retention removed it, and for rejected requests
  size_bytes   INTEGER NOT NULL,
  duplicate_of TEXT,
  test         INTEGER NOT NULL DEFAULT 0 CHECK (test IN (0, 1)),
  rejection    TEXT              -- JSON {status, code, message, diagnosis?, details?}
);
CREATE INDEX events_by_received ON events (received_at DESC, id DESC);
CREATE INDEX events_by_flow ON events (flow_id, received_at DESC, id DESC);
CREATE INDEX events_by_status ON events (status, received_at DESC, id DESC);

CREATE TABLE steps (
  event_id    TEXT    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  node        TEXT    NOT NULL,
  kind        TEXT    NOT NULL,
  phase       TEXT    NOT NULL CHECK (phase IN ('guard', 'work')),
  port        TEXT,
  attempt     INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  duration_ms REAL    NOT NULL,
  step        TEXT    NOT NULL, -- JSON: the whole step as the engine recorded it
  PRIMARY KEY (event_id, seq)
) WITHOUT ROWID;

CREATE TABLE lineage (
  event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  node     TEXT NOT NULL,
  lineage  TEXT NOT NULL, -- JSON: output field -> event fields
  PRIMARY KEY (event_id, node)
) WITHOUT ROWID;

CREATE TABLE dedupe_claims (
  scope      TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  event_id   TEXT    NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX dedupe_claims_by_expiry ON dedupe_claims (expires_at);

CREATE TABLE work_items (
  id               TEXT    NOT NULL PRIMARY KEY,
  event_id         TEXT    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  flow_id          TEXT    NOT NULL,
  flow_version     INTEGER NOT NULL,
  node             TEXT    NOT NULL,
  message          TEXT    NOT NULL, -- JSON {payload, error?, lineage?}
  attempt          INTEGER NOT NULL DEFAULT 1,
  run_at           INTEGER NOT NULL,
  lease_owner      TEXT,
  lease_expires_at INTEGER
);
-- Due work is found in run_at order; leased items are few (workers x batch), so skipping them is cheap.
CREATE INDEX work_items_due ON work_items (run_at, id);
CREATE INDEX work_items_by_event ON work_items (event_id);
CREATE INDEX work_items_by_owner ON work_items (lease_owner) WHERE lease_owner IS NOT NULL;

CREATE TABLE dead_letters (
  id           TEXT    NOT NULL PRIMARY KEY,
  event_id     TEXT    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  flow_id      TEXT    NOT NULL,
  flow_version INTEGER NOT NULL,
  node         TEXT    NOT NULL,
  error        TEXT    NOT NULL, -- JSON StepErrorInfo
  message      TEXT    NOT NULL, -- JSON {payload, error?, lineage?}
  created_at   INTEGER NOT NULL,
  replayed_at  INTEGER
);
CREATE INDEX dead_letters_by_flow ON dead_letters (flow_id, created_at DESC, id DESC);
CREATE INDEX dead_letters_by_created ON dead_letters (created_at DESC, id DESC);
CREATE INDEX dead_letters_by_event ON dead_letters (event_id);
