// Package imagenet prepares the inputs of the ImageNet-trained networks the teacher fit uses
// (ResNet50, whose trunk also feeds the ensemble, and VGG19) and loads those networks from the
// Keras weight files keras.applications downloads (reference/upstream.md §3.2, §6).
//
// Preprocess turns 112×112 RGB stimuli into the networks' input exactly as upstream does: Pillow
// 9.4's bicubic resize to 224×224 (internal/pilresize), then Keras' preprocess_input in 'caffe'
// mode (Caffe). LoadResNet50 and LoadVGG19 find and verify the pinned weight file
// (internal/kerasweights), build the keras.applications architecture (model.NewResNet50,
// model.NewVGG19) up to the layer the teacher fit reads, set its weights from the file
// (keras.ReadLegacyWeights) and compile it (nn.CompileGraph).
package imagenet

import (
	"fmt"
	"io"
	"os"

	"compactv4/internal/keras"
	"compactv4/internal/kerasweights"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/pilresize"
)

// CaffeMean is what Keras' preprocess_input subtracts in 'caffe' mode, per channel in BGR order
// (the ImageNet means of the Caffe models).
var CaffeMean = [3]float32{103.939, 116.779, 123.68}

// Caffe writes Keras' preprocess_input(x, mode='caffe') of the interleaved RGB bytes pix into dst
// (same length, a multiple of 3): the bytes cast to float32, the channels reversed to BGR, and
// CaffeMean subtracted in float32 arithmetic, as numpy does it on a float32 array.
func Caffe(pix []uint8, dst []float32) error {
	if len(pix) != len(dst) || len(pix)%3 != 0 {
		return fmt.Errorf("caffe preprocessing: %d bytes into %d floats (want equal lengths, a multiple of 3)", len(pix), len(dst))
	}
	for i := 0; i < len(pix); i += 3 {
		for c := 0; c < 3; c++ {
			dst[i+c] = float32(pix[i+2-c]) - CaffeMean[c]
		}
	}
	return nil
}

// Preprocess resizes n square RGB images of side size (pix holds n·size·size·3 bytes, NHWC) to
// model.TeacherImageSize with Pillow's bicubic filter and applies Caffe, returning
// n·224·224·3 floats (NHWC, BGR).
func Preprocess(pix []uint8, n, size int) ([]float32, error) {
	per := size * size * 3
	if n < 0 || size < 1 || len(pix) != n*per {
		return nil, fmt.Errorf("preprocess: %d bytes for %d images of %d×%d×3", len(pix), n, size, size)
	}
	const side = model.TeacherImageSize
	out := make([]float32, n*side*side*3)
	for i := 0; i < n; i++ {
		big, err := pilresize.Bicubic(pix[i*per:(i+1)*per], size, size, 3, side, side)
		if err != nil {
			return nil, fmt.Errorf("preprocess image %d: %w", i, err)
		}
		if err := Caffe(big, out[i*side*side*3:(i+1)*side*side*3]); err != nil {
			return nil, fmt.Errorf("preprocess image %d: %w", i, err)
		}
	}
	return out, nil
}

// Features returns net's output for n images of uint8 RGB pixels of side size (NHWC, as the
// sessions store them), preprocessed with Preprocess and evaluated batch images at a time:
// n·net.Outputs() floats.
func Features(net *nn.GraphNet, pix []uint8, n, size, batch int) ([]float32, error) {
	per := size * size * 3
	if n < 1 || size < 1 || batch < 1 || len(pix) != n*per {
		return nil, fmt.Errorf("features: %d bytes for %d images of %d×%d×3 (batch %d)", len(pix), n, size, size, batch)
	}
	k := net.Outputs()
	out := make([]float32, n*k)
	for i := 0; i < n; i += batch {
		b := min(batch, n-i)
		x, err := Preprocess(pix[i*per:(i+b)*per], b, size)
		if err != nil {
			return nil, err
		}
		if err := net.Forward(x, b, out[i*k:(i+b)*k]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LoadResNet50 loads keras.applications' ImageNet ResNet50 up to the layer upto
// (model.ResNet50Output for the teacher fit) from the pinned weight file
// resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5, located and verified by
// kerasweights.Locate in weightsDir (-weights DIR), else in $KERAS_HOME/models or
// ~/.keras/models. Without the file the error is a *kerasweights.MissingError ("not runnable",
// naming the file, its MD5 and how to get it); with a file of another hash, a
// *kerasweights.CorruptError naming it. While the file's SHA-256 is not pinned, the one computed
// is written to log (kerasweights.UnpinnedMessage).
func LoadResNet50(weightsDir, upto string, log io.Writer) (*model.Network, *nn.GraphNet, error) {
	p, err := kerasweights.Locate(kerasweights.ResNet50, weightsDir, log)
	if err != nil {
		return nil, nil, err
	}
	return LoadResNet50File(p, upto, 1)
}

// LoadVGG19 is LoadResNet50 for VGG19 (vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5,
// model.VGG19Output).
func LoadVGG19(weightsDir, upto string, log io.Writer) (*model.Network, *nn.GraphNet, error) {
	p, err := kerasweights.Locate(kerasweights.VGG19, weightsDir, log)
	if err != nil {
		return nil, nil, err
	}
	return LoadVGG19File(p, upto, 1)
}

// LoadResNet50File reads a Keras 2 weight file of ResNet50's layout at path (unverified: the
// real file, or a test's) into the network up to the layer upto, narrowed by narrow (1 for the
// real file), and compiles it.
func LoadResNet50File(path, upto string, narrow int) (*model.Network, *nn.GraphNet, error) {
	net, err := model.NewResNet50(upto, narrow)
	if err != nil {
		return nil, nil, err
	}
	return load(path, net)
}

// LoadVGG19File is LoadResNet50File for VGG19.
func LoadVGG19File(path, upto string, narrow int) (*model.Network, *nn.GraphNet, error) {
	net, err := model.NewVGG19(upto, narrow)
	if err != nil {
		return nil, nil, err
	}
	return load(path, net)
}

func load(path string, net *model.Network) (*model.Network, *nn.GraphNet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if err := keras.ReadLegacyWeights(net, f, st.Size()); err != nil {
		return nil, nil, fmt.Errorf("%s (%s): %w", path, net.Name, err)
	}
	g, err := nn.CompileGraph(net)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return net, g, nil
}
