-- The first schema, as SQLite's 001 in PostgreSQL's types: flows and their versions, events with their
-- steps and lineage, dedupe claims, the work queue and the dead letters.
-- Times are timestamptz, written and read at millisecond precision (the ISO strings of the interface).
-- Ids and keys compare bytewise (COLLATE "C"), as in SQLite, whatever the database's locale, so lists
-- order ties the same way in both stores.
-- JSON is text: it is read whole, never queried inside, and text takes every string JSON.stringify makes
-- (jsonb refuses the escape \u0000). What a sender chose byte for byte (raw body, dedupe key) is bytea:
-- text cannot hold U+0000, and a delivery must not fail on its content.

CREATE TABLE flow_versions (
  flow_id  text COLLATE "C" NOT NULL,
  version  integer          NOT NULL CHECK (version > 0),
  name     text             NOT NULL,
  document text             NOT NULL, -- canonical JSON of the flow document
  hash     text             NOT NULL, -- sha256 of the canonical JSON, hex
  saved_at timestamptz      NOT NULL,
  saved_by text,
  PRIMARY KEY (flow_id, version)
);

CREATE TABLE deployments (
  flow_id     text COLLATE "C" NOT NULL PRIMARY KEY,
  version     integer          NOT NULL,
  deployed_at timestamptz      NOT NULL,
  FOREIGN KEY (flow_id, version) REFERENCES flow_versions (flow_id, version)
);

CREATE TABLE events (
  id           text COLLATE "C" NOT NULL PRIMARY KEY,
  request_id   text             NOT NULL,
  flow_id      text COLLATE "C",          -- null for a rejected request no flow took
  flow_version integer,
  path         text             NOT NULL,
  status       text             NOT NULL
    CHECK (status IN ('accepted', 'processing', 'completed', 'dead', 'rejected', 'duplicate')),
  received_at  timestamptz      NOT NULL,
  updated_at   timestamptz      NOT NULL,
  headers      text             NOT NULL DEFAULT '{}', -- JSON, credentials masked
  raw_body     bytea,                     -- UTF-8; null once retention removed it, and for rejected requests
  size_bytes   integer          NOT NULL,
  duplicate_of text COLLATE "C",
  test         boolean          NOT NULL DEFAULT false,
  rejection    text                       -- JSON {status, code, message, diagnosis?, details?}
);
CREATE INDEX events_by_received ON events (received_at DESC, id DESC);
CREATE INDEX events_by_flow ON events (flow_id, received_at DESC, id DESC);
CREATE INDEX events_by_status ON events (status, received_at DESC, id DESC);

CREATE TABLE steps (
  event_id    text COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  seq         integer          NOT NULL,
  node        text             NOT NULL,
  kind        text             NOT NULL,
  phase       text             NOT NULL CHECK (phase IN ('guard', 'work')),
  port        text,
  attempt     integer          NOT NULL,
  started_at  timestamptz      NOT NULL,
  duration_ms double precision NOT NULL,
  step        text             NOT NULL, -- JSON: the whole step as the engine recorded it
  PRIMARY KEY (event_id, seq)
);

CREATE TABLE lineage (
  event_id text COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  node     text COLLATE "C" NOT NULL,
  lineage  text             NOT NULL, -- JSON: output field -> event fields
  PRIMARY KEY (event_id, node)
);

CREATE TABLE dedupe_claims (
  scope      text COLLATE "C" NOT NULL,
  key        bytea            NOT NULL, -- UTF-8
  event_id   text COLLATE "C" NOT NULL,
  expires_at timestamptz      NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX dedupe_claims_by_expiry ON dedupe_claims (expires_at);

CREATE TABLE work_items (
  id               text COLLATE "C" NOT NULL PRIMARY KEY,
  event_id         text COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  flow_id          text COLLATE "C" NOT NULL,
  flow_version     integer          NOT NULL,
  node             text             NOT NULL,
  message          text             NOT NULL, -- JSON {payload, error?, lineage?}
  attempt          integer          NOT NULL DEFAULT 1,
  run_at           timestamptz      NOT NULL,
  lease_owner      text,
  lease_expires_at timestamptz
);
-- Due work is found in run_at order; leased items are few (workers x batch), so skipping them is cheap.
CREATE INDEX work_items_due ON work_items (run_at, id);
CREATE INDEX work_items_by_event ON work_items (event_id);
CREATE INDEX work_items_by_owner ON work_items (lease_owner) WHERE lease_owner IS NOT NULL;

CREATE TABLE dead_letters (
  id           text COLLATE "C" NOT NULL PRIMARY KEY,
  event_id     text COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  flow_id      text COLLATE "C" NOT NULL,
  flow_version integer          NOT NULL,
  node         text             NOT NULL,
  error        text             NOT NULL, -- JSON StepErrorInfo
  message      text             NOT NULL, -- JSON {payload, error?, lineage?}
  created_at   timestamptz      NOT NULL,
  replayed_at  timestamptz
);
CREATE INDEX dead_letters_by_flow ON dead_letters (flow_id, created_at DESC, id DESC);
CREATE INDEX dead_letters_by_created ON dead_letters (created_at DESC, id DESC);
CREATE INDEX dead_letters_by_event ON dead_letters (event_id);
CREATE INDEX dead_letters_open ON dead_letters (created_at DESC, id DESC) WHERE replayed_at IS NULL;
CREATE INDEX dead_letters_open_by_flow ON dead_letters (flow_id, created_at DESC, id DESC) WHERE replayed_at IS NULL;
