-- Policies are plugins: decisions keep the seed the policy was called with (so any
-- decision can be recomputed), and registered plugin libraries are remembered so every
-- replica (and a restarted one) loads them again.
ALTER TABLE switchboard.decisions ADD COLUMN seed bigint;

CREATE TABLE switchboard.policy_libraries (
    sha256        text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    path          text NOT NULL,
    policies      text[] NOT NULL,                 -- name@version of each policy it provides
    registered_at timestamptz NOT NULL DEFAULT now()
);
