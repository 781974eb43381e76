#!/usr/bin/python3
"""Regenerate the synthetic JPEGs of this directory and expected.json.

Run from this directory, after `go run gengo.go`, with the Debian python
(python3-pil 9.4 on libjpeg-turbo 2.1, libjpeg-turbo-progs installed):

    go run gengo.go && /usr/bin/python3 gen.py

Files:
  pil_*.jpg     written by PIL (Image.save) from a seeded synthetic test card:
                4:4:4, 4:2:2, 4:2:0, grayscale, progressive, optimised
                Huffman tables, tiny sizes (chroma width <= 2 takes
                libjpeg's box upsampling path).
  tran_*.jpg    PIL files rewritten by jpegtran: restart intervals (in MCU
                rows and in blocks), progressive with restarts.
  cjpeg_*.jpg   written by cjpeg from the same card: sampling factors that
                PIL cannot write (4:4:0, 4:1:1, 4:1:0, 3x1, luma smaller than
                chroma), RGB colour space, a non-interleaved sequential
                multi-scan file, quality 1 and 100, and arithmetic coding
                (which this decoder rejects); also progressive 4:1:1, a
                grayscale file declaring 2x2 sampling, and non-interleaved
                sequential scans with restarts.
  cut_*.jpg     files ended (with EOI) after some of their scans.
  craft_*.jpg   hand-assembled 8x8 grayscale files whose single DC
                coefficient drives the IDCT output beyond [-512, 511], where
                libjpeg-turbo's SIMD IDCT (saturating) and C IDCT (wrapping
                range-limit table) differ.
  go_*.jpg      written by Go's image/jpeg (gengo.go).

expected.json maps each file name to PIL's decoded pixels: mode, size, and
the SHA-256 of np.asarray(img).tobytes(), both with libjpeg-turbo's default
SIMD code ("sha256") and with JSIMD_FORCENONE=1 ("sha256_nosimd"), which
selects its portable C code.
"""
import glob
import hashlib
import io
import json
import os
import struct
import subprocess
import sys

import numpy as np
from PIL import Image


def card(w, h, seed=20240601):
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w]
    r = (255 * x // max(w - 1, 1)).astype(np.int32)
    g = (255 * y // max(h - 1, 1)).astype(np.int32)
    b = 128 + rng.randint(-32, 32, size=(h, w))
    checker = ((x // 5 + y // 4) % 2 == 0) & (x > w // 2)
    r = np.where(checker, 255, r)
    g = np.where(checker, 0, g)
    b = np.where(checker, 255 - (255 * x // max(w - 1, 1)), b)
    dark = (y > h * 2 // 3) & (x < w // 3)
    rgb = np.stack([r, g, b], axis=-1)
    rgb[dark] = 0
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def run(*args):
    subprocess.run(args, check=True)


def seg(marker, payload):
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def craft_dc(path, coef, q=255):
    """An 8x8 grayscale baseline JPEG whose only nonzero coefficient is a DC
    of coef with quantiser q: IDCT output about coef*q/8."""
    cat = abs(coef).bit_length()
    out = b"\xff\xd8"
    out += seg(0xDB, bytes([0]) + bytes([q] * 64))
    out += seg(0xC0, bytes([8]) + struct.pack(">HH", 8, 8) + bytes([1, 1, 0x11, 0]))
    one_code = bytes([1] + [0] * 15)
    out += seg(0xC4, bytes([0x00]) + one_code + bytes([cat]))  # DC: one code, one category
    out += seg(0xC4, bytes([0x10]) + one_code + bytes([0]))  # AC: one code, EOB
    out += seg(0xDA, bytes([1, 1, 0x00, 0, 63, 0]))
    bits = "0" + format(coef if coef > 0 else coef + (1 << cat) - 1, "0%db" % cat) + "0"
    bits += "1" * ((8 - len(bits) % 8) % 8)
    out += int(bits, 2).to_bytes(len(bits) // 8, "big") + b"\xff\xd9"
    with open(path, "wb") as f:
        f.write(out)


def cut_scans(src, dst, nscans):
    """Copy src up to its (nscans+1)-th SOS marker and end it with EOI."""
    with open(src, "rb") as f:
        b = f.read()
    count = 0
    for i in range(2, len(b) - 1):
        if b[i] == 0xFF and b[i + 1] == 0xDA:
            count += 1
            if count == nscans + 1:
                with open(dst, "wb") as f:
                    f.write(b[:i] + b"\xff\xd9")
                return
    raise SystemExit("%s has fewer than %d scans" % (src, nscans + 1))


def write_files():
    big = card(41, 27)
    big.save("pil_444_q90.jpg", quality=90, subsampling=0)
    big.save("pil_422_q75.jpg", quality=75, subsampling=1)
    big.save("pil_420_q75.jpg", quality=75, subsampling=2)
    big.save("pil_420_q20.jpg", quality=20, subsampling=2)
    big.save("pil_420_q75_opt.jpg", quality=75, subsampling=2, optimize=True)
    big.save("pil_420_q75_prog.jpg", quality=75, subsampling=2, progressive=True)
    big.save("pil_444_q95_prog.jpg", quality=95, subsampling=0, progressive=True)
    big.convert("L").save("pil_gray_q75.jpg", quality=75)
    big.convert("L").save("pil_gray_q75_prog.jpg", quality=75, progressive=True)
    for w, h in [(1, 1), (3, 3), (4, 2), (5, 7), (17, 16), (33, 1)]:
        card(w, h).save("pil_420_%dx%d.jpg" % (w, h), quality=85, subsampling=2)
    card(3, 5).save("pil_422_3x5.jpg", quality=85, subsampling=1)

    run("jpegtran", "-restart", "1", "-outfile", "tran_420_restart_row.jpg", "pil_420_q75.jpg")
    run("jpegtran", "-restart", "3B", "-outfile", "tran_420_restart_3b.jpg", "pil_420_q75.jpg")
    run("jpegtran", "-restart", "5B", "-progressive", "-outfile", "tran_420_prog_restart_5b.jpg", "pil_420_q75.jpg")
    run("jpegtran", "-restart", "2B", "-outfile", "tran_gray_restart_2b.jpg", "pil_gray_q75.jpg")

    big.save("card.ppm")
    cj = [
        ("cjpeg_440.jpg", ["-sample", "1x2,1x1,1x1"]),
        ("cjpeg_411.jpg", ["-sample", "4x1,1x1,1x1"]),
        ("cjpeg_410.jpg", ["-sample", "4x2,1x1,1x1"]),
        ("cjpeg_31.jpg", ["-sample", "3x1,1x1,1x1"]),
        ("cjpeg_lumasmall.jpg", ["-sample", "1x1,2x2,1x2"]),
        ("cjpeg_420_restart.jpg", ["-sample", "2x2,1x1,1x1", "-restart", "2B"]),
        ("cjpeg_rgb.jpg", ["-rgb"]),
        ("cjpeg_q1.jpg", ["-quality", "1"]),
        ("cjpeg_q100.jpg", ["-quality", "100"]),
        ("cjpeg_arith.jpg", ["-arithmetic"]),
        ("cjpeg_411_prog.jpg", ["-sample", "4x1,1x1,1x1", "-progressive"]),
        ("cjpeg_gray_22.jpg", ["-grayscale", "-sample", "2x2"]),
    ]
    for name, args in cj:
        run("cjpeg", *args, "-outfile", name, "card.ppm")
    # A sequential (non-progressive) file with one scan per component, so
    # chroma is coded non-interleaved.
    with open("scans.txt", "w") as f:
        f.write("0: 0 63 0 0;\n1: 0 63 0 0;\n2: 0 63 0 0;\n")
    run("cjpeg", "-scans", "scans.txt", "-outfile", "cjpeg_seq_3scans.jpg", "card.ppm")
    run("cjpeg", "-scans", "scans.txt", "-restart", "2B", "-outfile", "cjpeg_seq_3scans_restart.jpg", "card.ppm")
    # A progressive script with successive approximation on every band.
    with open("scans.txt", "w") as f:
        f.write("0,1,2: 0 0 0 1;\n0: 1 5 0 2;\n2: 1 63 0 1;\n1: 1 63 0 1;\n0: 6 63 0 2;\n"
                "0: 1 63 2 1;\n0,1,2: 0 0 1 0;\n2: 1 63 1 0;\n1: 1 63 1 0;\n0: 1 63 1 0;\n")
    run("cjpeg", "-sample", "2x1,1x1,1x1", "-scans", "scans.txt", "-restart", "3B",
        "-outfile", "cjpeg_422_prog_sa.jpg", "card.ppm")
    os.remove("scans.txt")
    os.remove("card.ppm")

    # Files that end early but validly. A sequential file without its Cr
    # scan: libjpeg decodes Cr as zero coefficients (mid-grey). A
    # progressive file cut after 5 of its 10 scans: libjpeg applies block
    # smoothing, which this decoder rejects.
    cut_scans("cjpeg_seq_3scans.jpg", "cut_seq_2of3.jpg", 2)
    cut_scans("pil_420_q75_prog.jpg", "cut_prog_5of10.jpg", 5)

    craft_dc("craft_dc_pos.jpg", 19)   # IDCT output +606: SIMD 255, C 0
    craft_dc("craft_dc_neg.jpg", -19)  # -606: SIMD 0, C 255
    craft_dc("craft_dc_edge.jpg", 16)  # +510: both 255
    craft_dc("craft_dc_wrap16.jpg", 100)  # 4*25500 overflows the SIMD code's int16: 0; C 244


HASH = r"""
import hashlib, json, sys
import numpy as np
from PIL import Image
out = {}
for name in sys.argv[1:]:
    try:
        im = Image.open(name)
        a = np.asarray(im)
        out[name] = [im.mode, im.size[0], im.size[1], hashlib.sha256(a.tobytes()).hexdigest()]
    except Exception as e:
        out[name] = ["error", 0, 0, str(e)]
print(json.dumps(out))
"""


def pil_hashes(names, nosimd):
    env = dict(os.environ)
    env.pop("JSIMD_FORCENONE", None)
    if nosimd:
        env["JSIMD_FORCENONE"] = "1"
    res = subprocess.run([sys.executable, "-c", HASH, *names], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(res.stdout)


def main():
    write_files()
    names = sorted(glob.glob("*.jpg"))
    simd, nosimd = pil_hashes(names, False), pil_hashes(names, True)
    exp = {}
    for n in names:
        mode, w, h, s = simd[n]
        exp[n] = {"mode": mode, "w": w, "h": h, "sha256": s, "sha256_nosimd": nosimd[n][3]}
    import PIL
    doc = {
        "generator": "internal/jpeg/testdata/gen.py",
        "pil": PIL.__version__,
        "libjpeg_turbo": subprocess.run(["cjpeg", "-version"], capture_output=True, text=True).stderr.strip(),
        "files": exp,
    }
    with open("expected.json", "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %d files" % len(names))


if __name__ == "__main__":
    main()
