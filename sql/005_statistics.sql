-- Experiment statistics in SQL: the same figures the results route returns.
--   switchboard.arm_statistics   per experiment and arm: decisions, rewards, mean, standard
--                                deviation, 95% confidence interval, lift against the
--                                control arm with a Welch p-value (normal approximation),
--                                and the decisions expected from the logged probabilities
--   switchboard.experiment_srm   per experiment: sample-ratio-mismatch chi-square and p-value
--                                against the expected allocation (for bandits, the sum of
--                                the logged arm probabilities of every decision)
--   switchboard.hourly_results   per experiment, arm and hour: decisions, rewards, mean
-- Rewards are the 'reward' metric.

-- Every arm's probability at decision time (a fixed split logs its shares).
ALTER TABLE switchboard.decisions ADD COLUMN probabilities double precision[];

-- ln Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; relative error < 1e-13).
CREATE FUNCTION switchboard.ln_gamma(x double precision) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    c double precision[] := ARRAY[0.99999999999980993, 676.5203681218851, -1259.1392167224028,
        771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
        9.9843695780195716e-6, 1.5056327351493116e-7];
    a double precision;
    t double precision;
BEGIN
    IF x < 0.5 THEN
        RETURN ln(pi() / abs(sin(pi() * x))) - switchboard.ln_gamma(1 - x);
    END IF;
    a := c[1];
    t := x - 1 + 7.5;
    FOR i IN 1..8 LOOP
        a := a + c[i + 1] / (x - 1 + i);
    END LOOP;
    RETURN 0.5 * ln(2 * pi()) + (x - 0.5) * ln(t) - t + ln(a);
END $$;

-- The regularized lower incomplete gamma function P(a, x) (series / continued fraction).
CREATE FUNCTION switchboard.gamma_p(a double precision, x double precision) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    total double precision; term double precision; ap double precision;
    b double precision; c double precision; d double precision; h double precision;
    an double precision; delta double precision;
BEGIN
    IF x <= 0 THEN RETURN 0; END IF;
    IF x < a + 1 THEN
        ap := a; total := 1 / a; term := total;
        FOR n IN 1..1000 LOOP
            ap := ap + 1; term := term * x / ap; total := total + term;
            EXIT WHEN abs(term) < abs(total) * 1e-16;
        END LOOP;
        RETURN total * exp(-x + a * ln(x) - switchboard.ln_gamma(a));
    END IF;
    b := x + 1 - a; c := 1e300; d := 1 / b; h := d;
    FOR i IN 1..1000 LOOP
        an := -i * (i - a); b := b + 2;
        d := an * d + b; IF abs(d) < 1e-300 THEN d := 1e-300; END IF;
        c := b + an / c; IF abs(c) < 1e-300 THEN c := 1e-300; END IF;
        d := 1 / d; delta := d * c; h := h * delta;
        EXIT WHEN abs(delta - 1) < 1e-16;
    END LOOP;
    RETURN 1 - exp(-x + a * ln(x) - switchboard.ln_gamma(a)) * h;
END $$;

-- Two-sided p-value of a standard normal statistic: 2 (1 − Φ(|z|)) = 1 − P(1/2, z²/2).
CREATE FUNCTION switchboard.normal_two_sided_p(z double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT 1 - switchboard.gamma_p(0.5, z * z / 2) $$;

-- Survival function of the chi-square distribution: 1 − P(df/2, x/2).
CREATE FUNCTION switchboard.chi_square_p(x double precision, df integer) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT 1 - switchboard.gamma_p(df / 2.0, x / 2) $$;

CREATE VIEW switchboard.arm_statistics AS
WITH arm_rewards AS (
    SELECT a.experiment, a.arm_index, a.name AS arm, (a.name = e.control_arm) AS is_control,
           count(d.id) AS decisions,
           count(r.value) AS rewards,
           avg(r.value) AS mean,
           stddev_samp(r.value) AS sd
    FROM switchboard.arms a
    JOIN switchboard.experiments e ON e.key = a.experiment
    LEFT JOIN switchboard.decisions d ON d.experiment = a.experiment AND d.arm_index = a.arm_index
    LEFT JOIN switchboard.rewards r ON r.decision_id = d.id AND r.metric = 'reward'
    GROUP BY a.experiment, a.arm_index, a.name, e.control_arm),
expected AS (
    SELECT a.experiment, a.arm_index,
           coalesce(sum(coalesce(d.probabilities[a.arm_index + 1], 0)), 0) AS expected_decisions
    FROM switchboard.arms a
    LEFT JOIN switchboard.decisions d ON d.experiment = a.experiment
    GROUP BY a.experiment, a.arm_index),
control AS (
    SELECT experiment, rewards AS c_rewards, mean AS c_mean, sd AS c_sd FROM arm_rewards WHERE is_control)
SELECT s.experiment, s.arm_index, s.arm, s.is_control, s.decisions, x.expected_decisions, s.rewards,
       s.mean, s.sd,
       s.mean - 1.959963984540054 * s.sd / sqrt(s.rewards) AS ci_low,
       s.mean + 1.959963984540054 * s.sd / sqrt(s.rewards) AS ci_high,
       CASE WHEN NOT s.is_control THEN s.mean - c.c_mean END AS lift,
       CASE WHEN NOT s.is_control AND c.c_mean <> 0 THEN (s.mean - c.c_mean) / abs(c.c_mean) END AS relative_lift,
       CASE WHEN NOT s.is_control AND s.rewards > 1 AND c.c_rewards > 1
                 AND s.sd * s.sd / s.rewards + c.c_sd * c.c_sd / c.c_rewards > 0
            THEN switchboard.normal_two_sided_p(
                     (s.mean - c.c_mean) / sqrt(s.sd * s.sd / s.rewards + c.c_sd * c.c_sd / c.c_rewards)) END AS p_value
FROM arm_rewards s
JOIN expected x ON x.experiment = s.experiment AND x.arm_index = s.arm_index
LEFT JOIN control c ON c.experiment = s.experiment;

CREATE VIEW switchboard.experiment_srm AS
SELECT experiment,
       sum(decisions) AS decisions,
       sum((decisions - expected_decisions) ^ 2 / expected_decisions) FILTER (WHERE expected_decisions > 0) AS chi_square,
       (count(*) FILTER (WHERE expected_decisions > 0) - 1)::integer AS degrees_of_freedom,
       CASE WHEN count(*) FILTER (WHERE expected_decisions > 0) > 1 THEN
           switchboard.chi_square_p(
               sum((decisions - expected_decisions) ^ 2 / expected_decisions) FILTER (WHERE expected_decisions > 0),
               (count(*) FILTER (WHERE expected_decisions > 0) - 1)::integer) END AS p_value
FROM switchboard.arm_statistics
GROUP BY experiment;

CREATE VIEW switchboard.hourly_results AS
SELECT d.experiment, d.arm_index, a.name AS arm, date_trunc('hour', d.created_at) AS hour,
       count(*) AS decisions, count(r.value) AS rewards, avg(r.value) AS mean
FROM switchboard.decisions d
JOIN switchboard.arms a ON a.experiment = d.experiment AND a.arm_index = d.arm_index
LEFT JOIN switchboard.rewards r ON r.decision_id = d.id AND r.metric = 'reward'
GROUP BY d.experiment, d.arm_index, a.name, date_trunc('hour', d.created_at);
