// Package jpeg decodes JPEG images to exactly the pixels that PIL 9.4
// returns through libjpeg-turbo 2.1 with its default settings:
// np.asarray(Image.open(f)) for mode "L", np.asarray(Image.open(f).convert("RGB"))
// otherwise.
//
// Go's image/jpeg differs from those reference pixels by up to 111 levels on
// the V4 image set (reference/upstream.md §3.1), which is why this package exists.
//
// # Pipeline
//
// The marker parser, Huffman decoder and progressive-scan logic are forked
// from the Go standard library's image/jpeg (BSD licence, see LICENSE), with
// changes so that coefficients come out as libjpeg-turbo's jdhuff.c and
// jdphuff.c leave them (int16 JCOEF storage, arbitrary integral sampling
// factors, libjpeg's block order and restart counting for non-interleaved
// scans, quantisation tables latched at a component's first scan). The rest
// follows libjpeg-turbo:
//
//   - the accurate integer IDCT ("ISLOW", jidctint.c) with dequantisation.
//     By default in the arithmetic of libjpeg-turbo's AVX2/SSE2 code, which
//     is what PIL runs on x86-64; with Options.PortableIDCT in that of the C
//     code (JSIMD_FORCENONE=1), whose range-limit table (jdmaster.c
//     prepare_range_limit_table, 10-bit RANGE_MASK) wraps far out-of-range
//     values where the SIMD code saturates. The two agree unless a block's
//     IDCT output leaves [-512, 511] or a 16-bit intermediate overflows:
//     they agreed on all 12,640 V4 images when checked during development,
//     and TestVariantsAgreeOnRealImages keeps checking 600 of them;
//   - upsampling chosen as jdsample.c's jinit_upsampler chooses it with
//     do_fancy_upsampling on: h2v1_fancy_upsample and h2v2_fancy_upsample
//     (triangle filters with their alternating rounding biases, used when
//     the component is more than 2 samples wide), h1v2_fancy_upsample, and
//     box replication (h2v1_upsample, h2v2_upsample, int_upsample) for
//     everything else, with the context rows of jdmainct.c at the image
//     edges (the first row stands for the row above the image, the last
//     real row is replicated below it);
//   - jdcolor.c's ycc_rgb_convert tables (SCALEBITS 16, ONE_HALF rounding),
//     or plain copies for RGB and grayscale images, with libjpeg's rules
//     for telling RGB from YCbCr (JFIF marker, Adobe transform, component
//     identifiers).
//
// # Verification
//
//   - All 12,640 images of the 12 image archives of the local data copy
//     decode byte-identically to PIL 9.4.0 / libjpeg-turbo 2.1.5 (package
//     imagezip's TestAgainstPILChecksums against checksums recorded by
//     imagezip/testdata/gen_pil_checksums.py, and TestAgainstPILLive, which
//     runs PIL at test time on a sample).
//   - 53 small synthetic files (testdata, made by gen.py and gengo.go with
//     PIL, cjpeg, jpegtran and Go's encoder; 2 of them must be rejected)
//     decode to PIL's pixels, with
//     the default and with the portable IDCT checked against PIL with SIMD
//     and with JSIMD_FORCENONE=1 respectively (TestSyntheticAgainstPIL); the
//     same files and a sample of real images also match djpeg -dct int, with
//     and without SIMD (TestAgainstDjpeg), and so do random cjpeg files with
//     random sampling factors (1–4, each component on its own, luma not
//     necessarily the finest), sizes, qualities, progressive mode, restarts
//     and optimised tables: 3,000 of them during development,
//     200 in TestRandomCjpegAgainstDjpeg.
//   - The synthetic files cover: 4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1, 4:1:0,
//     3x1, luma sampled more coarsely than chroma, grayscale, RGB; sizes from
//     1x1 to 41x27 including chroma planes 1–2 samples wide; baseline,
//     optimised Huffman tables, progressive (spectral selection and
//     successive approximation), restart intervals in rows and blocks,
//     non-interleaved sequential scans and a file missing a component's
//     scan; qualities 1 to 100; and hand-made blocks that separate the SIMD
//     and C IDCTs.
//
// # Not covered
//
// Arithmetic coding, lossless and hierarchical JPEG, 12-bit samples,
// 2- and 4-component (CMYK/YCCK) images, DNL markers and fractional sampling
// ratios are rejected with an UnsupportedError (libjpeg rejects the last two
// as well). A progressive file whose scans leave any of the first nine AC
// coefficients unrefined — a truncated progressive stream, not what encoders
// write — is rejected too, because libjpeg would smooth its blocks
// (jdcoefct.c decompress_smooth_data), which is not implemented. Corrupt
// data gives an error where libjpeg would warn and substitute zeros; the
// IDCT's behaviour on out-of-range coefficients follows the SIMD code's
// arithmetic as documented in idct.go, which is exact for the values tested
// but has not been checked against every overflow path of the assembly.
//
// Images are limited to MaxDimension per side and MaxPixels in all, and
// files to MaxScans scans.
package jpeg
