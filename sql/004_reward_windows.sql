-- Reward windows: a decision with no reward by the end of its experiment's window counts
-- as the experiment's default reward (stored with source 'default'); rewards that arrive
-- after the window are stored but not learned from.
ALTER TABLE switchboard.experiments ADD COLUMN default_reward double precision;
ALTER TABLE switchboard.rewards ADD COLUMN source text NOT NULL DEFAULT 'client'
    CHECK (source IN ('client', 'default'));
