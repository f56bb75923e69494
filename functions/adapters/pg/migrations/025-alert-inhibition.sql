-- Inhibition (issue 18): the open critical alert of the same user that held back this lesser
-- alert's notifications, for `GET /v1/alerts` to list it under that one.
ALTER TABLE alerts ADD COLUMN inhibited_by text REFERENCES alerts (id) ON DELETE SET NULL;
CREATE INDEX alerts_inhibited_by ON alerts (inhibited_by) WHERE inhibited_by IS NOT NULL;
