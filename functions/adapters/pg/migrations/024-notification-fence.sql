-- When the holder of a notification's claim began sending it (issue 18): set by a compare-and-set
-- on the claim's time just before the first send. A claim not begun within its lease is retaken
-- and sent by another; a holder that was only slow then finds its claim retaken and sends
-- nothing. A claim begun and not recorded within the lease may have gone out: it is recorded as
-- `unknown`, never sent twice.
ALTER TABLE alert_notifications ADD COLUMN sending_at timestamptz;
