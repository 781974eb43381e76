"""Independent numpy port of upstream's pruning step 1 (classes/class_pruning.py, PruningClass:
prune_last_layer, then prune_layer for layers 3, 2, 1, 0, with prune_model zeroing the removed
filters' weights after each layer), run on a seeded random [100]*5 student.

Usage: gen_step1.py OUTDIR. Writes OUTDIR/step1.json: the teacher's responses, and for the upstream
rule and the exact rule (B9 fixed) each layer's scores, removal order, kept filters, the counts
whose fraction of variance was computed and the fractions.

The student's weights and the images come from a splitmix64 stream that the Go test
(TestAgainstNumpyPort) reproduces; the teacher is the student's own output (computed here in
float64) plus seeded noise, and is passed to the Go test through the JSON. Everything is float64
here, where Keras works in float32; ties in np.argsort are broken by index (kind='stable'),
where upstream's default sort leaves them unspecified.
"""
import json
import math
import os
import sys

import numpy as np

SEED = 20260415
FILTERS = [100] * 5
N_IMAGES = 16
STRIDES = [1, 2, 2, 1, 1]
MEAN_PIXEL = np.array([116.222, 109.270, 100.381])
EPS = 1e-3
MASK64 = (1 << 64) - 1


class Stream:
    """splitmix64: state advances by the golden gamma, each output is the mixed state."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self, n):
        gamma = np.uint64(0x9E3779B97F4A7C15)
        with np.errstate(over="ignore"):
            z = np.uint64(self.state) + gamma * np.arange(1, n + 1, dtype=np.uint64)
            self.state = (self.state + n * 0x9E3779B97F4A7C15) & MASK64
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))

    def uniform(self, shape, lo, hi):
        """float32(lo + (hi-lo)*u), u = the top 24 bits / 2^24."""
        n = int(np.prod(shape)) if len(shape) else 1
        u = (self.next(n) >> np.uint64(40)).astype(np.float64) * 2.0**-24
        return (lo + (hi - lo) * u).astype(np.float32).reshape(shape)

    def bytes(self, n):
        return (self.next(n) >> np.uint64(56)).astype(np.uint8)


def glorot(shape):
    rf = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    fan_in, fan_out = shape[-2] * rf, shape[-1] * rf
    return math.sqrt(6.0 / (fan_in + fan_out))


def student(s):
    """The 36 arrays in Keras get_weights() order, drawn in that order, each in C order."""
    w = []
    prev = 3
    for l, f in enumerate(FILTERS):
        if l == 0:
            shapes = [(5, 5, prev, f)]
        else:
            shapes = [(5, 5, prev, 1), (1, 1, prev, f)]
        for sh in shapes:
            lim = glorot(sh)
            w.append(s.uniform(sh, -lim, lim))
        w.append(s.uniform((f,), -0.1, 0.1))  # bias
        w.append(s.uniform((f,), 0.5, 1.5))  # gamma
        w.append(s.uniform((f,), -0.5, 0.5))  # beta
        w.append(s.uniform((f,), -0.5, 0.5))  # moving mean
        w.append(s.uniform((f,), 0.5, 1.5))  # moving variance
        prev = f
    sh = (28 * 28 * prev, 1)
    lim = glorot(sh)
    w.append(s.uniform(sh, -lim, lim))
    w.append(s.uniform((1,), -0.1, 0.1))
    return w


def pad_for(n, stride):
    out = -(-n // stride)
    total = max((out - 1) * stride + 5 - n, 0)
    return out, total // 2, total - total // 2


def conv_full(x, k):
    """x (N,H,W,C) float64, k (5,5,C,F): stride 1, 'same'."""
    n, h, wd, c = x.shape
    _, a, b = pad_for(h, 1)
    xp = np.pad(x, ((0, 0), (a, b), (a, b), (0, 0)))
    kk = k.reshape(25 * c, k.shape[3])
    out = np.empty((n, h, wd, k.shape[3]))
    for m in range(n):  # im2col one image at a time: rows (Y, X), columns (i, j, c) as k's order
        cols = np.empty((h, wd, 5, 5, c))
        for i in range(5):
            for j in range(5):
                cols[:, :, i, j, :] = xp[m, i:i + h, j:j + wd, :]
        out[m] = (cols.reshape(h * wd, 25 * c) @ kk).reshape(h, wd, -1)
    return out


def depthwise(x, d, stride):
    """x (N,H,W,C), d (5,5,C,1): 'same' padding, no bias."""
    n, h, wd, c = x.shape
    out_h, a, b = pad_for(h, stride)
    out = np.zeros((n, out_h, out_h, c))
    tmp = np.empty((out_h, out_h, c))
    for m in range(n):  # one image at a time, to stay in cache
        xp = np.pad(x[m], ((a, b), (a, b), (0, 0)))
        for i in range(5):
            for j in range(5):
                np.multiply(xp[i:i + stride * out_h:stride, j:j + stride * out_h:stride, :], d[i, j, :, 0], out=tmp)
                out[m] += tmp
    return out


def bn_relu(y, g, b, m, v):
    inv = g / np.sqrt(v + EPS)
    return np.maximum(y * inv + (b - m * inv), 0)


def layer_out(w, x, l):
    """Output of layer{l}_act for the input of layer l."""
    w = [a.astype(np.float64) for a in w]
    if l == 0:
        y = conv_full(x, w[0]) + w[1]
        return bn_relu(y, *w[2:6])
    i = 6 + 7 * (l - 1)
    z = depthwise(x, w[i], STRIDES[l])
    y = z @ w[i + 1][0, 0] + w[i + 2]
    return bn_relu(y, *w[i + 3:i + 7])


def activations(w, imgs, upto):
    x = imgs
    for l in range(upto + 1):
        x = layer_out(w, x, l)
    return x


def predict(w, imgs):
    a4 = activations(w, imgs, 4)
    return a4.reshape(a4.shape[0], -1) @ w[34].astype(np.float64)[:, 0] + float(w[35][0])


def prune_model(w, kept):
    """prune_model: zero every removed filter's output weights and bias, the next layer's
    depthwise kernel and pointwise row for it, or for layer 4 its Beta slice."""
    w = [a.copy() for a in w]
    out_idx = [0, 7, 14, 21, 28]
    for l in range(5):
        for f in range(FILTERS[l]):
            if f in kept[l]:
                continue
            w[out_idx[l]][:, :, :, f] = 0
            w[out_idx[l] + 1][f] = 0
            if l < 4:
                w[out_idx[l + 1] - 1][:, :, f, 0] = 0
                w[out_idx[l + 1]][0, 0, f, :] = 0
            else:
                beta = w[34][:, 0].reshape(28, 28, FILTERS[4])
                beta[:, :, f] = 0
                w[34][:, 0] = beta.reshape(-1)
    return w


def corr2(a, b):
    return np.corrcoef(a, b)[0, 1] ** 2


def prune_last_layer(w, imgs, teacher, threshold, exact, minf):
    a4 = activations(w, imgs, 4)
    beta = w[34].astype(np.float64).reshape(28, 28, -1)[np.newaxis]
    resp = np.sum(np.sum(beta * a4, axis=1), axis=1)  # (N, F4)
    sds = np.std(resp, axis=0)
    order = np.argsort(sds, kind="stable")
    fv_orig = corr2(np.sum(resp, axis=1), teacher)
    removed, tested = [], []
    nf = resp.shape[1]
    for j in range(nf):
        fv = corr2(np.sum(resp[:, order[j:]], axis=1), teacher)
        tested.append({"removed": j, "fv": float(fv)})
        if fv > threshold * fv_orig:
            removed.append(int(order[j]))
        else:
            break
    count = len(removed)
    if exact and removed:
        removed.pop()
    while nf - len(removed) < minf:
        removed.pop()
    return {"layer": 4, "scores": [float(v) for v in sds], "fv_full": float(fv_orig),
            "count": count - (1 if exact and count > 0 else 0), "removed": removed, "tested": tested}


def prune_layer(w, l, imgs, threshold, exact, minf):
    i = 6 + 7 * l  # layer l+1's depthwise kernel
    act = activations(w, imgs, l)
    z = depthwise(act, w[i].astype(np.float64), STRIDES[l + 1])
    P = w[i + 1].astype(np.float64)[0, 0]
    c = P.shape[0]
    scores = np.zeros(c)
    for j in range(c):
        ss = np.sum((z[:, :, :, j] - np.mean(z[:, :, :, j], axis=0)[np.newaxis]) ** 2)
        scores[j] = ss * np.sum(P[j] ** 2)
    order = np.argsort(scores, kind="stable")
    y = z @ P
    y_c = y - y.mean(axis=(0, 1, 2))
    y_norm = np.sum(y_c ** 2)
    fvs = np.full(c, np.nan)
    tested = []

    def fv_at(k):
        if np.isnan(fvs[k]):
            p = P.copy()
            p[order[:k], :] = 0
            yh = z @ p
            fvs[k] = 1 - np.sum(((yh - yh.mean(axis=(0, 1, 2))) - y_c) ** 2) / y_norm
            tested.append({"removed": int(k % c), "fv": float(fvs[k])})
        return fvs[k]

    k, lo, hi = c // 2, 0, c
    crossing = False
    while True:
        fk = fv_at(k)
        if k == 0 and fk < threshold:
            break
        if k == c - 1 and fk >= threshold:
            break
        fprev = fv_at(k - 1)
        if fprev >= threshold and fk < threshold:
            crossing = True
            break
        if fk < threshold:
            hi = k - 1
            k = int(np.floor((k - lo) / 2)) + lo
        else:
            lo = k + 1
            k = int(np.ceil((hi - k) / 2)) + k
    count = k - 1 if exact and crossing else k
    kk = int(np.clip(count, 0, c - minf))
    return {"layer": l, "scores": [float(v) for v in scores], "fv_full": 1.0, "count": count,
            "removed": [int(f) for f in order[:kk]], "tested": tested}


def step1(w, imgs, teacher, exact, threshold=0.9, minf=3):
    kept = [list(range(f)) for f in FILTERS]
    steps = []
    s = prune_last_layer(w, imgs, teacher, threshold, exact, minf)
    steps.append(s)
    kept[4] = [f for f in kept[4] if f not in s["removed"]]
    w = prune_model(w, kept)
    for l in (3, 2, 1, 0):
        s = prune_layer(w, l, imgs, threshold, exact, minf)
        steps.append(s)
        kept[l] = [f for f in kept[l] if f not in s["removed"]]
        w = prune_model(w, kept)
    for s in steps:
        s["kept"] = kept[s["layer"]]
    return steps


def main():
    out = sys.argv[1]
    s = Stream(SEED)
    w = student(s)
    pix = s.bytes(N_IMAGES * 112 * 112 * 3).reshape(N_IMAGES, 112, 112, 3)
    imgs = pix.astype(np.float32).astype(np.float64) - MEAN_PIXEL
    imgs = imgs.astype(np.float32).astype(np.float64)  # float32(p - mean), as Keras sees them
    y = predict(w, imgs)
    noise = s.uniform((N_IMAGES,), -1, 1).astype(np.float64)
    teacher = y + 0.5 * np.std(y) * noise
    res = {"seed": SEED, "filters": FILTERS, "images": N_IMAGES,
           "teacher": [float(v) for v in teacher],
           "upstream": step1(w, imgs, teacher, exact=False),
           "exact": step1(w, imgs, teacher, exact=True)}
    with open(os.path.join(out, "step1.json"), "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
