#!/usr/bin/python3
"""Reference ridge regressions for internal/mapping, computed with scikit-learn.

Writes ridge.json. For each case, the features of member m, image i, feature j are the float32
value hashed from (m, i, j) by feature() below (the Go test computes the same numbers), and the
raw responses (neurons × images × repeats, null for an empty repeat slot) are drawn with numpy.
The script then runs upstream's code paths of classes/class_linear_mapping_ensemble_ridgereg.py
(reference/upstream.md §7) on float64 copies of the features, with sklearn.linear_model.Ridge:
the default alpha, fits on images 0…t−1 with predictions for the rest, the seeded 8-fold
cross-validation (perform_cross_validation_for_ensemble) and choose_alpha.

Usage: /usr/bin/python3 testdata/gen_ridge.py OUTDIR
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.linear_model import Ridge


def features(members, m, p, scale):
    i = np.arange(m, dtype=np.uint64)[None, :, None]
    j = np.arange(p, dtype=np.uint64)[None, None, :]
    k = np.arange(members, dtype=np.uint64)[:, None, None]
    u = (i * np.uint64(2654435761) + j * np.uint64(40503) + k * np.uint64(97) + np.uint64(1)) & np.uint64(0xFFFFFFFF)
    u ^= u >> np.uint64(13)
    u = (u * np.uint64(1103515245) + np.uint64(12345)) & np.uint64(0xFFFFFFFF)
    u ^= u >> np.uint64(16)
    return (((u % np.uint64(20001)).astype(np.float64) / 10000.0 + 0.5) * scale).astype(np.float32)


def compute_r2_ER(responses_true, responses_hat):
    num_images = responses_true.shape[1]
    num_repeats = np.median(np.sum(~np.isnan(responses_true[0, :, :]), axis=1))
    responses_mean = np.nanmean(responses_true, axis=2)
    sigma2 = np.nanmean(np.nanvar(responses_true, axis=2, ddof=1), axis=1)
    X_model = responses_hat - np.mean(responses_hat, axis=1)[:, np.newaxis]
    X_responses = responses_mean - np.mean(responses_mean, axis=1)[:, np.newaxis]
    SS_model = np.sum(X_model**2, axis=1)
    SS_numerator = np.sum(X_model * X_responses, axis=1)**2 - sigma2 / num_repeats * SS_model
    SS_responses = np.sum(X_responses**2, axis=1)
    SS_denominator = SS_model * SS_responses - sigma2 / num_repeats * (num_images - 1) * SS_model
    return SS_numerator / SS_denominator


def default_alpha(Xtrain):
    n = Xtrain.shape[0]
    X = np.reshape(Xtrain, (n, -1))
    return 0.01 * np.median(np.var(X, axis=0) * (n - 1)**2)


def get_ridge_regression(Xtrain, Ytrain, Xval, Xtest, alpha=None):
    if alpha is None:
        alpha = default_alpha(Xtrain)
    ridger = Ridge(alpha=alpha)
    ridger.fit(Xtrain, Ytrain.T)
    return ridger.predict(Xval).T, ridger.predict(Xtest).T


def get_ensemble_predictions(embeds, responses_train, inds_train, inds_val, inds_test, alpha=None):
    Y_hat_val = np.zeros((responses_train.shape[0], inds_val.size))
    Y_hat_test = np.zeros((responses_train.shape[0], inds_test.size))
    for X in embeds:
        v, t = get_ridge_regression(X[inds_train], responses_train[:, inds_train], X[inds_val], X[inds_test], alpha)
        Y_hat_val += v
        Y_hat_test += t
    return Y_hat_val / len(embeds), Y_hat_test / len(embeds)


def folds(num_images):
    q = num_images // 8
    for ifold in range(8):
        inds_test = np.arange(ifold * q, (ifold + 1) * q)
        inds_val = np.arange(num_images - (ifold + 1) * q, num_images - ifold * q)
        inds_train = np.array([x for x in range(8 * q) if x not in inds_test and x not in inds_val])
        yield inds_train, inds_val, inds_test


def cross_validate(embeds, raw, alpha):
    num_images = embeds[0].shape[0]
    np.random.seed(314159)
    r = np.random.permutation(num_images)
    embeds = [X[r] for X in embeds]
    responses = raw[:, r, :]
    responses_train = np.nanmean(responses, axis=2)
    hat_val = np.zeros((raw.shape[0], num_images))
    hat_test = np.zeros((raw.shape[0], num_images))
    for inds_train, inds_val, inds_test in folds(num_images):
        v, t = get_ensemble_predictions(embeds, responses_train, inds_train, inds_val, inds_test, alpha)
        hat_val[:, inds_val] = v
        hat_test[:, inds_test] = t
    return (compute_r2_ER(responses[:, :-4, :], hat_test[:, :-4]),
            compute_r2_ER(responses[:, :-4, :], hat_val[:, :-4]))


def choose_alpha(embeds, raw, alpha_min=1e-5, alpha_max=1e5):
    responses_train = np.nanmean(raw, axis=2)
    inds_train, inds_val, inds_test = list(folds(raw.shape[1]))[1]

    def score(alpha):
        v, _ = get_ensemble_predictions(embeds, responses_train, inds_train, inds_val, inds_test, alpha)
        return np.mean(compute_r2_ER(raw[:, inds_val, :], v))

    R2_min, R2_max = score(alpha_min), score(alpha_max)
    alpha_middle = alpha_min + (alpha_max - alpha_min) / 2.
    R2_middle = score(alpha_middle)
    for _ in range(10):
        if R2_min > R2_middle:
            alpha_max, R2_max = alpha_middle, R2_middle
            alpha_middle = alpha_min + (alpha_max - alpha_min) / 2.
            R2_middle = score(alpha_middle)
        elif R2_max > R2_middle:
            alpha_min, R2_min = alpha_middle, R2_middle
            alpha_middle = alpha_min + (alpha_max - alpha_min) / 2.
            R2_middle = score(alpha_middle)
        else:
            alpha_left = alpha_min + (alpha_middle - alpha_min) / 2.
            R2_left = score(alpha_left)
            alpha_right = alpha_middle + (alpha_max - alpha_middle) / 2.
            R2_right = score(alpha_right)
            if R2_left > R2_middle and R2_left > R2_right:
                alpha_max, R2_max = alpha_middle, R2_middle
                alpha_middle, R2_middle = alpha_left, R2_left
            elif R2_right > R2_middle and R2_right > R2_left:
                alpha_min, R2_min = alpha_middle, R2_middle
                alpha_middle, R2_middle = alpha_right, R2_right
            else:
                alpha_min, R2_min = alpha_left, R2_left
                alpha_max, R2_max = alpha_right, R2_right
    if R2_min > R2_middle and R2_min > R2_max:
        return alpha_min
    elif R2_max > R2_middle and R2_max > R2_min:
        return alpha_max
    return alpha_middle


def case(name, seed, members, m, p, scale, active, n, r, t):
    rng = np.random.default_rng(seed)
    embeds = [X.astype(np.float64) for X in features(members, m, p, scale)]
    w = rng.normal(size=(p, n))
    w[active:] = 0  # the signal lives in the first features
    signal = (embeds[0] - embeds[0].mean(axis=0)) @ w
    signal = signal / signal.std(axis=0) * 2.0 + 5.0
    raw = signal.T[:, :, None] + rng.normal(size=(n, m, r)) * 1.5
    raw[:, rng.random(m) < 0.3, r - 1] = np.nan  # some images have one repeat fewer
    out = {"name": name, "members": members, "m": m, "p": p, "scale": scale, "n": n, "r": r, "t": t,
           "raw": [None if np.isnan(v) else float(v) for v in raw.ravel()]}
    train, rest = np.arange(t), np.arange(t, m)
    Y = np.nanmean(raw, axis=2)
    out["default_alpha"] = float(default_alpha(embeds[0][train]))
    fits = []
    for alpha in [None, 100.0, 1e-5]:
        _, pred = get_ridge_regression(embeds[0][train], Y[:, train], embeds[0][rest], embeds[0][rest], alpha)
        fits.append({"alpha": -1.0 if alpha is None else alpha, "pred": pred.ravel().tolist()})
    out["fits"] = fits
    cvs = []
    for alpha in [None, 100.0]:
        test, val = cross_validate(embeds, raw, alpha)
        cvs.append({"alpha": -1.0 if alpha is None else alpha, "test": test.tolist(), "val": val.tolist()})
    out["cv"] = cvs
    out["chosen_alpha"] = float(choose_alpha(embeds, raw))
    return out


def main():
    doc = {"numpy": np.__version__, "sklearn": sklearn.__version__, "cases": [
        case("kernel", 1, 3, 44, 150, 1.0, 20, 4, 5, 30),
        case("primal", 2, 2, 53, 12, 256.0, 20, 3, 6, 30),
    ]}
    with open(os.path.join(sys.argv[1], "ridge.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
