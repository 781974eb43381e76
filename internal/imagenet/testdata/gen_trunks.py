"""Reference for the ImageNet trunks: keras.applications' ResNet50 and VGG19, narrowed (every
channel count divided by NARROW, the real layer names, groups and datasets), with seeded random
weights written as Keras 2 weights files in the layout of
resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5 and vgg19_..._notop.h5 (root attribute
layer_names, per-layer attribute weight_names, datasets <layer>/<layer>/<var>:0), and the outputs
of conv4_block4_out and block4_pool computed in PyTorch (float64, Keras semantics: see
../../nn/testdata/gen_graph_torch.py) on test stimuli preprocessed as upstream does: Pillow's
bicubic resize 112 -> 224, then Keras' preprocess_input 'caffe' mode (float32, RGB -> BGR, minus
103.939, 116.779, 123.68, in float32 as numpy computes it).

The ResNet50 file holds the layers up to conv4_block6_out (beyond the layer read, as the real
file holds conv5), the VGG19 one up to block5_pool.

trunks.json keeps every STRIDE-th output value and the SHA-256 of the preprocessed input
(float32, little-endian, NHWC).

Usage: python3 gen_trunks.py OUTDIR  (writes resnet50_narrow.h5, vgg19_narrow.h5, trunks.json)
       python3 gen_trunks.py --full OUTDIR  (the real widths, ResNet50 up to conv4_block4_out,
       one stimulus: resnet50_full.h5 and trunks_full.json, about 25 MB; for a test's temporary
       directory, not committed)
"""
import hashlib
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "nn", "testdata"))
sys.path.insert(0, os.path.join(here, "..", "..", "pilresize", "testdata"))
from gen_graph_torch import Net, weights, write_h5, forward  # noqa: E402
from gen_pil_resize import lcg_bytes  # noqa: E402

NARROW = 16  # --full: 1
STRIDE = 7  # the JSON keeps every 7th output value (NHWC order, image after image)
CAFFE_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def resnet50(upto):
    b = Net("resnet50", (224, 224, 3))
    x = b.add("input_1", "InputLayer", [])
    x = b.pad("conv1_pad", 3, x)
    x = b.conv("conv1_conv", "Conv2D", 64 // NARROW, 7, 2, "valid", x)
    x = b.relu("conv1_relu", b.bn("conv1_bn", x))
    x = b.pool("pool1_pool", 3, 2, "valid", b.pad("pool1_pad", 1, x))
    for stage, filters, blocks, stride1 in (("conv2", 64, 3, 1), ("conv3", 128, 4, 2), ("conv4", 256, 6, 2)):
        f = filters // NARROW
        for blk in range(1, blocks + 1):
            p = "%s_block%d_" % (stage, blk)
            s = stride1 if blk == 1 else 1
            # keras.applications' layer order (model.layers, the file's layer_names)
            y = b.relu(p + "1_relu", b.bn(p + "1_bn", b.conv(p + "1_conv", "Conv2D", f, 1, s, "valid", x)))
            y = b.relu(p + "2_relu", b.bn(p + "2_bn", b.conv(p + "2_conv", "Conv2D", f, 3, 1, "same", y)))
            short = x
            if blk == 1:
                short = b.conv(p + "0_conv", "Conv2D", 4 * f, 1, s, "valid", x)
            y = b.conv(p + "3_conv", "Conv2D", 4 * f, 1, 1, "valid", y)
            if blk == 1:
                short = b.bn(p + "0_bn", short)
            y = b.bn(p + "3_bn", y)
            x = b.relu(p + "out", b.sum(p + "add", short, y))
            if x == upto:
                return b
    return b


def vgg19(upto):
    b = Net("vgg19", (224, 224, 3))
    x = b.add("input_1", "InputLayer", [])
    for i, (convs, filters) in enumerate(((2, 64), (2, 128), (4, 256), (4, 512), (4, 512))):
        for c in range(1, convs + 1):
            name = "block%d_conv%d" % (i + 1, c)
            x = b.conv(name, "Conv2D", filters // NARROW, 3, 1, "same", x)
            x = b.relu(name + "_relu", x)
        x = b.pool("block%d_pool" % (i + 1), 2, 2, "valid", x)
        if x == upto:
            return b
    return b


def keras_weights_file(path, net, ws):
    """Keras fuses VGG19's ReLUs into its convolutions: its file lists no activation layers."""
    keep = Net(net.name, net.shape)
    keep.layers = [l for l in net.layers if not (net.name == "vgg19" and l["cls"] == "ReLU")]
    write_h5(path, keep, ws)


def stimuli(n):
    """n 112x112 RGB test stimuli: LCG noise (gen_pil_resize.py's lcg_bytes), seeds 11, 12, ..."""
    return [lcg_bytes(11 + i, 112 * 112 * 3) for i in range(n)]


def preprocess(raw):
    big = np.asarray(Image.frombytes("RGB", (112, 112), raw).resize((224, 224)))
    x = big.astype(np.float32)[..., ::-1].copy()
    x -= CAFFE_MEAN
    return x


def main():
    global NARROW
    full = sys.argv[1] == "--full"
    outdir = sys.argv[-1]
    torch.set_num_threads(1)
    batch = 2
    if full:
        NARROW, batch = 1, 1
    x = np.stack([preprocess(r) for r in stimuli(batch)])
    ref = {"torch": torch.__version__.split("+")[0], "narrow": NARROW, "batch": batch,
           "input_sha256": hashlib.sha256(np.ascontiguousarray(x, dtype="<f4").tobytes()).hexdigest(),
           "stride": STRIDE, "nets": {}}
    nets = ((resnet50, "conv4_block6_out", "conv4_block4_out", "resnet50_narrow.h5"),
            (vgg19, "block5_pool", "block4_pool", "vgg19_narrow.h5"))
    if full:
        nets = ((resnet50, "conv4_block4_out", "conv4_block4_out", "resnet50_full.h5"),)
    for i, (build, last, read, fname) in enumerate(nets):
        net = build(last)
        ws = weights(net, np.random.RandomState(2000 + i))
        keras_weights_file(os.path.join(outdir, fname), net, ws)
        outs = forward(net, ws, x)
        ref["nets"][net.name] = {"layer": read, "size": int(outs[read].size), "output": outs[read].ravel()[::STRIDE].tolist()}
    with open(os.path.join(outdir, "trunks_full.json" if full else "trunks.json"), "w") as f:
        json.dump(ref, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
