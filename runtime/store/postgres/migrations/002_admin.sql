-- Admin, as SQLite's 002: API tokens (their hashes only), secret values (encrypted, with what rotation
-- replaced) and the audit log. Types and collations as in 001.

CREATE TABLE tokens (
  id           text COLLATE "C" NOT NULL PRIMARY KEY,
  name         text             NOT NULL,        -- not unique: ids are
  role         text             NOT NULL CHECK (role IN ('viewer', 'editor', 'operator', 'admin')),
  hash         text             NOT NULL UNIQUE, -- of the token: the token itself is never stored
  created_at   timestamptz      NOT NULL,
  created_by   text,
  revoked_at   timestamptz,
  last_used_at timestamptz                       -- written at most once a minute per token
);

-- Every value a secret had: the current one has valid_until NULL, a replaced one the time it stops being
-- accepted (its rotation's overlap). Values arrive encrypted: the store never sees plain text.
CREATE TABLE secrets (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- a newer value has a higher id
  name        text COLLATE "C" NOT NULL,
  ciphertext  text             NOT NULL,
  fingerprint text             NOT NULL,
  set_at      timestamptz      NOT NULL,
  set_by      text,
  valid_until timestamptz
);
CREATE UNIQUE INDEX secrets_current ON secrets (name) WHERE valid_until IS NULL;
CREATE INDEX secrets_by_name ON secrets (name, id DESC);

CREATE TABLE audit (
  id      text COLLATE "C" NOT NULL PRIMARY KEY, -- time-ordered (see store-ids.ts): breaks ties between equal times
  at      timestamptz      NOT NULL,
  actor   text             NOT NULL,
  action  text             NOT NULL,
  target  text             NOT NULL,
  reason  text,
  details text             NOT NULL DEFAULT 'null' -- JSON
);
CREATE INDEX audit_by_at ON audit (at DESC, id DESC);
