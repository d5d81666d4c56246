-- Experiments as OpenFeature flags (docs/interfaces.md):
--   * an arm may carry a typed value (string, boolean, number or JSON object), the flag's
--     value when a unit gets that arm;
--   * a unit's latest decision in an experiment is found by (experiment, unit), so a
--     tracking event for a unit becomes a reward for that decision.
ALTER TABLE switchboard.arms ADD COLUMN value jsonb;
CREATE INDEX decisions_experiment_unit ON switchboard.decisions (experiment, unit, created_at);
