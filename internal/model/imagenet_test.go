package model

import "testing"

// The parameter counts are Keras' model.summary() totals: ResNet50 and VGG19 without top
// (23,587,712 with 53,120 batchnorm statistics; 20,024,384), and the trunks the teacher fit
// reads (reference/upstream.md §6: 6,345,600 parameters, 24,448 of them batchnorm statistics).
func TestImageNetParams(t *testing.T) {
	tests := []struct {
		name                string
		build               func() (*Network, error)
		total, nonTrainable int
		out                 Shape
		layers              int
	}{
		{"resnet50 notop", func() (*Network, error) { return NewResNet50("conv5_block3_out", 1) }, 23587712, 53120, Shape{H: 7, W: 7, C: 2048}, 175},
		{"resnet50 trunk", func() (*Network, error) { return NewResNet50(ResNet50Output, 1) }, 6345600, 24448, Shape{H: 14, W: 14, C: 1024}, 0},
		{"vgg19 notop", func() (*Network, error) { return NewVGG19("block5_pool", 1) }, 20024384, 0, Shape{H: 7, W: 7, C: 512}, 0},
		{"vgg19 trunk", func() (*Network, error) { return NewVGG19(VGG19Output, 1) }, 10585152, 0, Shape{H: 14, W: 14, C: 512}, 0},
	}
	for _, tc := range tests {
		n, err := tc.build()
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		c := n.Params()
		if c.Total != tc.total || c.NonTrainable != tc.nonTrainable {
			t.Errorf("%s: params %+v, want total %d, non-trainable %d", tc.name, c, tc.total, tc.nonTrainable)
		}
		shapes, err := n.Shapes()
		if err != nil {
			t.Fatal(err)
		}
		if got := shapes[len(shapes)-1]; got != tc.out {
			t.Errorf("%s: output %v, want %v", tc.name, got, tc.out)
		}
		if tc.layers > 0 && len(n.Layers) != tc.layers {
			t.Errorf("%s: %d layers, want %d (Keras' len(model.layers))", tc.name, len(n.Layers), tc.layers)
		}
		if n.IsChain() != (tc.name[0] == 'v') {
			t.Errorf("%s: IsChain = %v", tc.name, n.IsChain())
		}
	}
	if _, err := NewResNet50("nowhere", 1); err == nil {
		t.Error("unknown last layer accepted")
	}
	if _, err := NewResNet50(ResNet50Output, 3); err == nil {
		t.Error("narrowing 3 accepted")
	}
}

func TestGraphValidation(t *testing.T) {
	n, err := NewResNet50("conv2_block1_out", 1)
	if err != nil {
		t.Fatal(err)
	}
	bad := n.Clone()
	bad.Layers[len(bad.Layers)-2].Inbound = []string{"conv2_block1_0_bn"}
	if err := bad.Validate(); err == nil {
		t.Error("an Add with one input validated")
	}
	bad = n.Clone()
	bad.Layers[3].Inbound = []string{"conv2_block1_out"}
	if err := bad.Validate(); err == nil {
		t.Error("a layer reading a later one validated")
	}
	bad = n.Clone()
	bad.Layers[5].Name = bad.Layers[4].Name
	if err := bad.Validate(); err == nil {
		t.Error("two layers of one name validated")
	}
}
