/*
 * Trains a small XGBoost classifier on the Iris CSV through the C API, saves it, and
 * writes the trained booster's own predictions, so a test can check that the `xgboost`
 * backend (loading the saved file) predicts the same.
 *
 * Usage: train_iris IRIS.csv MODEL_FOLDER  ->  MODEL_FOLDER/model.json and
 *        MODEL_FOLDER/expected.csv (one row per example: 3 probabilities)
 * Build: cc -O2 -o train_iris Tests/Fixtures/xgboost/train_iris.c -lxgboost
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

#define CHECK(call) do { if ((call) != 0) { fprintf(stderr, "%s: %s\n", #call, XGBGetLastError()); return 1; } } while (0)

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: train_iris IRIS.csv MODEL_FOLDER\n"); return 2; }
    FILE *csv = fopen(argv[1], "r");
    if (!csv) { perror(argv[1]); return 1; }
    float x[200 * 4], y[200];
    int n = 0;
    char line[256], species[64];
    if (!fgets(line, sizeof line, csv)) return 1;  /* header */
    while (n < 200 && fgets(line, sizeof line, csv)) {
        float *row = x + n * 4;
        if (sscanf(line, "%f,%f,%f,%f,%63s", &row[0], &row[1], &row[2], &row[3], species) != 5) continue;
        y[n] = strcmp(species, "setosa") == 0 ? 0 : strcmp(species, "versicolor") == 0 ? 1 : 2;
        n++;
    }
    fclose(csv);

    DMatrixHandle train;
    CHECK(XGDMatrixCreateFromMat(x, n, 4, -1.0f, &train));
    CHECK(XGDMatrixSetFloatInfo(train, "label", y, n));
    BoosterHandle booster;
    CHECK(XGBoosterCreate(&train, 1, &booster));
    const char *params[][2] = {{"objective", "multi:softprob"}, {"num_class", "3"}, {"max_depth", "3"}, {"eta", "0.3"},
                               {"nthread", "1"}, {"seed", "7"}, {"tree_method", "exact"}};
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) CHECK(XGBoosterSetParam(booster, params[i][0], params[i][1]));
    for (int iteration = 0; iteration < 20; iteration++) CHECK(XGBoosterUpdateOneIter(booster, iteration, train));

    char path[4096];
    snprintf(path, sizeof path, "%s/model.json", argv[2]);
    CHECK(XGBoosterSaveModel(booster, path));
    bst_ulong length;
    const float *result;
    CHECK(XGBoosterPredict(booster, train, 0, 0, 0, &length, &result));
    snprintf(path, sizeof path, "%s/expected.csv", argv[2]);
    FILE *out = fopen(path, "w");
    if (!out) { perror(path); return 1; }
    for (int i = 0; i < n; i++) fprintf(out, "%.9g,%.9g,%.9g\n", result[i * 3], result[i * 3 + 1], result[i * 3 + 2]);
    fclose(out);
    XGBoosterFree(booster);
    XGDMatrixFree(train);
    return 0;
}
