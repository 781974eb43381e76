"""Print, as JSON, the SHA-256 of each image as upstream's ImageClass loaders return it.

Usage: pil_load.py FILE...

For each file: np.array(Image.open(f).resize(size=(112, 112))).tobytes(), the pixels of
ImageClass.get_images_recentered_with_inds before recentring (Pillow's default filter,
BICUBIC; an unfiltered copy when the image is already 112x112). TestAgainstPIL compares them
with internal/predict's ReadImages.
"""
import hashlib
import json
import sys

import numpy as np
from PIL import Image
import PIL

out = {"pillow": PIL.__version__, "images": {}}
for f in sys.argv[1:]:
    img = Image.open(f).resize(size=(112, 112))
    a = np.array(img)
    out["images"][f] = {"shape": list(a.shape), "sha256": hashlib.sha256(a.tobytes()).hexdigest()}
json.dump(out, sys.stdout, indent=1, sort_keys=True)
