// Package synth synthesises a model's preferred stimulus by gradient ascent on the input image,
// exactly as upstream's SynthClass.optimize_synth_image does (reference/upstream.md §9).
//
// Synthesize is the algorithm, for any Model that gives input gradients (nn.GradNet does), with
// upstream's class defaults (DefaultParams: 1,000 steps of size 10, gradient normalised by
// sqrt(mean(g²)) + 1e-5 and smoothed with σ = 1, image smoothed every 50 steps, pixels clipped
// to [0, 255] after recentring, best image kept, batchnorm in inference mode). The smoothing is
// internal/gauss (scipy.ndimage.gaussian_filter's weights and 'reflect' filtering of float64
// data, bit for bit; upstream's image and gradient are float64 numpy arrays). Each restart's
// noise comes from PCG(seed, restart), so a synthesis depends only on its model, parameters and
// seed. MarshalBinary and ReadSynth store a result (for the result cache) and read it back,
// checking it.
//
// Checks: the filter and the whole loop, run on an analytic model, equal upstream's loop ported
// to numpy/scipy (testdata/gen_reference.py) to the last bits of the committed reference; on a
// published model the synthesis follows an independent PyTorch implementation of the same loop
// (testdata/torch_synth.py) to 1e-6 for the first steps and to about 1 % after 60
// (TestTorchReference).
package synth
