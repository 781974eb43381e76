package nn_test

import (
	"fmt"

	"compactv4/internal/model"
	"compactv4/internal/nn"
)

// A compact model evaluated on two images, and its layer-4 activations (for participation
// ratios or pruning analyses). The weights would come from a model reader; NewCompact's are
// zero, so the prediction is the readout bias.
func Example() {
	network, err := model.NewCompact([model.NumLayers]int{48, 60, 3, 3, 3})
	if err != nil {
		panic(err)
	}
	network.Layer("Beta").Weights[1].Data[0] = 0.25 // readout bias
	net, err := nn.Compile(network)
	if err != nil {
		panic(err)
	}
	const n = 2
	pix := make([]uint8, n*112*112*3) // two black RGB images
	resp, err := net.Predict(pix, n)
	if err != nil {
		panic(err)
	}
	fmt.Println("responses:", resp)

	x := make([]float32, len(pix))
	if err := nn.Recenter(pix, x); err != nil {
		panic(err)
	}
	l4, err := net.StageOf("layer4_act")
	if err != nil {
		panic(err)
	}
	stage := net.Stages()[l4]
	act := make([]float32, n*stage.Size())
	if err := net.Activations(x, n, []int{l4}, [][]float32{act}); err != nil {
		panic(err)
	}
	fmt.Println(stage.Name, stage.Layers, stage.Shape, len(act))
	// Output:
	// responses: [0.25 0.25]
	// layer4_act [layer4_conv layer4_bn layer4_act] (28,28,3) 4704
}
