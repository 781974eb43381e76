#!/usr/bin/env python3
"""Throughput of keras.applications' ResNet50 up to conv4_block4_out (or VGG19 up to block4_pool)
in PyTorch on this CPU: the peer of BenchmarkResNet50Trunk / BenchmarkVGG19Trunk. The same
layers (v1 blocks, stride on the first 1x1 convolution, batchnorm in eval mode), float32, no
autograd, random weights; torchvision is not used.

Run as PyTorch's CPU performance guide advises (tcmalloc preloaded, no OPENBLAS_* overrides):

    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 python3 torch_trunk_bench.py resnet50 32 2

Prints JSON: images/s (wall clock) and images/cpu-s (process CPU time of all threads).
"""
import json
import sys
import time

import torch
import torch.nn as nn


def cbr(cin, cout, k, s, p, relu=True):
    layers = [nn.Conv2d(cin, cout, k, s, p), nn.BatchNorm2d(cout, eps=1.001e-5)]
    return layers + [nn.ReLU()] if relu else layers


class Block(nn.Module):
    def __init__(self, cin, f, stride, project):
        super().__init__()
        self.branch = nn.Sequential(*cbr(cin, f, 1, stride, 0), *cbr(f, f, 3, 1, 1), *cbr(f, 4 * f, 1, 1, 0, relu=False))
        self.short = nn.Sequential(*cbr(cin, 4 * f, 1, stride, 0, relu=False)) if project else nn.Identity()

    def forward(self, x):
        return torch.relu(self.short(x) + self.branch(x))


def resnet50_trunk():
    layers = [nn.ZeroPad2d(3), *cbr(3, 64, 7, 2, 0), nn.ZeroPad2d(1), nn.MaxPool2d(3, 2)]
    cin = 64
    for f, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 4, 2)):  # conv4 up to block 4
        for b in range(blocks):
            layers.append(Block(cin, f, stride if b == 0 else 1, b == 0))
            cin = 4 * f
    return nn.Sequential(*layers)


def vgg19_trunk():
    layers, cin = [], 3
    for convs, f in ((2, 64), (2, 128), (4, 256), (4, 512)):
        for _ in range(convs):
            layers += [nn.Conv2d(cin, f, 3, 1, 1), nn.ReLU()]
            cin = f
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers)


def main():
    net = sys.argv[1] if len(sys.argv) > 1 else "resnet50"
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
    torch.manual_seed(0)
    m = {"resnet50": resnet50_trunk, "vgg19": vgg19_trunk}[net]().eval()
    x = torch.randn(batch, 3, 224, 224)
    with torch.no_grad():
        m(x)
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - t0 < 20 or n < 2 * batch:
            m(x)
            n += batch
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"torch": torch.__version__, "net": net, "batch": batch, "threads": torch.get_num_threads(),
                      "img_per_s": n / wall, "img_per_cpu_s": n / cpu}))


if __name__ == "__main__":
    main()
