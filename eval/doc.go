// Package eval is the evaluation layer that every experiment and `replicate score` share: the
// recorded sessions (images, responses, the evaluation split), models behind one predictor
// interface with their predictions and layer activations cached, one scoring path (Pearson r, r²
// and, wherever a session's raw repeats exist, the noise-corrected r²_ER), and one
// median-with-confidence-interval summary.
//
// # Sessions and responses
//
// Data serves one experiment run: it decodes each session's images once, and when a file a step
// needs is missing it records the file as not runnable in the run's Result, with the reason the
// experiment gives, instead of failing. EvalHalf returns a test session's evaluation half
// (images M/2…M−1, reference/upstream.md §5.1): the repeat-averaged responses and, when the raw
// file is present, the raw repeats. LoadResponses does the same for any session and any range of
// images, without a run (for `replicate score`).
//
// # Models
//
// A Model maps images to outputs. Network wraps a *model.Network (a published single-neuron
// compact model, NewCompact, or a shared compact model with 219 outputs, NewShared); a new kind of
// model (a ResNet50 trunk, the teacher ensemble) implements the same interface. Data.Predict runs a
// model on a range of a session's images as a cached step keyed by the model's files, the images
// and the range: two experiments that need the same predictions compute them once.
//
// # Scores and summaries
//
// Score compares predictions with a Responses: per neuron Pearson r and r² against the
// repeat-averaged responses, and r²_ER (metrics.R2ER, upstream compute_r2_ER with its quirk B2 by
// default) when the raw repeats are there. Summarize gives the median of each metric over neurons
// with its seeded 90 % percentile-bootstrap interval; Pool concatenates sessions (r²_ER only when
// every pooled session has it, so that a pooled median never mixes neurons with and without it).
//
// # Adding a data source
//
// The V4 data of the upstream repository is pinned by the manifest of internal/v4data and verified
// by its Store before use. The recordings of other areas are pinned by internal/areadata
// (Brain-Score's MajajHong2015 V4/IT assembly and stimulus set, Cadena et al. 2019's V1 pickle),
// whose readers return Responses of this package. Another pinned source (the Keras ImageNet
// weights) brings its own list of files and store in its own package, downloads through
// internal/pinfetch (hash while streaming, atomic rename), and its loaders return the types of
// this package (Responses, a Model), so that scoring and summaries stay one path.
package eval
