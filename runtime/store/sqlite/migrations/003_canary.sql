-- Canary deploys: beside the deployed (stable) version, a candidate version may take a share of the flow's
-- new events. Both columns are set together or not at all, the candidate is a saved version other than the
-- stable one: the writer checks both (SQLite cannot add a table constraint to an existing table).

ALTER TABLE deployments ADD COLUMN canary_version INTEGER;
ALTER TABLE deployments ADD COLUMN canary_percent INTEGER CHECK (canary_percent BETWEEN 1 AND 99);
