"""Thompson sampling regret of a published library (MABWiser) on Switchboard's test problem.

The problem is the one in Tests/PoliciesTests/Simulation/RegretSimulationTests.swift:
10 Bernoulli arms with means 0.02, 0.0311, ..., 0.12 and a horizon of 100,000 rounds.
Each round asks the library for an arm and teaches it the reward, as a service would.
Prints the mean cumulative pseudo-regret over the seeds and the library's rounds per second.

Run: bench/thompson-reference/run   (installs MABWiser into a private virtualenv)
"""
import sys
import time

import numpy as np
from mabwiser.mab import MAB, LearningPolicy

MEANS = [0.02 + i * 0.1 / 9 for i in range(10)]
HORIZON = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
SEEDS = range(1, (int(sys.argv[2]) if len(sys.argv) > 2 else 4) + 1)


def run(seed):
    rng = np.random.default_rng(seed)
    arms = list(range(len(MEANS)))
    mab = MAB(arms=arms, learning_policy=LearningPolicy.ThompsonSampling(), seed=seed)
    # MABWiser needs one fit before predict; a single neutral observation per arm is
    # negligible against 100,000 rounds and is not counted as regret.
    mab.fit(decisions=arms, rewards=[0] * len(arms))
    best = max(MEANS)
    regret = 0.0
    for _ in range(HORIZON):
        arm = mab.predict()
        reward = 1 if rng.random() < MEANS[arm] else 0
        mab.partial_fit(decisions=[arm], rewards=[reward])
        regret += best - MEANS[arm]
    return regret


started = time.process_time()
regrets = [run(seed) for seed in SEEDS]
elapsed = time.process_time() - started
print(f"mabwiser thompson: mean regret {np.mean(regrets):.0f} over {len(regrets)} seeds "
      f"(each: {', '.join(f'{r:.0f}' for r in regrets)}); horizon {HORIZON}")
print(f"mabwiser rounds per CPU-second: {HORIZON * len(regrets) / elapsed:.0f}")
