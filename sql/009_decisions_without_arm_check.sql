-- Decisions are the hottest insert (one row per assignment or prediction). The foreign key
-- (experiment, arm_index) -> arms ran a trigger and a `FOR KEY SHARE` lookup for every
-- row: measured with bench/http, it cost PostgreSQL about 4 µs of CPU per decision and
-- the bandit assign route 8-11 % of its throughput on a 2-core machine.
--
-- Only the service writes decisions, with an arm index it has checked against the
-- experiment's arms (the plugin's answer is range-checked), and arms are never updated
-- or deleted once an experiment exists. So the database keeps the cheap checks and the
-- views keep joining arms explicitly.
ALTER TABLE switchboard.decisions DROP CONSTRAINT decisions_experiment_arm_index_fkey;
ALTER TABLE switchboard.decisions ADD CONSTRAINT decisions_arm_index_check CHECK (arm_index >= 0);
