-- Per experiment and arm: decisions, rewards (metric 'reward'), their sum and mean.
-- Arms with no decisions yet appear with zero counts.
CREATE OR REPLACE VIEW switchboard.experiment_results AS
SELECT a.experiment,
       a.arm_index,
       a.name                                   AS arm,
       (a.name = e.control_arm)                 AS is_control,
       count(d.id)                              AS decisions,
       count(r.decision_id)                     AS rewards,
       coalesce(sum(r.value), 0)                AS reward_sum,
       avg(r.value)                             AS mean_reward
FROM switchboard.arms a
JOIN switchboard.experiments e ON e.key = a.experiment
LEFT JOIN switchboard.decisions d ON d.experiment = a.experiment AND d.arm_index = a.arm_index
LEFT JOIN switchboard.rewards r ON r.decision_id = d.id AND r.metric = 'reward'
GROUP BY a.experiment, a.arm_index, a.name, e.control_arm;
