// Package keras reads the Keras artefacts of the paper: `.keras` model archives (a zip holding
// config.json and model.weights.h5), Keras 3 `.weights.h5` files, and printed model summaries.
//
// # Models
//
// ReadModel (and ReadArchive, which also returns metadata.json's keras_version) reads a .keras
// archive into the network description of internal/model. The description comes from config.json
// (ParseConfig): layer classes, filter counts, kernel sizes, strides, padding, batchnorm epsilon
// and momentum, activations, use_bias, depth multipliers and the input shape, nothing assumed.
// Only simple chains of the layer classes of internal/model are accepted; anything else (another
// class, a skip connection, channels_first, dilation, groups, a fused non-linear activation, ...)
// is refused with an error naming the layer (errors.Is(err, ErrUnsupported)).
//
// ReadWeightsH5 reads a Keras 3 .weights.h5 file alone. Having no configuration, it recognises the
// paper's two architectures (compact and shared compact model) from the weight groups present and
// infers the filter counts from the shapes; see its documentation for how the ReLU and linear
// variants of the shared model are told apart.
//
// LoadWeights, used by both, maps the groups layers/<auto-name>/vars/<i> of a Keras 3 weights file
// to the layers of a network (GroupNames: the snake-case class name plus a per-class counter, in
// layer order; reference/upstream.md §2.2) and verifies the mapping against the file: every weighted
// layer's group must exist with exactly the expected arrays and shapes, and no group may be left
// over. Networks returned by ReadModel and ReadWeightsH5 have passed model.Network.Validate (no
// NaN or infinite weights).
//
// All readers take an io.Reader or io.ReaderAt, bound what they allocate (by the input's size, and
// by the limits MaxConfigBytes, MaxWeightBytes and MaxWeightsEntryBytes for what the input may
// claim or decompress to), and report malformed input as errors with context, never panics; each
// has a fuzz target.
//
// # Summaries
//
// ParseSummaries reads printed Keras 3 model.summary() tables (the model_summaries files of the
// compact models and the ensemble model's summary).
package keras
