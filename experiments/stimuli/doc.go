// Package stimuli is experiment E3 of the paper (Fig. 2a): the preferred stimuli of the
// single-neuron compact models, synthesised by gradient ascent on each model's response from
// white noise, exactly as upstream's SynthClass.optimize_synth_image does (reference spec §9),
// and compared with the model's responses to its session's natural images.
//
// # The synthesis
//
// Synthesize is the algorithm, for any Model that gives input gradients (nn.GradNet does), with
// upstream's class defaults (DefaultParams: 1,000 steps of size 10, gradient normalised by
// sqrt(mean(g²)) + 1e-5 and smoothed with σ = 1, image smoothed every 50 steps, pixels clipped
// to [0, 255] after recentring, best image kept, batchnorm in inference mode); script6's 100
// steps × 9 restarts are Script6Params. The smoothing is internal/gauss (gauss.Kernel and gauss.FilterHW:
// scipy.ndimage.gaussian_filter's weights and 'reflect' filtering of float64 data, bit for bit;
// upstream's image and gradient are float64 numpy arrays). Checks: the filter and the whole loop, run on an analytic model, equal upstream's
// loop ported to numpy/scipy bit for bit (testdata/gen_reference.py); on a published model the
// synthesis follows an independent PyTorch implementation of the same loop
// (testdata/torch_synth.py) to 1e-6 for the first steps and to about 1 % after 60
// (TestTorchReference).
//
// # The experiment
//
// The quick profile synthesises 8 models of session 190923 (neurons 0, 4, …, 28: evenly spaced,
// Select), the full profile all 219. Each model's noise comes from PCG(ModelSeed(BaseSeed, stem),
// restart), so a model's stimulus does not depend on which others run; models run concurrently,
// one per core, each a cached step. Every model is then evaluated on all images of its session
// (nn inference); a session whose images are missing (211022 in the local data copy) is not
// runnable for that comparison, while its stimuli are still synthesised. Outputs below
// <out>/stimuli: stimuli.csv (per model: seed, best step, responses to the noise, the
// synthesised image and its uint8 PNG, largest and median natural-image response, ratio),
// images/<stem>.png, images.npy (float32 raw images), traces.npy (response after every step),
// natural_responses_<session>.npy, summary.json; figures preferred_stimuli (Fig. 2a style:
// session, neuron, response ratio), per-session grids in the full profile, synth_vs_natural and
// optimisation. The golden values and their tolerances are explained in record.go.
package stimuli
