// Package torchpt reads PyTorch checkpoints (torch.save's zip format) holding a state dict, and
// converts the state dict of a published compact model (data_compact_models/models_torch/*.pt,
// reference/upstream.md §2.2) into the Keras description of internal/model.
//
// ReadStateDict takes an io.ReaderAt, so that it can be fuzzed and used on any byte source. The
// pickle data.pkl is unpickled with github.com/nlpodyssey/gopickle behind the checks of package
// compactv4/internal/npy/safepickle; it may name only collections.OrderedDict,
// torch._utils._rebuild_tensor_v2 and the Double, Float and Long storage types, all implemented
// here. Nothing in the checkpoint is executed.
//
// # The running-variance shift
//
// The published checkpoints are not a plain copy of the Keras weights. The repository's PyTorch
// class uses torch's batchnorm epsilon 1e-5 where Keras uses 1e-3, and to compensate its
// running_var of batchnorm layers 1-4 is float32(Keras moving_variance + 0.001); layer 0's is the
// Keras value unchanged (reference/upstream.md §2.2, §4.5). Compact subtracts RunningVarShift from layers 1-4 and
// builds the network with Keras' epsilon, so that it computes what the Keras model computes. The
// float32 rounding of the stored sum cannot always be undone: the recovered variances match the
// Keras ones to within 4e-9, 85% of them bit for bit (the figures measured over all 219 models
// are stated on Compact). All other weights are identical to the .npy/.h5 weights.
package torchpt
