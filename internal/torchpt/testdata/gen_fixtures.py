"""Writes the small synthetic PyTorch checkpoints that torchpt's tests read.

Run from this directory with an interpreter that has torch (Debian's python3-torch):
    /usr/bin/python3 gen_fixtures.py
It writes views.pt (a state dict of views, dtypes and shapes, protocol 2 as torch.save writes by
default), views_proto4.pt (the same with pickle protocol 4), expand.pt (a stride-0 view with more
elements than its storage), parameter.pt (a bare nn.Parameter) and module.pt (a whole nn.Module),
and expected.json with the contents of the views in C order. Values are deterministic.
"""
import collections
import json

import torch

torch.manual_seed(0)
a = torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.5 - 2
d = (torch.arange(24, dtype=torch.float64).reshape(2, 3, 4) * 0.25 + 1).permute(2, 0, 1)
sd = collections.OrderedDict()
sd["a"] = a
sd["a_t"] = a.t()                   # transposed view of a's storage
sd["a_col"] = a[:, 1]               # offset 1, stride 4
sd["a_tail"] = a.view(-1)[5:]       # offset 5
sd["d_perm"] = d                    # float64, permuted strides
sd["l"] = torch.arange(-2, 3, dtype=torch.int64)
sd["scalar"] = torch.tensor(3.75, dtype=torch.float64)
sd["empty"] = torch.zeros(0, 3)
sd["n"] = torch.tensor(0, dtype=torch.int64)

torch.save(sd, "views.pt")
torch.save(sd, "views_proto4.pt", pickle_protocol=4)
torch.save(collections.OrderedDict(x=torch.arange(3.0).expand(2, 3)), "expand.pt")
torch.save(torch.nn.Parameter(torch.ones(2)), "parameter.pt")
torch.save(torch.nn.Linear(2, 1), "module.pt")

dtypes = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}
expected = {k: {"shape": list(v.shape), "dtype": dtypes[v.dtype],
                "values": [float(x) for x in v.contiguous().view(-1).tolist()]}
            for k, v in sd.items()}
with open("expected.json", "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
