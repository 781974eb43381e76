"""Reference for the ensemble members: a narrowed member (reference/upstream.md §6: 1x1
convolution + batchnorm + ReLU, stride-2 3x3 separable convolution, four residual blocks of 3x3
separable convolutions with batchnorm and ReLU and a 1x1 convolution added to the block's input,
a 1x1 mixing stage and a 7x7 'valid' depthwise pool; here 16 input channels instead of 1024, 8
filters instead of 512, 4 inside filters instead of 256, 5 outputs instead of 200) written as a
Keras 3 .keras archive (config.json in the schema Keras 3.1 writes, model.weights.h5 with the
groups layers/<automatic name>/vars/<i>, metadata.json) with seeded random weights, and the
outputs of layer4_add (the embeddings) and of the whole member computed in PyTorch (float64,
Keras semantics: ../../nn/testdata/gen_graph_torch.py) on three 14x14x16 inputs made from
../../pilresize/testdata/gen_pil_resize.py's LCG (seed 21) as (2*byte - 255)/64.

Usage: python3 gen_member.py OUTDIR  (writes member_narrow.keras and member.json)
"""
import io
import json
import os
import re
import sys
import zipfile

import h5py
import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "nn", "testdata"))
sys.path.insert(0, os.path.join(here, "..", "..", "pilresize", "testdata"))
import gen_graph_torch as g  # noqa: E402
from gen_pil_resize import lcg_bytes  # noqa: E402

g.EPS = 1e-3  # Keras' default batchnorm epsilon, as the members use
SHAPE, FILTERS, INSIDE, OUTPUTS, BLOCKS = (14, 14, 16), 8, 4, 5, 4
INPUT = "input_layer"


def member():
    b = g.Net("member", SHAPE)
    x = b.add("initial_conv_layer", "Conv2D", [], filters=FILTERS, k=1, stride=1, padding="same")
    x = b.relu("initial_relu", b.bn("initial_bn", x))
    x = b.conv("initial_sepconv_layer", "SeparableConv2D", FILTERS, 3, 2, "same", x)
    for k in range(1, BLOCKS + 1):
        p = "layer%d_" % k
        y = b.relu(p + "relu1", b.bn(p + "bn1", b.conv(p + "conv1", "SeparableConv2D", INSIDE, 3, 1, "same", x)))
        y = b.relu(p + "relu2", b.bn(p + "bn2", b.conv(p + "conv2", "SeparableConv2D", INSIDE, 3, 1, "same", y)))
        y = b.conv(p + "conv3", "Conv2D", FILTERS, 1, 1, "same", y)
        x = b.sum(p + "add", x, y)
    x = b.conv("mixing_stage", "Conv2D", OUTPUTS, 1, 1, "same", x)
    x = b.conv("spatial_pool_stage", "DepthwiseConv2D", 0, 7, 1, "valid", x)
    b.add("output_responses", "Flatten", [x])
    return b


KERAS_CLASS = {"ReLU": "Activation"}


def snake(name):
    """keras.src.utils.naming.to_snake_case."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def config(net, shapes):
    def tensor(name):
        return {"class_name": "__keras_tensor__", "config": {"shape": [None] + list(shapes[name]), "dtype": "float32",
                                                              "keras_history": [name, 0, 0]}}

    layers = [{"module": "keras.layers", "class_name": "InputLayer", "config": {
        "batch_shape": [None] + list(SHAPE), "dtype": "float32", "sparse": False, "name": INPUT},
        "registered_name": None, "name": INPUT, "inbound_nodes": []}]
    for l in net.layers:
        cls = KERAS_CLASS.get(l["cls"], l["cls"])
        cfg = {"name": l["name"], "trainable": True, "dtype": "float32"}
        if cls in ("Conv2D", "SeparableConv2D", "DepthwiseConv2D"):
            cfg.update({"kernel_size": [l["k"], l["k"]], "strides": [l["stride"], l["stride"]], "padding": l["padding"],
                        "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "linear", "use_bias": True,
                        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": None}})
            if cls == "Conv2D":
                cfg.update({"filters": l["filters"], "groups": 1})
            elif cls == "SeparableConv2D":
                cfg.update({"filters": l["filters"], "depth_multiplier": 1})
            else:
                cfg.update({"depth_multiplier": 1})
        elif cls == "BatchNormalization":
            cfg.update({"axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True, "synchronized": False})
        elif cls == "Activation":
            cfg["activation"] = "relu"
        elif cls == "Flatten":
            cfg["data_format"] = "channels_last"
        ins = [i if i is not None else INPUT for i in (l["inbound"] or [None])]
        args = [tensor(i) for i in ins]
        if cls == "Add":
            args = [args]
        kwargs = {"mask": None} if cls == "BatchNormalization" else {}
        build = [[None] + list(shapes[i]) for i in ins] if cls == "Add" else [None] + list(shapes[ins[0]])
        layers.append({"module": "keras.layers", "class_name": cls, "config": cfg, "registered_name": None,
                       "build_config": {"input_shape": build}, "name": l["name"],
                       "inbound_nodes": [{"args": args, "kwargs": kwargs}]})
    last = net.layers[-1]["name"]
    return {"module": "keras.src.models.functional", "class_name": "Functional", "config": {
        "name": "functional", "trainable": True, "layers": layers,
        "input_layers": [INPUT, 0, 0], "output_layers": [last, 0, 0]},
        "registered_name": "Functional", "build_config": {"input_shape": None},
        "compile_config": {"optimizer": "sgd", "loss": "mean_squared_error"}}


def weights_h5(net, ws):
    buf = io.BytesIO()
    count = {}

    def auto(cls):
        base = snake(cls)
        n = count.get(base, 0)
        count[base] = n + 1
        return base if n == 0 else "%s_%d" % (base, n)

    with h5py.File(buf, "w") as f:
        lg = f.create_group("layers")
        lg.create_group(auto("InputLayer")).create_group("vars")
        for l in net.layers:
            v = lg.create_group(auto(KERAS_CLASS.get(l["cls"], l["cls"]))).create_group("vars")
            for i, (_, a) in enumerate(ws.get(l["name"], [])):
                v.create_dataset(str(i), data=a)
        f.create_group("optimizer").create_group("vars")
        f.create_group("vars")
    return buf.getvalue()


def main():
    outdir = sys.argv[1]
    torch.set_num_threads(1)
    net = member()
    rng = np.random.RandomState(3000)
    ws = g.weights(net, rng)
    batch = 3
    # Inputs from gen_pil_resize.py's LCG (seed 21): (2·byte − 255)/64, exact in float32.
    x = ((2 * np.frombuffer(lcg_bytes(21, batch * int(np.prod(SHAPE))), dtype=np.uint8).astype(np.float32) - 255) / 64).reshape((batch,) + SHAPE)
    outs = g.forward(net, ws, x)
    shapes = {INPUT: SHAPE}
    shapes.update({k: v.shape[1:] for k, v in g.forward(net, ws, x[:1]).items()})
    with zipfile.ZipFile(os.path.join(outdir, "member_narrow.keras"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.1.0", "date_saved": "2024-01-01@00:00:00"}))
        z.writestr("config.json", json.dumps(config(net, shapes)))
        z.writestr("model.weights.h5", weights_h5(net, ws))
    ref = {"torch": torch.__version__.split("+")[0], "batch": batch,
           "embeddings": outs["layer%d_add" % BLOCKS].ravel().tolist(), "output": outs[net.layers[-1]["name"]].ravel().tolist()}
    with open(os.path.join(outdir, "member.json"), "w") as f:
        json.dump(ref, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
