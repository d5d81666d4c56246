-- Results people can trust while they look, at any volume:
--   * metrics: an experiment declares what it measures (one primary metric, which the
--     policy learns, and guardrails); rewards name their metric;
--   * phases: each change to a running experiment starts a new phase; decisions record theirs;
--   * lifecycle: experiments can be archived (read-only, hidden from the default list) or
--     deleted (hidden, their key never reused); decisions and rewards are always kept;
--   * rollups: per experiment, phase, arm, hour (and metric) sufficient statistics, appended
--     to in the transaction that writes the rows, so the views read aggregates instead of
--     every decision;
--   * statistics: fixed-horizon intervals and p-values beside always-valid ones
--     (asymptotic confidence sequences, Waudby-Smith et al. 2023), each experiment choosing
--     which it is judged by.

ALTER TABLE switchboard.experiments DROP CONSTRAINT experiments_status_check;
ALTER TABLE switchboard.experiments ADD CONSTRAINT experiments_status_check
    CHECK (status IN ('draft', 'running', 'paused', 'stopped', 'archived', 'deleted'));
ALTER TABLE switchboard.experiments ADD COLUMN analysis text NOT NULL DEFAULT 'sequential'
    CHECK (analysis IN ('sequential', 'fixed_horizon'));
ALTER TABLE switchboard.experiments ADD COLUMN phase integer NOT NULL DEFAULT 1 CHECK (phase >= 1);
-- The arm weights of each change of a fixed split, first to last (NULL until weights change):
-- a unit's arm is its first arm carried through each change (see SplitHistory.swift).
ALTER TABLE switchboard.experiments ADD COLUMN weight_history jsonb;
-- A retired arm gets no new units; its decisions and rewards stay in the results.
ALTER TABLE switchboard.arms ADD COLUMN retired boolean NOT NULL DEFAULT false;

CREATE TABLE switchboard.experiment_metrics (
    experiment text NOT NULL REFERENCES switchboard.experiments (key) ON DELETE CASCADE,
    name       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('binary', 'continuous', 'count')),
    direction  text NOT NULL CHECK (direction IN ('increase', 'decrease')),
    is_primary boolean NOT NULL,
    PRIMARY KEY (experiment, name)
);
CREATE UNIQUE INDEX experiment_metrics_one_primary ON switchboard.experiment_metrics (experiment) WHERE is_primary;
INSERT INTO switchboard.experiment_metrics (experiment, name, kind, direction, is_primary)
SELECT key, 'reward', 'continuous', 'increase', true FROM switchboard.experiments;

-- Each phase's definition as it started (arms with weights, policy, metrics).
CREATE TABLE switchboard.experiment_phases (
    experiment text NOT NULL REFERENCES switchboard.experiments (key) ON DELETE CASCADE,
    phase      integer NOT NULL CHECK (phase >= 1),
    started_at timestamptz NOT NULL DEFAULT now(),
    change     text NOT NULL,
    definition jsonb NOT NULL,
    PRIMARY KEY (experiment, phase)
);
INSERT INTO switchboard.experiment_phases (experiment, phase, started_at, change, definition)
SELECT e.key, 1, e.created_at, 'created',
       jsonb_build_object('arms', (SELECT jsonb_agg(jsonb_build_object('name', a.name, 'weight', a.weight) ORDER BY a.arm_index)
                                   FROM switchboard.arms a WHERE a.experiment = e.key),
                          'policy', e.policy)
FROM switchboard.experiments e;

ALTER TABLE switchboard.decisions ADD COLUMN phase integer NOT NULL DEFAULT 1;

-- Sufficient statistics, appended to in the transaction that writes the rows they count:
-- the group commit appends one row per experiment, phase and arm (and metric) of each
-- batch, which it sums itself (it sets switchboard.writer_rolls_up for its transaction);
-- any other writer (the default-reward sweep, psql) is rolled up by the statement triggers
-- below. Appending takes no lock another writer waits for; switchboard.compact_rollups()
-- (every replica runs it every few seconds) merges the rows of each key into one. Readers
-- sum whatever rows there are.
CREATE TABLE switchboard.arm_rollups (
    experiment         text NOT NULL,
    phase              integer NOT NULL,
    arm_index          integer NOT NULL,
    hour               timestamptz NOT NULL DEFAULT date_trunc('hour', now()),  -- of the decisions
    decisions          bigint NOT NULL,                -- decisions for the arm
    expected_decisions double precision NOT NULL       -- the sum of the arm's logged probability over every decision
);
CREATE INDEX arm_rollups_key ON switchboard.arm_rollups (experiment, phase, arm_index, hour);
CREATE INDEX arm_rollups_hour ON switchboard.arm_rollups (hour);

CREATE TABLE switchboard.metric_rollups (
    experiment        text NOT NULL,
    metric            text NOT NULL,
    phase             integer NOT NULL,                -- of the rewarded decision
    arm_index         integer NOT NULL,
    hour              timestamptz NOT NULL DEFAULT date_trunc('hour', now()),   -- of the rewards
    rewards           bigint NOT NULL,
    value_sum         double precision NOT NULL,
    value_sum_squares double precision NOT NULL
);
CREATE INDEX metric_rollups_key ON switchboard.metric_rollups (experiment, metric, phase, arm_index, hour);
CREATE INDEX metric_rollups_hour ON switchboard.metric_rollups (hour);

-- Whether this transaction's writer appends its own rollups (the group commit does).
CREATE FUNCTION switchboard.writer_rolls_up() RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT coalesce(current_setting('switchboard.writer_rolls_up', true), '') = 'on' $$;

CREATE FUNCTION switchboard.roll_up_decisions() RETURNS trigger
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
    RETURN NULL;
END $$;

CREATE TRIGGER decisions_roll_up AFTER INSERT ON switchboard.decisions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION switchboard.roll_up_decisions();

CREATE FUNCTION switchboard.roll_up_rewards() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF switchboard.writer_rolls_up() THEN RETURN NULL; END IF;
    INSERT INTO switchboard.metric_rollups (experiment, metric, phase, arm_index, hour, rewards, value_sum, value_sum_squares)
    SELECT d.experiment, n.metric, d.phase, d.arm_index, date_trunc('hour', n.created_at),
           count(*), sum(n.value), sum(n.value * n.value)
    FROM new_rows n JOIN switchboard.decisions d ON d.id = n.decision_id
    GROUP BY 1, 2, 3, 4, 5;
    RETURN NULL;
END $$;

CREATE TRIGGER rewards_roll_up AFTER INSERT ON switchboard.rewards
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION switchboard.roll_up_rewards();

-- Merges the rollup rows of each key appended in the last two hours into one; returns how
-- many rows fewer there are. Safe beside writers and other compactions: a row is deleted
-- and summed by exactly one statement, and rows not yet committed are left for next time.
CREATE FUNCTION switchboard.compact_rollups() RETURNS bigint
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
        RETURNING 1)
    SELECT (SELECT count(*) FROM arm_moved) - (SELECT count(*) FROM arm_merged)
         + (SELECT count(*) FROM metric_moved) - (SELECT count(*) FROM metric_merged)
$$;

-- Rows written before this migration.
INSERT INTO switchboard.arm_rollups (experiment, phase, arm_index, hour, decisions, expected_decisions)
SELECT experiment, phase, arm_index, hour, sum(decisions), sum(expected)
FROM (SELECT experiment, phase, arm_index, date_trunc('hour', created_at) AS hour, 1 AS decisions, 0::float8 AS expected
      FROM switchboard.decisions
      UNION ALL
      SELECT d.experiment, d.phase, (p.ordinality - 1)::integer, date_trunc('hour', d.created_at), 0, p.value
      FROM switchboard.decisions d, unnest(d.probabilities) WITH ORDINALITY AS p(value, ordinality)) t
GROUP BY experiment, phase, arm_index, hour;
INSERT INTO switchboard.metric_rollups (experiment, metric, phase, arm_index, hour, rewards, value_sum, value_sum_squares)
SELECT d.experiment, r.metric, d.phase, d.arm_index, date_trunc('hour', r.created_at), count(*), sum(r.value), sum(r.value * r.value)
FROM switchboard.rewards r JOIN switchboard.decisions d ON d.id = r.decision_id
GROUP BY 1, 2, 3, 4, 5;

-- exp(x), or 0 where PostgreSQL's exp would underflow (it raises an error instead of
-- returning 0): p-values of very large effects are then 0, not a failed query.
CREATE FUNCTION switchboard.exp_or_zero(x double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT CASE WHEN x < -740 THEN 0 ELSE exp(x) END $$;

-- gamma_p of 005, with its exponentials guarded against underflow (a z of 40 failed).
CREATE OR REPLACE FUNCTION switchboard.gamma_p(a double precision, x double precision) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    total double precision; term double precision; ap double precision;
    b double precision; c double precision; d double precision; h double precision;
    an double precision; delta double precision; log_prefix double precision;
BEGIN
    IF x <= 0 THEN RETURN 0; END IF;
    log_prefix := -x + a * ln(x) - switchboard.ln_gamma(a);
    IF x < a + 1 THEN
        ap := a; total := 1 / a; term := total;
        FOR n IN 1..1000 LOOP
            ap := ap + 1; term := term * x / ap; total := total + term;
            EXIT WHEN abs(term) < abs(total) * 1e-16;
        END LOOP;
        RETURN switchboard.exp_or_zero(log_prefix + ln(total));
    END IF;
    b := x + 1 - a; c := 1e300; d := 1 / b; h := d;
    FOR i IN 1..1000 LOOP
        an := -i * (i - a); b := b + 2;
        d := an * d + b; IF abs(d) < 1e-300 THEN d := 1e-300; END IF;
        c := b + an / c; IF abs(c) < 1e-300 THEN c := 1e-300; END IF;
        d := 1 / d; delta := d * c; h := h * delta;
        EXIT WHEN abs(delta - 1) < 1e-16;
    END LOOP;
    RETURN 1 - switchboard.exp_or_zero(log_prefix + ln(h));
END $$;

-- Always-valid statistics: the asymptotic confidence sequence of Waudby-Smith, Arbour,
-- Sinha, Kennedy and Ramdas, "Time-uniform central limit theory and asymptotic confidence
-- sequences" (2023, arXiv:2103.06476), as GrowthBook and Eppo use it. `s2` is the variance
-- of one observation of the estimate (n times its squared standard error), `n` the number
-- of observations, `tuning` the sample size at which the sequence is tightest.
-- ρ that makes the sequence tightest at n = tuning, for two-sided level alpha.
CREATE FUNCTION switchboard.sequential_rho(alpha double precision, tuning double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT sqrt((-2 * ln(alpha) + ln(-2 * ln(alpha) + 1)) / tuning)
$$;

-- Half the width of the (1 − alpha) confidence sequence at n observations.
CREATE FUNCTION switchboard.sequential_halfwidth(s2 double precision, n double precision, alpha double precision,
                                                 tuning double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN n > 0 AND s2 >= 0 THEN
        sqrt(s2) * sqrt(2 * (n * rho * rho + 1) / (n * n * rho * rho) * ln(sqrt(n * rho * rho + 1) / alpha)) END
    FROM (SELECT switchboard.sequential_rho(alpha, tuning) AS rho) r
$$;

-- The always-valid p-value of the estimate `estimate` (with variance `s2` per observation):
-- the smallest alpha whose confidence sequence excludes 0, min(1, 1 / E_n) for the mixture
-- e-value E_n = exp(ρ² n² θ² / (2 s2 (n ρ² + 1))) / sqrt(n ρ² + 1).
CREATE FUNCTION switchboard.sequential_p_value(estimate double precision, s2 double precision, n double precision,
                                               alpha double precision, tuning double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN n > 0 AND s2 > 0 THEN
        least(1, switchboard.exp_or_zero(ln(sqrt(n * rho * rho + 1)) - rho * rho * n * n * estimate * estimate / (2 * s2 * (n * rho * rho + 1)))) END
    FROM (SELECT switchboard.sequential_rho(alpha, tuning) AS rho) r
$$;

DROP VIEW switchboard.experiment_results;
DROP VIEW switchboard.hourly_results;
DROP VIEW switchboard.experiment_srm;
DROP VIEW switchboard.arm_statistics;

-- Per experiment, phase and arm: decisions and the decisions expected from the logged
-- probabilities. The row with phase NULL is every phase together.
CREATE VIEW switchboard.arm_decisions AS
SELECT a.experiment, p.phase, a.arm_index, a.name AS arm, (a.name = e.control_arm) AS is_control,
       coalesce(sum(r.decisions), 0)::bigint AS decisions,
       coalesce(sum(r.expected_decisions), 0)::float8 AS expected_decisions
FROM switchboard.arms a
JOIN switchboard.experiments e ON e.key = a.experiment
JOIN switchboard.experiment_phases p ON p.experiment = a.experiment
LEFT JOIN switchboard.arm_rollups r ON r.experiment = a.experiment AND r.phase = p.phase AND r.arm_index = a.arm_index
GROUP BY GROUPING SETS ((a.experiment, a.arm_index, a.name, e.control_arm, p.phase),
                        (a.experiment, a.arm_index, a.name, e.control_arm));

-- Per experiment, phase (NULL: all phases), metric and arm: decisions, rewards, mean and
-- standard deviation, the 95 % interval of the mean and of the lift against control
-- (Welch, normal approximation) with its p-value, the same three as always-valid
-- confidence sequences (`seq_*`, tightest near 5,000 rewards), and for guardrails whether
-- the experiment's analysis finds the metric moving the wrong way.
CREATE VIEW switchboard.metric_statistics AS
SELECT t.experiment, t.phase, t.metric, t.is_primary, t.arm_index, t.arm, t.is_control,
       t.decisions, t.expected_decisions, t.rewards, t.value_sum, t.mean, t.sd,
       t.mean - t.half AS ci_low, t.mean + t.half AS ci_high,
       t.lift,
       CASE WHEN t.c_mean <> 0 THEN t.lift / abs(t.c_mean) END AS relative_lift,
       t.lift - t.lift_half AS lift_ci_low, t.lift + t.lift_half AS lift_ci_high,
       CASE WHEN t.lift_variance > 0 THEN switchboard.normal_two_sided_p(t.lift / sqrt(t.lift_variance)) END AS p_value,
       t.mean - t.seq_half AS seq_ci_low, t.mean + t.seq_half AS seq_ci_high,
       t.lift - t.seq_lift_half AS seq_lift_ci_low, t.lift + t.seq_lift_half AS seq_lift_ci_high,
       CASE WHEN t.lift_variance > 0 THEN
           switchboard.sequential_p_value(t.lift, (t.rewards + t.c_rewards) * t.lift_variance, t.rewards + t.c_rewards, 0.05, 5000)
       END AS seq_p_value,
       coalesce(NOT t.is_primary AND CASE
           WHEN t.direction = 'increase' THEN
               CASE WHEN t.analysis = 'sequential' THEN t.lift + t.seq_lift_half ELSE t.lift + t.lift_half END < 0
           ELSE
               CASE WHEN t.analysis = 'sequential' THEN t.lift - t.seq_lift_half ELSE t.lift - t.lift_half END > 0
           END, false) AS guardrail_violated
FROM (
    SELECT x.*,
           CASE WHEN NOT x.is_control THEN x.mean - x.c_mean END AS lift,
           1.959963984540054 * x.sd / sqrt(nullif(x.rewards, 0)) AS half,
           switchboard.sequential_halfwidth(x.sd * x.sd, x.rewards, 0.05, 5000) AS seq_half,
           1.959963984540054 * sqrt(x.lift_variance) AS lift_half,
           switchboard.sequential_halfwidth((x.rewards + x.c_rewards) * x.lift_variance, x.rewards + x.c_rewards, 0.05, 5000) AS seq_lift_half
    FROM (
        SELECT c.*,
               CASE WHEN NOT c.is_control AND c.rewards > 1 AND c.c_rewards > 1
                    THEN c.sd * c.sd / c.rewards + c.c_sd * c.c_sd / c.c_rewards END AS lift_variance
        FROM (
            SELECT m.*,
                   max(m.rewards) FILTER (WHERE m.is_control) OVER w AS c_rewards,
                   max(m.mean) FILTER (WHERE m.is_control) OVER w AS c_mean,
                   max(m.sd) FILTER (WHERE m.is_control) OVER w AS c_sd
            FROM (
                SELECT s.*, d.arm, d.is_control, d.decisions, d.expected_decisions, md.is_primary, md.direction, e.analysis,
                       s.value_sum / nullif(s.rewards, 0) AS mean,
                       CASE WHEN s.rewards > 1 THEN
                           sqrt(greatest(s.value_sum_squares - s.value_sum * s.value_sum / s.rewards, 0) / (s.rewards - 1)) END AS sd
                FROM (
                    SELECT a.experiment, p.phase, m.name AS metric, a.arm_index,
                           coalesce(sum(r.rewards), 0)::bigint AS rewards,
                           coalesce(sum(r.value_sum), 0)::float8 AS value_sum,
                           coalesce(sum(r.value_sum_squares), 0)::float8 AS value_sum_squares
                    FROM switchboard.arms a
                    JOIN switchboard.experiment_phases p ON p.experiment = a.experiment
                    JOIN switchboard.experiment_metrics m ON m.experiment = a.experiment
                    LEFT JOIN switchboard.metric_rollups r
                           ON r.experiment = a.experiment AND r.phase = p.phase AND r.arm_index = a.arm_index AND r.metric = m.name
                    GROUP BY GROUPING SETS ((a.experiment, m.name, a.arm_index, p.phase), (a.experiment, m.name, a.arm_index))) s
                JOIN switchboard.arm_decisions d
                  ON d.experiment = s.experiment AND d.arm_index = s.arm_index AND d.phase IS NOT DISTINCT FROM s.phase
                JOIN switchboard.experiment_metrics md ON md.experiment = s.experiment AND md.name = s.metric
                JOIN switchboard.experiments e ON e.key = s.experiment) m
            WINDOW w AS (PARTITION BY m.experiment, m.metric, m.phase)) c) x) t;

-- The primary metric over every phase, with the columns this view had before metrics and
-- phases (one row per experiment and arm).
CREATE VIEW switchboard.arm_statistics AS
SELECT experiment, arm_index, arm, is_control, decisions, expected_decisions, rewards, mean, sd, ci_low, ci_high,
       lift, relative_lift, p_value, seq_ci_low, seq_ci_high, lift_ci_low, lift_ci_high, seq_lift_ci_low, seq_lift_ci_high,
       seq_p_value
FROM switchboard.metric_statistics
WHERE phase IS NULL AND is_primary;

-- Per experiment and phase (NULL: all phases): the sample-ratio-mismatch chi-square test of
-- the decisions against the allocation expected from the logged probabilities.
CREATE VIEW switchboard.experiment_srm AS
SELECT experiment, phase,
       sum(decisions)::bigint AS decisions,
       sum((decisions - expected_decisions) ^ 2 / expected_decisions) FILTER (WHERE expected_decisions > 0) AS chi_square,
       (count(*) FILTER (WHERE expected_decisions > 0) - 1)::integer AS degrees_of_freedom,
       CASE WHEN count(*) FILTER (WHERE expected_decisions > 0) > 1 THEN
           switchboard.chi_square_p(
               sum((decisions - expected_decisions) ^ 2 / expected_decisions) FILTER (WHERE expected_decisions > 0),
               (count(*) FILTER (WHERE expected_decisions > 0) - 1)::integer) END AS p_value
FROM switchboard.arm_decisions
GROUP BY experiment, phase;

-- Per experiment, metric, arm and hour: decisions made in the hour, rewards received in
-- it, and their sum and mean.
CREATE VIEW switchboard.hourly_results AS
WITH decided AS (
    SELECT experiment, arm_index, hour, sum(decisions)::bigint AS decisions
    FROM switchboard.arm_rollups GROUP BY experiment, arm_index, hour),
rewarded AS (
    SELECT experiment, metric, arm_index, hour, sum(rewards)::bigint AS rewards, sum(value_sum) AS value_sum,
           sum(value_sum_squares) AS value_sum_squares
    FROM switchboard.metric_rollups GROUP BY experiment, metric, arm_index, hour),
hours AS (
    SELECT m.experiment, m.name AS metric, m.is_primary, d.arm_index, d.hour
    FROM switchboard.experiment_metrics m JOIN decided d ON d.experiment = m.experiment
    UNION
    SELECT m.experiment, m.name, m.is_primary, r.arm_index, r.hour
    FROM switchboard.experiment_metrics m JOIN rewarded r ON r.experiment = m.experiment AND r.metric = m.name)
SELECT h.experiment, h.metric, h.is_primary, h.arm_index, a.name AS arm, h.hour,
       coalesce(d.decisions, 0) AS decisions, coalesce(r.rewards, 0) AS rewards,
       coalesce(r.value_sum, 0) AS value_sum, coalesce(r.value_sum_squares, 0) AS value_sum_squares,
       r.value_sum / nullif(r.rewards, 0) AS mean
FROM hours h
JOIN switchboard.arms a ON a.experiment = h.experiment AND a.arm_index = h.arm_index
LEFT JOIN decided d ON d.experiment = h.experiment AND d.arm_index = h.arm_index AND d.hour = h.hour
LEFT JOIN rewarded r ON r.experiment = h.experiment AND r.metric = h.metric AND r.arm_index = h.arm_index AND r.hour = h.hour;

-- The hourly rows accumulated: up to the end of each hour, per metric and arm, the
-- decisions, rewards, mean, 95 % interval and confidence sequence (the results page plots it).
CREATE VIEW switchboard.cumulative_results AS
WITH running AS (
    SELECT experiment, metric, is_primary, arm_index, arm, hour,
           sum(decisions) OVER w AS decisions, sum(rewards) OVER w AS rewards,
           sum(value_sum) OVER w AS value_sum, sum(value_sum_squares) OVER w AS value_sum_squares
    FROM switchboard.hourly_results
    WINDOW w AS (PARTITION BY experiment, metric, arm_index ORDER BY hour)),
moments AS (
    SELECT r.*, r.value_sum / nullif(r.rewards, 0) AS mean,
           CASE WHEN r.rewards > 1 THEN
               sqrt(greatest(r.value_sum_squares - r.value_sum * r.value_sum / r.rewards, 0) / (r.rewards - 1)) END AS sd
    FROM running r)
SELECT experiment, metric, is_primary, arm_index, arm, hour, decisions::bigint, rewards::bigint, mean,
       mean - 1.959963984540054 * sd / sqrt(nullif(rewards, 0)) AS ci_low,
       mean + 1.959963984540054 * sd / sqrt(nullif(rewards, 0)) AS ci_high,
       mean - switchboard.sequential_halfwidth(sd * sd, rewards, 0.05, 5000) AS seq_ci_low,
       mean + switchboard.sequential_halfwidth(sd * sd, rewards, 0.05, 5000) AS seq_ci_high
FROM moments;

-- Per experiment and arm: decisions, rewards of the primary metric, their sum and mean.
CREATE VIEW switchboard.experiment_results AS
SELECT s.experiment, s.arm_index, s.arm, s.is_control, s.decisions, s.rewards,
       s.value_sum AS reward_sum, s.mean AS mean_reward
FROM switchboard.metric_statistics s
WHERE s.phase IS NULL AND s.is_primary;
