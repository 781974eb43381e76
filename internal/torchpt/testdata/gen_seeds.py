#!/usr/bin/python3
"""Writes the fuzz seed of package torchpt that real PyTorch makes: the smallest compact model.

    /usr/bin/python3 internal/torchpt/testdata/gen_seeds.py [OUT_DIR]

OUT_DIR defaults to testdata/seeds. compact.pt is torch.save of the state dict of a module laid
out like the published compact models (layers.layer0_conv ... layers.Beta, batchnorms with
num_batches_tracked) with one filter per layer and patterned values: 5 KB where a published
checkpoint takes 60 to 700. FuzzReadStateDict adds it, the other small checkpoints of testdata/
(gen_fixtures.py) and Go-built ones to its corpus.

torch.save is deterministic here: its zip entries carry a fixed date (1980-01-01) and are named
after the output file, and storages are numbered in order. versions.json records the torch
version; TestSeedsReproduce compares bytes when it matches.
"""
import collections
import json
import os
import sys

import torch
from torch import nn

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def compact_module(filters):
    layers = collections.OrderedDict()
    cin = 3
    for l, f in enumerate(filters):
        if l == 0:
            layers["layer0_conv"] = nn.Conv2d(3, f, 5, padding=2)
        else:
            layers["layer%d_conv_depth" % l] = nn.Conv2d(cin, cin, 5, padding=2, groups=cin, bias=False)
            layers["layer%d_conv_point" % l] = nn.Conv2d(cin, f, 1)
        layers["layer%d_bn" % l] = nn.BatchNorm2d(f)
        layers["layer%d_act" % l] = nn.ReLU()
        cin = f
    layers["flatten"] = nn.Flatten()
    layers["Beta"] = nn.Linear(784 * cin, 1)
    m = nn.Module()
    m.layers = nn.Sequential(layers)
    return m


def main():
    os.makedirs(OUT, exist_ok=True)
    m = compact_module((1, 1, 1, 1, 1))
    with torch.no_grad():
        for k, (name, t) in enumerate(m.state_dict().items()):
            if t.dtype == torch.int64:
                t.fill_(100 + k)
            elif "running_var" in name:
                t.copy_(torch.linspace(1.0, 2.0, t.numel()).reshape(t.shape))
            else:
                t.copy_((torch.arange(t.numel(), dtype=torch.float32) % 13 / 16 - 0.375 + k / 64).reshape(t.shape))
    torch.save(m.state_dict(), os.path.join(OUT, "compact.pt"))
    with open(os.path.join(OUT, "versions.json"), "w") as fh:
        json.dump({"torch": torch.__version__}, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
