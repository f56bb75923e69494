-- The audit trail: every read of analytics data, export, consent and configuration change,
-- append-only and hash-chained. Entry n's hash is
--   sha256(hash of entry n-1 || '\n' || n || '\n' || body)
-- (hex; the first entry chains to 64 zeros), so changing, removing or reordering an entry breaks
-- the chain from there on (`npm run audit:verify`). `body` is the entry as canonical JSON (keys
-- sorted): who, role, what, purpose, when and details; hashed as stored, byte for byte.
CREATE TABLE audit_log (
  seq bigint PRIMARY KEY,
  body text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);

-- The chain's tail: appends serialise on this row's lock, and it lets verification notice entries
-- cut from the end. `anchor_*` is the last entry the retention purge removed (seq 0 and zeros
-- before any), which the first kept entry chains to.
CREATE TABLE audit_head (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  seq bigint NOT NULL,
  hash text NOT NULL,
  anchor_seq bigint NOT NULL,
  anchor_hash text NOT NULL
);
INSERT INTO audit_head VALUES (true, 0, repeat('0', 64), 0, repeat('0', 64));

-- Append-only for everyone, the application's own role included: no UPDATE, and DELETE only for
-- the retention purge, which says so for its own transaction (and moves the anchor with it).
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('audit.retention_purge', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
