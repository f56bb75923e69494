-- Per-user keys that seal stream payloads (crypto-shredding): DynamoDB's part in the local modes,
-- beside the stream they seal. A row goes when its user is erased, and the erasure rewrites the
-- table (VACUUM FULL) so no deleted key stays in a page of the data folder.
CREATE TABLE record_keys (
  subject text PRIMARY KEY,
  key_id text NOT NULL UNIQUE,
  key bytea NOT NULL
);
