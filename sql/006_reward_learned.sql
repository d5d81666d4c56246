-- Whether the policy learned from each reward (false for other metrics, late rewards,
-- stopped experiments and decisions the policy did not make), so the policy statistics
-- can be replayed from PostgreSQL exactly.
ALTER TABLE switchboard.rewards ADD COLUMN learned boolean NOT NULL DEFAULT false;
-- Rewards stored before this migration: the 'reward' metric was learned from.
UPDATE switchboard.rewards SET learned = true WHERE metric = 'reward';
