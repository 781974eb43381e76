//go:build ignore

// Command gengo writes the Go-encoded synthetic JPEGs of this directory:
// a deterministic 41x27 test card encoded by Go's image/jpeg at several
// qualities, in colour (4:2:0) and grayscale. Run it from this directory
// with `go run gengo.go`, then `/usr/bin/python3 gen.py` to refresh
// expected.json.
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log"
	"math/rand/v2"
	"os"
)

// card draws gradients, saturated edges and seeded noise.
func card(w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(20240601, 1))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r := 255 * x / (w - 1)
			g := 255 * y / (h - 1)
			b := 128 + rng.IntN(64) - 32
			if (x/5+y/4)%2 == 0 && x > w/2 {
				r, g, b = 255, 0, 255-r
			}
			if y > h*2/3 && x < w/3 {
				r, g, b = 0, 0, 0
			}
			m.SetRGBA(x, y, color.RGBA{uint8(r), uint8(g), uint8(b), 255})
		}
	}
	return m
}

func main() {
	m := card(41, 27)
	gray := image.NewGray(m.Bounds())
	for i := range gray.Pix {
		gray.Pix[i] = m.Pix[4*i+1]/2 + m.Pix[4*i]/3
	}
	for _, q := range []int{1, 25, 50, 75, 90, 100} {
		for _, src := range []struct {
			name string
			img  image.Image
		}{{"rgb", m}, {"gray", gray}} {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, src.img, &jpeg.Options{Quality: q}); err != nil {
				log.Fatal(err)
			}
			name := fmt.Sprintf("go_%s_q%03d.jpg", src.name, q)
			if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
				log.Fatal(err)
			}
		}
	}
}
