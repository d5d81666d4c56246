/// Every policy Switchboard ships, in the order they are listed.
public enum BuiltInPolicies {
    public static let all: [any Policy.Type] = [
        UniformRandom.self, WeightedSplit.self, EpsilonGreedy.self, UCB1.self, ThompsonBernoulli.self,
        ThompsonGaussian.self, Softmax.self, Exp3.self, DiscountedThompson.self, LinUCB.self, ThompsonEnsemble.self,
    ]
}
