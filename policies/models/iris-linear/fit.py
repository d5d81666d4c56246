#!/usr/bin/env python3
"""Fits the demo Iris classifier for the `linear` backend: multinomial logistic (softmax)
regression by full-batch gradient descent with a small L2 penalty, on standardised
features, then folds the standardisation into the weights. Pure Python, deterministic.

Usage: policies/models/iris-linear/fit.py Tests/Fixtures/iris/iris.csv > policies/models/iris-linear/model.json
"""
import csv
import json
import math
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
classes = ["setosa", "versicolor", "virginica"]
X = [[float(r[f]) for f in features] for r in rows]
y = [classes.index(r["species"]) for r in rows]
n, d, k = len(X), len(features), len(classes)
mean = [sum(x[j] for x in X) / n for j in range(d)]
std = [math.sqrt(sum((x[j] - mean[j]) ** 2 for x in X) / n) for j in range(d)]
Z = [[(x[j] - mean[j]) / std[j] for j in range(d)] for x in X]

W = [[0.0] * d for _ in range(k)]
b = [0.0] * k
rate, l2 = 0.5, 1e-3
for _ in range(3000):
    gW = [[l2 * W[c][j] for j in range(d)] for c in range(k)]
    gb = [0.0] * k
    for z, label in zip(Z, y):
        logits = [sum(W[c][j] * z[j] for j in range(d)) + b[c] for c in range(k)]
        m = max(logits)
        e = [math.exp(v - m) for v in logits]
        s = sum(e)
        for c in range(k):
            g = e[c] / s - (1.0 if c == label else 0.0)
            gb[c] += g / n
            for j in range(d):
                gW[c][j] += g * z[j] / n
    for c in range(k):
        b[c] -= rate * gb[c]
        for j in range(d):
            W[c][j] -= rate * gW[c][j]

# Fold (x - mean) / std into the weights: w' = w / std, b' = b - sum(w * mean / std).
weights = [[W[c][j] / std[j] for j in range(d)] for c in range(k)]
bias = [b[c] - sum(W[c][j] * mean[j] / std[j] for j in range(d)) for c in range(k)]
correct = 0
for x, label in zip(X, y):
    logits = [sum(weights[c][j] * x[j] for j in range(d)) + bias[c] for c in range(k)]
    correct += logits.index(max(logits)) == label
json.dump({"link": "softmax", "features": features, "classes": classes,
           "weights": weights, "bias": bias,
           "training_accuracy": correct / n}, sys.stdout, indent=2)
print()
