-- Plugin libraries that brought a server down at run time. A replica that starts after
-- such a crash records the library here and every replica leaves it out at start: its
-- experiments answer 503 naming it, until an admin registers it again (which runs its
-- conformance check again and removes the row).
CREATE TABLE switchboard.plugin_quarantine (
    sha256         text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    path           text NOT NULL,
    reason         text NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now()
);
