-- Model backends registered on a running service (POST /v1/backends), remembered so every
-- replica (and a restarted one) loads them too. DELETE /v1/backends/{name} sets active to
-- false: routing stops, the row stays for the record.
CREATE TABLE switchboard.model_backends (
    name          text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    library       text NOT NULL,                   -- real path of the backend library
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    backend       text NOT NULL,                   -- name@version inside the library
    model         text NOT NULL,                   -- real path of the model folder
    config        jsonb NOT NULL DEFAULT '{}',
    active        boolean NOT NULL DEFAULT true,
    registered_at timestamptz NOT NULL DEFAULT now()
);
