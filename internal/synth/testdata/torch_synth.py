#!/usr/bin/python3
"""Upstream's preferred-stimulus loop (class_synth.SynthClass.optimize_synth_image) on a real
compact model, with PyTorch autograd in place of TensorFlow's GradientTape.

The model is evaluated with Keras semantics (reference/upstream.md §4.2: TF 'same' padding, batchnorm in
inference mode with eps 1e-3, NHWC flatten) in float32, from the .keras file's weights. The
starting noise comes from the Go side (the synthesis seeds use Go's PCG), as a float64 .npy of
the recentred (1,112,112,3) image.

Usage: /usr/bin/python3 torch_synth.py MODEL.keras NOISE.npy STEPS OUT.json
"""
import io
import json
import sys
import zipfile

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

RGB_MEANS = np.array([116.222, 109.270, 100.381])


def load_weights(path):
    with zipfile.ZipFile(path) as z:
        h5 = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
    g = lambda name, i: torch.tensor(np.array(h5["layers/%s/vars/%d" % (name, i)]), dtype=torch.float32)
    bn = lambda k: [g("batch_normalization" + ("" if k == 0 else "_%d" % k), i) for i in range(4)]
    layers = [("conv", g("conv2d", 0).permute(3, 2, 0, 1).contiguous(), g("conv2d", 1), bn(0), 1)]
    for l in range(1, 5):
        name = "separable_conv2d" + ("" if l == 1 else "_%d" % (l - 1))
        layers.append(("sep", g(name, 0).permute(2, 3, 0, 1).contiguous(), g(name, 1).permute(3, 2, 0, 1).contiguous(),
                       g(name, 2), bn(l), 2 if l in (1, 2) else 1))
    return layers, g("dense", 0), g("dense", 1)


def pad_same(x, stride):
    # TF 'same' for 5x5 kernels on even sizes: (2,2) at stride 1, (1,2) at stride 2
    return F.pad(x, (2, 2, 2, 2)) if stride == 1 else F.pad(x, (1, 2, 1, 2))


def forward(model, x_nhwc):
    layers, kb, bb = model
    h = x_nhwc.permute(0, 3, 1, 2)
    for layer in layers:
        if layer[0] == "conv":
            _, w, b, (gamma, beta, mean, var), s = layer
            h = F.conv2d(pad_same(h, s), w, b, stride=s)
        else:
            _, dw, pw, b, (gamma, beta, mean, var), s = layer
            h = F.conv2d(pad_same(h, s), dw, None, stride=s, groups=h.shape[1])
            h = F.conv2d(h, pw, b)
        inv = gamma / torch.sqrt(var + 1e-3)
        h = h * inv[None, :, None, None] + (beta - mean * inv)[None, :, None, None]
        h = torch.relu(h)
    flat = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)
    return flat @ kb + bb


def main():
    torch.set_num_threads(1)
    model_path, noise_path, steps, out_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    model = load_weights(model_path)
    img_synth = np.load(noise_path).astype(np.float64).reshape(1, 112, 112, 3)

    def M(img):
        return float(forward(model, torch.tensor(img.astype(np.float32)))[0, 0])

    def grad(img):
        x = torch.tensor(img.astype(np.float32), requires_grad=True)
        out = forward(model, x)
        torch.mean(out).backward()
        return x.grad.numpy().astype(np.float64)

    initial = M(img_synth)
    # upstream's loop, with grad() for the GradientTape
    step_size, sigma, every = 10., 1., 50
    response_best = 0.
    img_best = np.copy(img_synth)
    best_step, trace = -1, []
    for istep in range(steps):
        grad_value = grad(img_synth)
        grad_value /= (np.sqrt(np.mean(np.square(grad_value))) + 1e-5)
        grad_value = ndimage.gaussian_filter(grad_value, (0., sigma, sigma, 0.))
        img_synth += step_size * grad_value
        for c in range(3):
            img_synth[:, :, :, c] = np.clip(img_synth[:, :, :, c], -RGB_MEANS[c], 255. - RGB_MEANS[c])
        response = M(img_synth)
        trace.append(response)
        if response > response_best:
            response_best, img_best, best_step = response, np.copy(img_synth), istep
        if np.mod(istep, every) == 0 and istep > 0:
            img_synth = ndimage.gaussian_filter(img_synth, (0., sigma, sigma, 0.))
    img_best = np.clip(img_best + RGB_MEANS, 0, 255)
    with open(out_path, "w") as f:
        json.dump({"torch": torch.__version__, "steps": steps, "initial": initial, "response": response_best,
                   "best_step": best_step, "trace": trace,
                   "image_mean": float(np.mean(img_best)), "image_std": float(np.std(img_best))}, f)


if __name__ == "__main__":
    main()
