#!/usr/bin/python3
"""Reference outputs for the synth package's tests, computed with numpy and scipy.

Writes testdata/synth.json (upstream's SynthClass.optimize_synth_image loop, ported line by
line, run on a small analytic "model" in place of a Keras network so that it needs no
TensorFlow). The Gaussian filter's own references are internal/gauss/testdata/gen_gaussian.py.

Usage: /usr/bin/python3 testdata/gen_reference.py OUTDIR

TestReferenceScript runs it and compares its output with the committed file within a tolerance,
as internal/gauss/testdata/gen_gaussian.py describes; `go test -run TestReferenceScript -update`
rewrites the file with numpy's baseline code.
"""
import json
import os
import sys

import numpy as np
import scipy
from scipy import ndimage

RGB_MEANS = np.array([116.222, 109.270, 100.381])


class QuadModel:
    """f(x) = sum(w*x - 0.5*q*x*x) over all pixels of float32(x), as a float32 response; its
    gradient w - q*x rounded to float32, as Keras returns a float32 gradient cast to float64."""

    def __init__(self, w, q):
        self.w = w.astype(np.float32).astype(np.float64)
        self.q = q.astype(np.float32).astype(np.float64)

    def __call__(self, img):
        x = img.astype(np.float32).astype(np.float64)
        t = self.w * x - 0.5 * self.q * x * x
        return np.float32(np.sum(t.ravel()))

    def grad(self, img):
        x = img.astype(np.float32).astype(np.float64)
        return (self.w - self.q * x).astype(np.float32).astype(np.float64)


def clip_recentered_image(img_synth):
    upper_bounds = 255. - RGB_MEANS
    lower_bounds = 0. - RGB_MEANS
    for ichannel in range(3):
        img_synth[:, :, :, ichannel] = np.clip(img_synth[:, :, :, ichannel], lower_bounds[ichannel], upper_bounds[ichannel])
    return img_synth


def optimize_synth_image(M, img_synth, opt, num_steps):
    # upstream class_synth.SynthClass.optimize_synth_image, with M.grad for the GradientTape
    step_size = 10.
    gaussian_filter_sigma = 1.
    num_steps_between_smoothing = 50
    if opt == 'max':
        response_best = 0.
    else:
        response_best = 10**5
    img_best = np.copy(img_synth)
    trace = []
    best_step = -1
    for istep in range(num_steps):
        grad_value = M.grad(img_synth)
        grad_value /= (np.sqrt(np.mean(np.square(grad_value))) + 1e-5)
        grad_value = ndimage.gaussian_filter(grad_value, (0., gaussian_filter_sigma, gaussian_filter_sigma, 0.))
        if opt == 'max':
            img_synth += step_size * grad_value
        elif opt == 'min':
            img_synth -= step_size * grad_value
        img_synth = clip_recentered_image(img_synth)
        response = np.squeeze(M(img_synth))
        trace.append(float(response))
        if opt == 'max' and response > response_best or opt == 'min' and response < response_best:
            response_best = response
            img_best = np.copy(img_synth)
            best_step = istep
        if np.mod(istep, num_steps_between_smoothing) == 0 and istep > 0:
            img_synth = ndimage.gaussian_filter(img_synth, (0., gaussian_filter_sigma, gaussian_filter_sigma, 0.))
    img_best = np.clip(img_best + RGB_MEANS, 0, 255)  # set_images_to_raw
    return np.squeeze(img_best), float(response_best), trace, best_step


def synth_cases():
    rng = np.random.default_rng(20260413)
    h, w = 12, 16
    cases = []
    for (opt, steps) in [('max', 120), ('min', 61)]:
        wts = rng.normal(size=(1, h, w, 3)).astype(np.float32)
        q = rng.uniform(0, 0.02, size=(1, h, w, 3)).astype(np.float32)
        noise = rng.uniform(size=(1, h, w, 3)) * 50 + 128 - RGB_MEANS  # recentred white noise
        M = QuadModel(wts, q)
        initial = float(M(noise))
        img, best, trace, best_step = optimize_synth_image(M, np.copy(noise), opt, steps)
        cases.append({"opt": opt, "steps": steps, "h": h, "w": w,
                      "model_w": wts.astype(np.float64).ravel().tolist(),
                      "model_q": q.astype(np.float64).ravel().tolist(),
                      "noise": noise.ravel().tolist(), "initial": initial,
                      "image": img.ravel().tolist(), "response": best, "best_step": best_step,
                      "trace": trace})
    return {"scipy": scipy.__version__, "numpy": np.__version__, "cases": cases}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, fn in [("synth.json", synth_cases)]:
        with open(os.path.join(out, name), "w") as f:
            json.dump(fn(), f, separators=(",", ":"))
            f.write("\n")


if __name__ == "__main__":
    main()
