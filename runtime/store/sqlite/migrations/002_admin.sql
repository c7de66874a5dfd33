-- Admin: API tokens (their hashes only), secret values (encrypted, with what rotation replaced) and the
-- audit log; and an index for the open dead letters, which replays now set apart from the replayed ones.
-- Every time is an integer of epoch milliseconds (UTC), as in 001.

CREATE TABLE tokens (
  id           TEXT    NOT NULL PRIMARY KEY,
  name         TEXT    NOT NULL,            -- not unique: ids are
  role         TEXT    NOT NULL CHECK (role IN ('viewer', 'editor', 'operator', 'admin')),
  hash         TEXT    NOT NULL UNIQUE,     -- of the token: the token itself is never stored
  created_at   INTEGER NOT NULL,
  created_by   TEXT,
  revoked_at   INTEGER,
  last_used_at INTEGER                      -- written at most once a minute per token
);

-- Every value a secret had: the current one has valid_until NULL, a replaced one the time it stops being
-- accepted (its rotation's overlap). Values arrive encrypted: the store never sees plain text.
CREATE TABLE secrets (
  id          INTEGER PRIMARY KEY AUTOINCREMENT, -- a newer value has a higher id
  name        TEXT    NOT NULL,
  ciphertext  TEXT    NOT NULL,
  fingerprint TEXT    NOT NULL,
  set_at      INTEGER NOT NULL,
  set_by      TEXT,
  valid_until INTEGER
);
CREATE UNIQUE INDEX secrets_current ON secrets (name) WHERE valid_until IS NULL;
CREATE INDEX secrets_by_name ON secrets (name, id DESC);

CREATE TABLE audit (
  id      TEXT    NOT NULL PRIMARY KEY, -- time-ordered (see store-ids.ts): breaks ties between equal times
  at      INTEGER NOT NULL,
  actor   TEXT    NOT NULL,
  action  TEXT    NOT NULL,
  target  TEXT    NOT NULL,
  reason  TEXT,
  details TEXT    NOT NULL DEFAULT 'null' -- JSON
);
CREATE INDEX audit_by_at ON audit (at DESC, id DESC);

CREATE INDEX dead_letters_open ON dead_letters (created_at DESC, id DESC) WHERE replayed_at IS NULL;
CREATE INDEX dead_letters_open_by_flow ON dead_letters (flow_id, created_at DESC, id DESC) WHERE replayed_at IS NULL;
