// Package stimuli is experiment E3 of the paper (Fig. 2a): the preferred stimuli of the
// single-neuron compact models, synthesised by gradient ascent on each model's response from
// white noise, exactly as upstream's SynthClass.optimize_synth_image does (reference spec §9).
//
// Synthesize is the algorithm, for any Model that gives input gradients (nn.GradNet does);
// GaussianKernel and GaussianFilterHW are scipy.ndimage.gaussian_filter's weights and 'reflect'
// filtering, bit for bit, which the algorithm uses to smooth gradients and images. Both are
// checked against numpy and scipy (testdata/gen_reference.py): the filter and the whole
// optimisation loop, run on an analytic model, agree bit for bit.
package stimuli
