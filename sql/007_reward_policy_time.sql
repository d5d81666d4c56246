-- The time (seconds since the experiment was created) each learned reward was given to
-- the policy's update, so a rebuild of the statistics from PostgreSQL replays exactly the
-- updates that were made (discounted policies weigh rewards by it).
ALTER TABLE switchboard.rewards ADD COLUMN policy_time double precision;
