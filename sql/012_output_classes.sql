-- What a model experiment's models predicted: `decision_classes` records, per prediction,
-- the classes its arm's model output (one per input row; OutputClasses.swift says how a
-- class is read from the outputs), and `class_rollups` counts them per experiment, phase,
-- arm, hour and class, as `arm_rollups` counts decisions (same writers, same compaction).

-- One row per prediction whose model's outputs held classes. Written by the group commit
-- with the decision's batch, or in a later batch for a returning unit whose held arm's
-- model inferred after its decision was stored.
CREATE TABLE switchboard.decision_classes (
    decision_id uuid NOT NULL,               -- switchboard.decisions (id); one row per decision, by the writer (no index: writes stay cheap)
    experiment  text NOT NULL,
    phase       integer NOT NULL,
    arm_index   integer NOT NULL,
    classes     bigint[] NOT NULL,           -- one per output row
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE switchboard.class_rollups (
    experiment  text NOT NULL,
    phase       integer NOT NULL,
    arm_index   integer NOT NULL,
    hour        timestamptz NOT NULL DEFAULT date_trunc('hour', now()),  -- of the classes' rows
    class       bigint NOT NULL,
    output_rows bigint NOT NULL                                          -- output rows of that class
);
CREATE INDEX class_rollups_key ON switchboard.class_rollups (experiment, phase, arm_index, hour, class);
CREATE INDEX class_rollups_hour ON switchboard.class_rollups (hour);

-- Rolls up classes written by any writer but the group commit (which sums its own).
CREATE FUNCTION switchboard.roll_up_classes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF switchboard.writer_rolls_up() THEN RETURN NULL; END IF;
    INSERT INTO switchboard.class_rollups (experiment, phase, arm_index, hour, class, output_rows)
    SELECT n.experiment, n.phase, n.arm_index, date_trunc('hour', n.created_at), c.class, count(*)
    FROM new_rows n, unnest(n.classes) AS c(class)
    GROUP BY 1, 2, 3, 4, 5;
    RETURN NULL;
END $$;

CREATE TRIGGER decision_classes_roll_up AFTER INSERT ON switchboard.decision_classes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION switchboard.roll_up_classes();

-- Merges the class rollup rows of each key of the last two hours into one, as
-- switchboard.compact_rollups() does for the others; returns how many rows fewer there are.
CREATE FUNCTION switchboard.compact_class_rollups() RETURNS bigint
LANGUAGE sql AS $$
    WITH class_keys AS (
        SELECT experiment, phase, arm_index, hour, class FROM switchboard.class_rollups
        WHERE hour >= date_trunc('hour', now()) - interval '2 hours'
        GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1),
    class_moved AS (
        DELETE FROM switchboard.class_rollups r USING class_keys k
        WHERE r.experiment = k.experiment AND r.phase = k.phase AND r.arm_index = k.arm_index AND r.hour = k.hour
          AND r.class = k.class
        RETURNING r.*),
    class_merged AS (
        INSERT INTO switchboard.class_rollups (experiment, phase, arm_index, hour, class, output_rows)
        SELECT experiment, phase, arm_index, hour, class, sum(output_rows) FROM class_moved GROUP BY 1, 2, 3, 4, 5
        RETURNING 1)
    SELECT (SELECT count(*) FROM class_moved) - (SELECT count(*) FROM class_merged)
$$;

-- Per experiment, phase (NULL: all phases), arm and class: the output rows of that class
-- and their share of the arm's classified output rows, with the arm's model.
CREATE VIEW switchboard.output_classes AS
SELECT t.experiment, t.phase, t.arm_index, a.name AS arm, a.backend AS model, t.class, t.output_rows,
       t.output_rows::float8 / sum(t.output_rows) OVER (PARTITION BY t.experiment, t.phase, t.arm_index) AS share
FROM (SELECT experiment, phase, arm_index, class, sum(output_rows)::bigint AS output_rows
      FROM switchboard.class_rollups
      GROUP BY GROUPING SETS ((experiment, phase, arm_index, class), (experiment, arm_index, class))) t
JOIN switchboard.arms a ON a.experiment = t.experiment AND a.arm_index = t.arm_index;
