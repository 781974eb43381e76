// Package keras reads the Keras artefacts of the paper: `.keras` model archives (a zip holding
// config.json and model.weights.h5), Keras 3 `.weights.h5` files, and printed model summaries.
package keras
