"""Independent reference for the graph engine (CompileGraph): three small networks with every
layer class it evaluates, seeded random weights written as Keras 2 weights files (the layout of
the keras.applications ImageNet files: root attribute layer_names, per-layer attribute
weight_names, datasets <layer>/<layer>/<var>:0), and their outputs computed in PyTorch (float64)
with Keras semantics: NHWC data, HWIO kernels, TensorFlow 'same' padding (the extra zero after),
batchnorm in inference mode as (x - mean) / sqrt(var + eps) * gamma + beta, max pooling over the
pixels inside the input.

The networks are the Go tests' residualStem, memberLike and unfused (graph_test.go), layer for
layer.

Usage: python3 gen_graph_torch.py OUTDIR  (writes graph_<net>.h5 and graph_torch.json)
"""
import json
import math
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

EPS = 1.001e-5


class Net:
    def __init__(self, name, shape):
        self.name, self.shape, self.layers = name, shape, []

    def add(self, name, cls, inbound=None, **kw):
        prev = self.layers[-1]["name"] if self.layers else None
        ins = [i for i in (inbound or [prev]) if i is not None]
        self.layers.append(dict(name=name, cls=cls, inbound=ins, **kw))
        return name

    def conv(self, name, cls, filters, k, stride, padding, x):
        return self.add(name, cls, [x], filters=filters, k=k, stride=stride, padding=padding)

    def bn(self, name, x):
        return self.add(name, "BatchNormalization", [x])

    def relu(self, name, x):
        return self.add(name, "ReLU", [x])

    def pool(self, name, k, stride, padding, x):
        return self.add(name, "MaxPooling2D", [x], k=k, stride=stride, padding=padding)

    def pad(self, name, p, x):
        return self.add(name, "ZeroPadding2D", [x], pad=p)

    def sum(self, name, *xs):
        return self.add(name, "Add", list(xs))


def residual_stem():
    b = Net("residual_stem", (21, 18, 3))
    x = b.add("input", "InputLayer", [])
    x = b.pad("conv1_pad", 3, x)
    x = b.conv("conv1_conv", "Conv2D", 8, 7, 2, "valid", x)
    x = b.relu("conv1_relu", b.bn("conv1_bn", x))
    x = b.pool("pool1_pool", 3, 2, "valid", b.pad("pool1_pad", 1, x))

    def block(name, filters, stride, project, x):
        short = x
        if project:
            short = b.conv(name + "_0_conv", "Conv2D", 4 * filters, 1, stride, "valid", x)
        y = b.relu(name + "_1_relu", b.bn(name + "_1_bn", b.conv(name + "_1_conv", "Conv2D", filters, 1, stride, "valid", x)))
        y = b.relu(name + "_2_relu", b.bn(name + "_2_bn", b.conv(name + "_2_conv", "Conv2D", filters, 3, 1, "same", y)))
        y = b.conv(name + "_3_conv", "Conv2D", 4 * filters, 1, 1, "valid", y)
        if project:
            short = b.bn(name + "_0_bn", short)
        y = b.bn(name + "_3_bn", y)
        return b.relu(name + "_out", b.sum(name + "_add", short, y))

    x = block("block1", 3, 2, True, x)
    block("block2", 3, 1, False, x)
    return b


def member_like():
    b = Net("member_like", (10, 9, 6))
    x = b.add("initial_conv_layer", "Conv2D", [], filters=8, k=1, stride=1, padding="same")
    x = b.relu("initial_act", b.bn("initial_bn", x))
    x = b.conv("initial_sepconv_layer", "SeparableConv2D", 8, 3, 2, "same", x)
    for k in (1, 2):
        p = "layer%d_" % k
        y = b.relu(p + "act1", b.bn(p + "bn1", b.conv(p + "conv1", "SeparableConv2D", 5, 3, 1, "same", x)))
        y = b.relu(p + "act2", b.bn(p + "bn2", b.conv(p + "conv2", "SeparableConv2D", 5, 3, 1, "same", y)))
        y = b.conv(p + "conv3", "Conv2D", 8, 1, 1, "same", y)
        x = b.sum(p + "add", x, y)
    x = b.conv("mixing_stage", "Conv2D", 4, 1, 1, "same", x)
    x = b.conv("spatial_pool_stage", "DepthwiseConv2D", 0, 5, 1, "valid", x)
    b.add("output_responses", "Flatten", [x])
    return b


def unfused():
    b = Net("unfused", (9, 7, 5))
    x = b.relu("act0", b.add("conv0", "Conv2D", [], filters=6, k=3, stride=1, padding="same"))
    a = b.bn("bn_a", x)
    p = b.pool("pool_b", 3, 1, "same", x)
    d = b.conv("dw_c", "DepthwiseConv2D", 0, 3, 1, "same", x)
    x = b.relu("act1", b.bn("bn1", b.sum("add", a, p, d)))
    x = b.relu("act2", b.pool("pool2", 2, 2, "same", x))
    x = b.conv("dw3", "DepthwiseConv2D", 0, 3, 2, "same", x)
    x = b.add("flat", "Flatten", [x])
    b.add("dense", "Dense", [x], filters=3)
    return b


def same_pad(n, k, s):
    out = (n + s - 1) // s
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def out_size(n, l):
    if l["cls"] == "ZeroPadding2D":
        return n + 2 * l["pad"]
    if l["cls"] in ("Conv2D", "SeparableConv2D", "DepthwiseConv2D", "MaxPooling2D"):
        k, s = l["k"], l["stride"]
        return (n + s - 1) // s if l["padding"] == "same" else (n - k) // s + 1
    return n


def weights(net, rng):
    """Seeded weights per layer (Keras get_weights order), shapes from each layer's input shape."""
    shape = {None: net.shape}
    ws = {}
    for l in net.layers:
        h, w, cin = shape[l["inbound"][0] if l["inbound"] else None]
        c, name = l["cls"], l["name"]
        cout = cin
        if c == "Conv2D":
            k, cout = l["k"], l["filters"]
            ws[name] = [("kernel", rng.normal(0, math.sqrt(2 / (k * k * cin)), (k, k, cin, cout))), ("bias", rng.normal(0, 0.1, cout))]
        elif c == "SeparableConv2D":
            k, cout = l["k"], l["filters"]
            ws[name] = [("depthwise_kernel", rng.normal(0, math.sqrt(2 / (k * k)), (k, k, cin, 1))),
                        ("pointwise_kernel", rng.normal(0, math.sqrt(2 / cin), (1, 1, cin, cout))), ("bias", rng.normal(0, 0.1, cout))]
        elif c == "DepthwiseConv2D":
            k = l["k"]
            ws[name] = [("depthwise_kernel", rng.normal(0, math.sqrt(2 / (k * k)), (k, k, cin, 1))), ("bias", rng.normal(0, 0.1, cin))]
        elif c == "BatchNormalization":
            ws[name] = [("gamma", rng.uniform(0.5, 1.5, cin)), ("beta", rng.normal(0, 0.5, cin)),
                        ("moving_mean", rng.normal(0, 0.5, cin)), ("moving_variance", rng.uniform(0.5, 2.0, cin))]
        elif c == "Dense":
            n, cout = h * w * cin, l["filters"]
            ws[name] = [("kernel", rng.normal(0, math.sqrt(2 / n), (n, cout))), ("bias", rng.normal(0, 0.1, cout))]
        if c == "Flatten":
            shape[name] = (1, 1, h * w * cin)
        elif c == "Dense":
            shape[name] = (1, 1, cout)
        else:
            shape[name] = (out_size(h, l), out_size(w, l), cout)
    return {k: [(n, a.astype(np.float32)) for n, a in v] for k, v in ws.items()}


def write_h5(path, net, ws):
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([l["name"].encode() for l in net.layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for l in net.layers:
            g = f.create_group(l["name"])
            names = [("%s/%s:0" % (l["name"], n)).encode() for n, _ in ws.get(l["name"], [])]
            g.attrs["weight_names"] = np.array(names, dtype="S") if names else np.array([], dtype="S1")
            for n, a in ws.get(l["name"], []):
                g.create_dataset("%s/%s:0" % (l["name"], n), data=a)


def forward(net, ws, x):
    """Keras-semantics forward in float64; x is NHWC. Returns every layer's output, NHWC."""
    t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float64))
    out = {None: torch.from_numpy(x.astype(np.float64)).permute(0, 3, 1, 2)}  # NCHW inside
    for l in net.layers:
        x = out[l["inbound"][0] if l["inbound"] else None]
        c = l["cls"]
        w = dict(ws.get(l["name"], []))

        def padded(x, k, s, padding, value=0.0):
            if padding == "valid":
                return x
            t0, b0 = same_pad(x.shape[2], k, s)
            l0, r0 = same_pad(x.shape[3], k, s)
            return F.pad(x, (l0, r0, t0, b0), value=value)

        if c == "InputLayer":
            y = x
        elif c == "ZeroPadding2D":
            p = l["pad"]
            y = F.pad(x, (p, p, p, p))
        elif c == "Conv2D":
            y = F.conv2d(padded(x, l["k"], l["stride"], l["padding"]), t(w["kernel"]).permute(3, 2, 0, 1), t(w["bias"]), stride=l["stride"])
        elif c in ("SeparableConv2D", "DepthwiseConv2D"):
            cin = x.shape[1]
            y = F.conv2d(padded(x, l["k"], l["stride"], l["padding"]), t(w["depthwise_kernel"]).permute(2, 3, 0, 1), None,
                         stride=l["stride"], groups=cin)
            if c == "SeparableConv2D":
                y = F.conv2d(y, t(w["pointwise_kernel"]).permute(3, 2, 0, 1), t(w["bias"]))
            else:
                y = y + t(w["bias"]).view(1, -1, 1, 1)
        elif c == "BatchNormalization":
            v = lambda n: t(w[n]).view(1, -1, 1, 1) if x.dim() == 4 else t(w[n]).view(1, -1)
            y = (x - v("moving_mean")) / torch.sqrt(v("moving_variance") + EPS) * v("gamma") + v("beta")
        elif c == "ReLU":
            y = torch.relu(x)
        elif c == "MaxPooling2D":
            y = F.max_pool2d(padded(x, l["k"], l["stride"], l["padding"], value=-math.inf), l["k"], l["stride"])
        elif c == "Add":
            y = sum(out[i] for i in l["inbound"])
        elif c == "Flatten":
            y = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        elif c == "Dense":
            y = x @ t(w["kernel"]) + t(w["bias"])
        else:
            raise ValueError(c)
        out[l["name"]] = y
    nhwc = lambda y: (y.permute(0, 2, 3, 1) if y.dim() == 4 else y).contiguous().numpy()
    return {k: nhwc(v) for k, v in out.items() if k is not None}


def main():
    outdir = sys.argv[1]
    torch.set_num_threads(1)
    ref = {"torch": torch.__version__.split("+")[0], "nets": {}}
    for i, build in enumerate((residual_stem, member_like, unfused)):
        net = build()
        rng = np.random.RandomState(1000 + i)
        ws = weights(net, rng)
        write_h5(os.path.join(outdir, "graph_%s.h5" % net.name), net, ws)
        batch = 3
        x = rng.normal(0, 1, (batch,) + net.shape).astype(np.float32)
        outs = forward(net, ws, x)
        last = net.layers[-1]["name"]
        ref["nets"][net.name] = {
            "batch": batch,
            "input": x.ravel().tolist(),
            "output": outs[last].ravel().tolist(),
        }
    with open(os.path.join(outdir, "graph_torch.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
