-- Canary deploys, as SQLite's 003: beside the deployed (stable) version, a candidate version may take a
-- share of the flow's new events. Both columns are set together or not at all.

ALTER TABLE deployments
  ADD COLUMN canary_version integer,
  ADD COLUMN canary_percent integer CHECK (canary_percent BETWEEN 1 AND 99),
  ADD CONSTRAINT deployments_canary_saved
    FOREIGN KEY (flow_id, canary_version) REFERENCES flow_versions (flow_id, version),
  ADD CONSTRAINT deployments_canary_whole CHECK ((canary_version IS NULL) = (canary_percent IS NULL)),
  ADD CONSTRAINT deployments_canary_differs CHECK (canary_version <> version);
