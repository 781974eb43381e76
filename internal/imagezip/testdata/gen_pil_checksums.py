#!/usr/bin/python3
"""Record PIL's pixels of every image zip of the data directory, as checksums.

Usage (Debian python with python3-pil 9.4 / libjpeg-turbo 2.1):

    /usr/bin/python3 gen_pil_checksums.py DATADIR > pil_checksums.json

For every data_V4_responses/images/images_<session>.zip under DATADIR this
applies the reference loader's rule (ImageClass.get_images_from_zipfile):
image k (0-based) is the first entry of zipfile.namelist() whose name
contains 'image%04d.jpg' % (k+1), decoded with PIL and converted to RGB;
images are taken from k = 0 up to the last consecutive index present. It
records the zip's own SHA-256 and size (so that a test can tell a different
archive from a decoder mismatch), the image count and size, the SHA-256 of
np.stack(images).tobytes(), and the first 16 hex digits of each image's
SHA-256 (so a failing test can name the differing images). Only checksums
are written, never pixels.
"""
import glob
import hashlib
import io
import json
import os
import sys
import zipfile

import numpy as np
import PIL
from PIL import Image, features


def zip_checksums(path):
    with open(path, "rb") as f:
        raw = f.read()
    zf = zipfile.ZipFile(io.BytesIO(raw))
    names = zf.namelist()
    images = []
    while True:
        key = "image%04d.jpg" % (len(images) + 1)
        name = next((n for n in names if key in n), None)
        if name is None:
            break
        images.append(np.asarray(Image.open(io.BytesIO(zf.read(name))).convert("RGB")))
    stack = np.stack(images)
    return {
        "zip_sha256": hashlib.sha256(raw).hexdigest(),
        "zip_size": len(raw),
        "n": int(stack.shape[0]),
        "h": int(stack.shape[1]),
        "w": int(stack.shape[2]),
        "sha256": hashlib.sha256(stack.tobytes()).hexdigest(),
        "image_sha256_16": [hashlib.sha256(a.tobytes()).hexdigest()[:16] for a in images],
    }


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    pattern = os.path.join(sys.argv[1], "data_V4_responses", "images", "images_*.zip")
    zips = sorted(glob.glob(pattern))
    if not zips:
        sys.exit("no zip matches " + pattern)
    doc = {
        "generator": "internal/imagezip/testdata/gen_pil_checksums.py",
        "rule": "image k = first namelist() entry containing 'image%04d.jpg' % (k+1); "
                "np.asarray(Image.open(f).convert('RGB')); k = 0 .. last consecutive index",
        "pil": PIL.__version__,
        "libjpeg_turbo": features.version_feature("libjpeg_turbo"),
        "zips": {os.path.basename(z): zip_checksums(z) for z in zips},
    }
    json.dump(doc, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
