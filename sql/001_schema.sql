-- Switchboard's record: experiments, their arms, every decision and every reward.
CREATE SCHEMA IF NOT EXISTS switchboard;

CREATE TABLE switchboard.experiments (
    key                   text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    control_arm           text NOT NULL,
    policy                jsonb,                       -- {"name","version","config"} or NULL for the hash split
    context_features      text[] NOT NULL DEFAULT '{}',
    sticky_ttl_seconds    integer,
    reward_window_seconds integer,
    salt                  text NOT NULL,
    hash_version          integer NOT NULL,
    status                text NOT NULL DEFAULT 'running'
                          CHECK (status IN ('draft', 'running', 'paused', 'stopped')),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE switchboard.arms (
    experiment text NOT NULL REFERENCES switchboard.experiments (key) ON DELETE CASCADE,
    arm_index  integer NOT NULL CHECK (arm_index >= 0),
    name       text NOT NULL,
    weight     double precision NOT NULL CHECK (weight >= 0),
    backend    text,
    PRIMARY KEY (experiment, arm_index),
    UNIQUE (experiment, name)
);

CREATE TABLE switchboard.decisions (
    id         uuid PRIMARY KEY,                       -- UUIDv7: time-ordered
    experiment text NOT NULL,
    arm_index  integer NOT NULL,
    unit       text NOT NULL,
    propensity double precision NOT NULL CHECK (propensity > 0 AND propensity <= 1),
    context    jsonb,
    policy     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (experiment, arm_index) REFERENCES switchboard.arms (experiment, arm_index)
);
CREATE INDEX decisions_experiment_time ON switchboard.decisions (experiment, created_at);

CREATE TABLE switchboard.rewards (
    decision_id uuid NOT NULL REFERENCES switchboard.decisions (id),
    metric      text NOT NULL DEFAULT 'reward',
    value       double precision NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (decision_id, metric)                  -- a repeat is a duplicate, never counted twice
);
