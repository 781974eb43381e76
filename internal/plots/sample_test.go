package plots

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"testing"
)

func sampleScatter() []Series {
	r := rand.New(rand.NewPCG(1, 2))
	var s []Series
	for k, name := range []string{"Session 1", "Session 2"} {
		x := make([]float64, 60)
		y := make([]float64, 60)
		for i := range x {
			x[i] = 0.1 + 0.8*r.Float64()
			y[i] = math.Min(1, math.Max(0, x[i]*0.9+0.1*r.NormFloat64()+0.02*float64(k)))
		}
		s = append(s, Series{Label: name, X: x, Y: y})
	}
	return s
}

func labels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("M%d", i+1)
	}
	return out
}

func sampleGroups(n, per int) []Group {
	r := rand.New(rand.NewPCG(3, 4))
	gs := make([]Group, n)
	for i := range gs {
		gs[i].Label = fmt.Sprint(i + 1)
		gs[i].Values = make([]float64, per)
		for j := range gs[i].Values {
			gs[i].Values[j] = 0.3 + 0.05*float64(i) + 0.12*r.NormFloat64()
		}
	}
	return gs
}

func sampleDists() []Distribution {
	r := rand.New(rand.NewPCG(5, 6))
	null := make([]float64, 2000)
	obs := make([]float64, 219)
	for i := range null {
		null[i] = 0.1 * r.NormFloat64()
	}
	for i := range obs {
		obs[i] = 0.35 + 0.1*r.NormFloat64()
	}
	return []Distribution{{Label: "shuffled", Values: null, Null: true}, {Label: "compact models", Values: obs}}
}

func sampleMatrix(n int) [][]float64 {
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, n)
		for j := range m[i] {
			m[i][j] = math.Cos(float64(i-j) / float64(n) * 5)
		}
	}
	return m
}

func sampleImages(t testing.TB) []image.Image {
	var imgs []image.Image
	for k := range 5 {
		pix := make([]uint8, 112*112*3)
		for y := range 112 {
			for x := range 112 {
				i := 3 * (y*112 + x)
				pix[i] = uint8((x * 2 * (k + 1)) % 256)
				pix[i+1] = uint8((y * 3) % 256)
				pix[i+2] = uint8(128 + 100*math.Sin(float64(x+y)/8))
			}
		}
		img, err := RGB(pix, 112, 112)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	for k := range 5 {
		v := make([]float32, 5*5*3)
		for i := range v {
			v[i] = float32(math.Sin(float64(i*(k+1)) * 0.7))
		}
		img, err := Signed(v, 5, 5, 3, 1)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	return imgs
}
