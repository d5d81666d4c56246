-- What a model experiment's models predicted: each prediction's decision records the
-- classes its arm's model output (one per input row; see OutputClasses.swift for how a
-- class is read from the outputs), and `class_rollups` counts them per experiment, phase,
-- arm, hour and class, as `arm_rollups` counts decisions (same writers, same compaction).

ALTER TABLE switchboard.decisions ADD COLUMN output_classes bigint[];

CREATE TABLE switchboard.class_rollups (
    experiment  text NOT NULL,
    phase       integer NOT NULL,
    arm_index   integer NOT NULL,
    hour        timestamptz NOT NULL DEFAULT date_trunc('hour', now()),  -- of the decisions
    class       bigint NOT NULL,
    output_rows bigint NOT NULL                                          -- output rows of that class
);
CREATE INDEX class_rollups_key ON switchboard.class_rollups (experiment, phase, arm_index, hour, class);
CREATE INDEX class_rollups_hour ON switchboard.class_rollups (hour);

-- Rolls up decisions written by any writer but the group commit: their arms as before
-- (011), and now their output classes too.
CREATE OR REPLACE FUNCTION switchboard.roll_up_decisions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF switchboard.writer_rolls_up() THEN RETURN NULL; END IF;
    INSERT INTO switchboard.arm_rollups (experiment, phase, arm_index, hour, decisions, expected_decisions)
    SELECT experiment, phase, arm_index, hour, sum(decisions), sum(expected)
    FROM (SELECT experiment, phase, arm_index, date_trunc('hour', created_at) AS hour, 1 AS decisions, 0::float8 AS expected
          FROM new_rows
          UNION ALL
          SELECT n.experiment, n.phase, (p.ordinality - 1)::integer, date_trunc('hour', n.created_at), 0, p.value
          FROM new_rows n, unnest(n.probabilities) WITH ORDINALITY AS p(value, ordinality)) t
    GROUP BY experiment, phase, arm_index, hour;
    INSERT INTO switchboard.class_rollups (experiment, phase, arm_index, hour, class, output_rows)
    SELECT n.experiment, n.phase, n.arm_index, date_trunc('hour', n.created_at), c.class, count(*)
    FROM new_rows n, unnest(n.output_classes) AS c(class)
    GROUP BY 1, 2, 3, 4, 5;
    RETURN NULL;
END $$;

-- Sets the output classes of a decision recorded without them (a returning unit whose held
-- arm's model inferred after the decision was stored) and rolls them up under the
-- decision's hour; returns whether the decision was found without classes.
CREATE FUNCTION switchboard.set_output_classes(decision uuid, classes bigint[]) RETURNS boolean
LANGUAGE sql AS $$
    WITH updated AS (
        UPDATE switchboard.decisions SET output_classes = classes
        WHERE id = decision AND output_classes IS NULL
        RETURNING experiment, phase, arm_index, created_at),
    counted AS (
        INSERT INTO switchboard.class_rollups (experiment, phase, arm_index, hour, class, output_rows)
        SELECT u.experiment, u.phase, u.arm_index, date_trunc('hour', u.created_at), c.class, count(*)
        FROM updated u, unnest(classes) AS c(class)
        GROUP BY 1, 2, 3, 4, 5)
    SELECT EXISTS (SELECT 1 FROM updated)
$$;

-- 011's compaction, and the class rollups'.
CREATE OR REPLACE FUNCTION switchboard.compact_rollups() RETURNS bigint
LANGUAGE sql AS $$
    WITH arm_keys AS (
        SELECT experiment, phase, arm_index, hour FROM switchboard.arm_rollups
        WHERE hour >= date_trunc('hour', now()) - interval '2 hours'
        GROUP BY 1, 2, 3, 4 HAVING count(*) > 1),
    arm_moved AS (
        DELETE FROM switchboard.arm_rollups r USING arm_keys k
        WHERE r.experiment = k.experiment AND r.phase = k.phase AND r.arm_index = k.arm_index AND r.hour = k.hour
        RETURNING r.*),
    arm_merged AS (
        INSERT INTO switchboard.arm_rollups (experiment, phase, arm_index, hour, decisions, expected_decisions)
        SELECT experiment, phase, arm_index, hour, sum(decisions), sum(expected_decisions) FROM arm_moved GROUP BY 1, 2, 3, 4
        RETURNING 1),
    metric_keys AS (
        SELECT experiment, metric, phase, arm_index, hour FROM switchboard.metric_rollups
        WHERE hour >= date_trunc('hour', now()) - interval '2 hours'
        GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1),
    metric_moved AS (
        DELETE FROM switchboard.metric_rollups r USING metric_keys k
        WHERE r.experiment = k.experiment AND r.metric = k.metric AND r.phase = k.phase AND r.arm_index = k.arm_index
          AND r.hour = k.hour
        RETURNING r.*),
    metric_merged AS (
        INSERT INTO switchboard.metric_rollups (experiment, metric, phase, arm_index, hour, rewards, value_sum, value_sum_squares)
        SELECT experiment, metric, phase, arm_index, hour, sum(rewards), sum(value_sum), sum(value_sum_squares)
        FROM metric_moved GROUP BY 1, 2, 3, 4, 5
        RETURNING 1),
    class_keys AS (
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
    SELECT (SELECT count(*) FROM arm_moved) - (SELECT count(*) FROM arm_merged)
         + (SELECT count(*) FROM metric_moved) - (SELECT count(*) FROM metric_merged)
         + (SELECT count(*) FROM class_moved) - (SELECT count(*) FROM class_merged)
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
