-- The archetype each fit put each user in, so that a cohort can be defined by pattern membership
-- (`{"pattern": "<id>"}`). Pseudonymous (the subject hash of user_features) and never read out
-- one by one: cohorts count their members under the release rule. Erasure removes a user's rows;
-- a version's rows go with it. A version a cohort refers to is kept past the usual few.
CREATE TABLE user_pattern_assignments (
  version text NOT NULL REFERENCES behavior_pattern_models (version) ON DELETE CASCADE,
  subject_hash int8 NOT NULL,
  pattern_id text NOT NULL,
  PRIMARY KEY (version, subject_hash)
);
CREATE INDEX user_pattern_assignments_by_pattern ON user_pattern_assignments (pattern_id);
CREATE INDEX user_pattern_assignments_by_subject ON user_pattern_assignments (subject_hash);
