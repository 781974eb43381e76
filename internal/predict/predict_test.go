package predict

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	stdjpeg "image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/jpeg"
	"compactv4/internal/model"
	"compactv4/internal/modelfile"
	"compactv4/internal/nn"
	"compactv4/internal/npy"
	"compactv4/internal/pilresize"
	"compactv4/internal/pyref"
)

// noise returns w×h seeded random RGB bytes.
func noise(seed uint64, w, h int) []uint8 {
	rng := rand.New(rand.NewPCG(seed, 7))
	p := make([]uint8, w*h*3)
	for i := range p {
		p[i] = uint8(rng.IntN(256))
	}
	return p
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// rgbPNG encodes RGB bytes as an opaque 8-bit RGB PNG (colour type 2).
func rgbPNG(t testing.TB, pix []uint8, w, h int) []byte {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		copy(m.Pix[4*i:4*i+3], pix[3*i:3*i+3])
		m.Pix[4*i+3] = 255
	}
	return encodePNG(t, m)
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := stdjpeg.Encode(&b, m, &stdjpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func rgbJPEG(t testing.TB, pix []uint8, w, h int) []byte {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		copy(m.Pix[4*i:4*i+3], pix[3*i:3*i+3])
		m.Pix[4*i+3] = 255
	}
	return encodeJPEG(t, m)
}

func makeZip(t testing.TB, files map[string][]byte, order []string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range order {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func npyBytes(t testing.TB, write func(*bytes.Buffer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestReadImages reads generated zips, directories and .npy files: names sorted by byte value,
// pixels exactly those of the decoders (PNG lossless, JPEG as internal/jpeg), other sizes
// resized as Pillow does.
func TestReadImages(t *testing.T) {
	a, b, c := noise(1, side, side), noise(2, side, side), noise(3, 50, 40)
	jb := rgbJPEG(t, b, side, side)
	jm, err := jpeg.Decode(bytes.NewReader(jb))
	if err != nil {
		t.Fatal(err)
	}
	resized, err := pilresize.Bicubic(c, 50, 40, 3, side, side)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"b/img2.JPG": jb, "a.png": rgbPNG(t, a, side, side), "c small.png": rgbPNG(t, c, 50, 40),
		"notes.txt": []byte("not an image"), ".hidden.png": []byte("x"), "__MACOSX/._a.png": []byte("x"), ".git/x.png": []byte("x"),
	}
	order := []string{"notes.txt", "c small.png", "b/img2.JPG", "a.png", ".hidden.png", "__MACOSX/._a.png", ".git/x.png"}
	wantNames := []string{"a.png", "b/img2.JPG", "c small.png"}
	want := append(append(append([]uint8{}, a...), jm.Pix...), resized...)

	dir := t.TempDir()
	zipPath := filepath.Join(dir, "images.zip")
	writeFiles(t, dir, map[string][]byte{"images.zip": makeZip(t, files, order)})
	imgDir := filepath.Join(dir, "images")
	writeFiles(t, imgDir, files)

	u8 := append(append([]uint8{}, a...), b...)
	i64 := make([]int64, len(u8))
	f64 := make([]float64, len(u8))
	for i, v := range u8 {
		i64[i], f64[i] = int64(v), float64(v)*0.999
	}
	writeFiles(t, dir, map[string][]byte{
		"u8.npy":  npyBytes(t, func(w *bytes.Buffer) error { return npy.WriteInt64(w, []int{2, side, side, 3}, i64) }),
		"f64.npy": npyBytes(t, func(w *bytes.Buffer) error { return npy.WriteFloat64(w, []int{2, side, side, 3}, f64) }),
		"one.npy": npyBytes(t, func(w *bytes.Buffer) error { return npy.WriteInt64(w, []int{side, side, 3}, i64[:side*side*3]) }),
	})

	tests := []struct {
		name    string
		path    string
		names   []string
		pix     []uint8
		raw     []float64
		resized int
		skipped int
	}{
		{"zip", zipPath, wantNames, want, nil, 1, 4},
		{"directory", imgDir, wantNames, want, nil, 1, 3}, // .git/ is not walked
		{"npy int", filepath.Join(dir, "u8.npy"), []string{"0", "1"}, u8, nil, 0, 0},
		{"npy float", filepath.Join(dir, "f64.npy"), []string{"0", "1"}, nil, f64, 0, 0},
		{"npy one image", filepath.Join(dir, "one.npy"), []string{"0"}, a, nil, 0, 0},
		{"one file", filepath.Join(imgDir, "c small.png"), []string{"c small.png"}, resized, nil, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im, err := readImages(tt.path, ImageOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(im.Names, "|") != strings.Join(tt.names, "|") {
				t.Errorf("names %q, want %q", im.Names, tt.names)
			}
			if !bytes.Equal(im.Pix, tt.pix) {
				t.Errorf("pixels differ (%d bytes, want %d)", len(im.Pix), len(tt.pix))
			}
			if len(im.Raw) != len(tt.raw) || (tt.raw != nil && im.Raw[5] != tt.raw[5]) {
				t.Errorf("raw values: %d, want %d", len(im.Raw), len(tt.raw))
			}
			if im.Resized != tt.resized || len(im.Skipped) != tt.skipped {
				t.Errorf("resized %d, skipped %q; want %d, %d", im.Resized, im.Skipped, tt.resized, tt.skipped)
			}
		})
	}
}

// TestReadImagesRejects: every kind of bad input is an error that says what is wrong.
func TestReadImagesRejects(t *testing.T) {
	dir := t.TempDir()
	good := rgbPNG(t, noise(1, side, side), side, side)
	gray := image.NewGray(image.Rect(0, 0, side, side))
	rgba := image.NewNRGBA(image.Rect(0, 0, side, side))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i)
	}
	pal := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.Black, color.White})
	deep := image.NewRGBA64(image.Rect(0, 0, side, side))
	for i := range deep.Pix {
		deep.Pix[i] = uint8(i * 7)
	}
	truncated := rgbJPEG(t, noise(4, side, side), side, side)
	truncated = truncated[:len(truncated)/2]
	nan := make([]float64, side*side*3*2)
	nan[side*side*3+5] = math.NaN()
	big := make([]float64, side*side*3)
	big[7] = 255.5
	neg := make([]int64, side*side*3)
	neg[0] = -3

	one := func(name string, b []byte) string {
		d := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".d")
		writeFiles(t, d, map[string][]byte{name: b, "ok.png": good})
		return d
	}
	file := func(name string, b []byte) string {
		writeFiles(t, dir, map[string][]byte{name: b})
		return filepath.Join(dir, name)
	}
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	tests := []struct {
		name, path string
		opts       ImageOptions
		want       []string
	}{
		{"empty directory", empty, ImageOptions{}, []string{"no .jpg, .jpeg or .png images"}},
		{"zip without images", file("none.zip", makeZip(t, map[string][]byte{"a.txt": nil}, []string{"a.txt"})), ImageOptions{}, []string{"no .jpg", "1 other files"}},
		{"corrupt JPEG", one("x.jpg", truncated), ImageOptions{}, []string{"x.jpg", "corrupt JPEG"}},
		{"not an image", one("y.png", []byte("hello, world")), ImageOptions{}, []string{"y.png", "neither a JPEG nor a PNG"}},
		{"corrupt PNG", one("z.png", good[:len(good)-20]), ImageOptions{}, []string{"z.png", "corrupt PNG"}},
		{"grayscale JPEG", one("g.jpg", encodeJPEG(t, gray)), ImageOptions{}, []string{"g.jpg", "grayscale JPEG", "RGB"}},
		{"grayscale PNG", one("g.png", encodePNG(t, gray)), ImageOptions{}, []string{"g.png", "8-bit grayscale PNG"}},
		{"alpha PNG", one("a.png", encodePNG(t, rgba)), ImageOptions{}, []string{"a.png", "RGB with alpha"}},
		{"palette PNG", one("p.png", encodePNG(t, pal)), ImageOptions{}, []string{"p.png", "palette"}},
		{"16-bit PNG", one("d.png", encodePNG(t, deep)), ImageOptions{}, []string{"d.png", "16-bit RGB"}},
		{"wrong size, no resize", one("s.png", rgbPNG(t, noise(5, 20, 30), 20, 30)), ImageOptions{NoResize: true}, []string{"s.png is 20×30, not 112×112"}},
		{"duplicate zip entries", file("dup.zip", makeZip(t, map[string][]byte{"a.png": good}, []string{"a.png", "a.png"})), ImageOptions{}, []string{`two entries named "a.png"`}},
		{"npy NaN", file("nan.npy", npyBytes(t, func(w *bytes.Buffer) error { return npy.WriteFloat64(w, []int{2, side, side, 3}, nan) })), ImageOptions{}, []string{"image 1 (pixel 5) holds NaN"}},
		{"npy above 255", file("big.npy", npyBytes(t, func(w *bytes.Buffer) error { return npy.WriteFloat64(w, []int{1, side, side, 3}, big) })), ImageOptions{}, []string{"image 0 (pixel 7) holds 255.5", "[0, 255]"}},
		{"npy negative", file("neg.npy", npyBytes(t, func(w *bytes.Buffer) error { return npy.WriteInt64(w, []int{1, side, side, 3}, neg) })), ImageOptions{}, []string{"holds -3", "recentred"}},
		{"npy shape", file("shape.npy", npyBytes(t, func(w *bytes.Buffer) error { return npy.WriteFloat64(w, []int{2, 3}, make([]float64, 6)) })), ImageOptions{}, []string{"shape [2 3]", "(N, 112, 112, 3)"}},
		{"npy no images", file("zero.npy", npyBytes(t, func(w *bytes.Buffer) error { return npy.WriteFloat64(w, []int{0, side, side, 3}, nil) })), ImageOptions{}, []string{"no images"}},
		{"npy truncated", file("trunc.npy", npyBytes(t, func(w *bytes.Buffer) error { return npy.WriteFloat64(w, []int{1, side, side, 3}, big) })[:200]), ImageOptions{}, []string{"trunc.npy"}},
		{"something else", file("x.bin", []byte("GIF89a....")), ImageOptions{}, []string{"neither a zip archive, a directory, an .npy file nor a JPEG or PNG image"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readImages(tt.path, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInput) {
				t.Errorf("error %v does not wrap ErrInput", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := readImages(filepath.Join(dir, "absent"), ImageOptions{}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent path: %v", err)
	}
}

// smallModel writes a seeded compact model as a model_weights_npy file (with its filter counts
// beside it) under dir and returns its path and network.
func smallModel(t testing.TB, dir, stem string) (string, *model.Network) {
	t.Helper()
	net, err := model.NewCompact([model.NumLayers]int{4, 3, 3, 3, 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.InitKeras(net, 5); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "model_weights_npy", stem+".npy")
	if err := modelfile.WriteNPY(p, net); err != nil {
		t.Fatal(err)
	}
	return p, net
}

// TestRun predicts with a model file on each kind of input and checks the numbers against the
// compiled network run directly, and the files Write makes.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	modelPath, net := smallModel(t, dir, "compact_model_190923_neuron4")
	c, err := nn.Compile(net)
	if err != nil {
		t.Fatal(err)
	}
	a, b := noise(11, side, side), noise(12, side, side)
	pix := append(append([]uint8{}, a...), b...)
	want, err := c.Predict(pix, 2)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string][]byte{"imgs/2.png": rgbPNG(t, b, side, side), "imgs/1.png": rgbPNG(t, a, side, side)})
	i64 := make([]int64, len(pix))
	f64 := make([]float64, len(pix))
	for i, v := range pix {
		i64[i], f64[i] = int64(v), float64(v)
	}
	writeFiles(t, dir, map[string][]byte{
		"u8.npy":  npyBytes(t, func(w *bytes.Buffer) error { return npy.WriteInt64(w, []int{2, side, side, 3}, i64) }),
		"f64.npy": npyBytes(t, func(w *bytes.Buffer) error { return npy.WriteFloat64(w, []int{2, side, side, 3}, f64) }),
	})
	for _, in := range []string{"imgs", "u8.npy", "f64.npy"} {
		t.Run(in, func(t *testing.T) {
			r, err := Run(modelPath, filepath.Join(dir, in), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Values) != 2 || r.Values[0] != want[0] || r.Values[1] != want[1] {
				t.Fatalf("predictions %v, want %v (exactly)", r.Values, want)
			}
			prefix := filepath.Join(t.TempDir(), "out", "pred")
			np, cp, err := r.Write(prefix)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(np)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			arr, err := npy.Read(f)
			if err != nil {
				t.Fatal(err)
			}
			if arr.Dtype.String() != "<f4" || len(arr.Shape) != 2 || arr.Shape[0] != 2 || arr.Shape[1] != 1 || arr.Float64[1] != float64(want[1]) {
				t.Errorf(".npy: %v %v %v", arr.Dtype, arr.Shape, arr.Float64)
			}
			cb, err := os.ReadFile(cp)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(bytes.NewReader(cb)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 3 || strings.Join(rows[0], ",") != "image,190923_neuron4" || rows[1][1] != formatFloat32(want[0]) {
				t.Errorf("CSV:\n%s", cb)
			}
			if in == "imgs" && (rows[1][0] != "1.png" || rows[2][0] != "2.png") {
				t.Errorf("CSV image names %q, %q", rows[1][0], rows[2][0])
			}
		})
	}
}

func TestRunRejects(t *testing.T) {
	dir := t.TempDir()
	modelPath, _ := smallModel(t, dir, "m")
	writeFiles(t, dir, map[string][]byte{"imgs/a.png": rgbPNG(t, noise(1, side, side), side, side), "model.bin": []byte("not a model")})
	tests := []struct {
		name, model, images string
		opts                Options
		want                error
		text                string
	}{
		{"unknown model format", filepath.Join(dir, "model.bin"), "imgs", Options{}, modelfile.ErrUnknownFormat, "model.bin"},
		{"bad filters option", modelPath, "imgs", Options{Model: modelfile.Options{Filters: "1,2"}}, modelfile.ErrOption, "filters"},
		{"missing model", filepath.Join(dir, "absent.keras"), "imgs", Options{}, os.ErrNotExist, "absent.keras"},
		{"no images", modelPath, "absent", Options{}, os.ErrNotExist, "absent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(tt.model, filepath.Join(dir, tt.images), tt.opts)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %v, want %v naming %q", err, tt.want, tt.text)
			}
		})
	}
}

func TestColumnNames(t *testing.T) {
	compact, err := model.NewCompact([model.NumLayers]int{4, 3, 3, 3, 3})
	if err != nil {
		t.Fatal(err)
	}
	shared, err := model.NewShared(8, 219, true)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file    string
		net     *model.Network
		outputs int
		want    []string // the first columns
	}{
		{"x/compact_model_201025_neuron12.weights.h5", compact, 1, []string{"201025_neuron12"}},
		{"compact_model_190923_neuron0.pt", compact, 1, []string{"190923_neuron0"}},
		{"mine.keras", compact, 1, []string{"output0"}},
		{"shared_compact_model_8filters.keras", shared, 219, []string{"190923_neuron0", "190923_neuron1"}},
		{"other.keras", compact, 3, []string{"output0", "output1", "output2"}},
	}
	for _, tt := range tests {
		got := columnNames(tt.file, tt.net, tt.outputs)
		if len(got) != tt.outputs || strings.Join(got[:len(tt.want)], ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: %q, want %q first", tt.file, got[:min(len(got), 3)], tt.want)
		}
	}
}

// TestAgainstPIL reads generated JPEGs and PNGs of several sizes (up- and downscaled, and
// 112×112) and compares each image's pixels with those of upstream's loader,
// np.array(Image.open(f).resize((112, 112))), run by testdata/pil_load.py: byte for byte (JPEG
// decoding and the resize are both exact integer pipelines). Needs Python with PIL and numpy.
func TestAgainstPIL(t *testing.T) {
	py := pyref.Need(t, "PIL", "numpy")
	dir := t.TempDir()
	files := map[string][]byte{}
	for i, sz := range [][2]int{{150, 90}, {64, 64}, {112, 112}, {300, 200}, {113, 111}} {
		pix := noise(uint64(20+i), sz[0], sz[1])
		files[fmt.Sprintf("j%d.jpg", i)] = rgbJPEG(t, pix, sz[0], sz[1])
		files[fmt.Sprintf("p%d.png", i)] = rgbPNG(t, pix, sz[0], sz[1])
	}
	writeFiles(t, dir, files)
	im, err := readImages(dir, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	args := []string{filepath.Join("testdata", "pil_load.py")}
	for _, n := range im.Names {
		args = append(args, filepath.Join(dir, n))
	}
	out, err := exec.Command(py, args...).Output()
	if err != nil {
		t.Fatalf("pil_load.py: %v", err)
	}
	var ref struct {
		Pillow string `json:"pillow"`
		Images map[string]struct {
			Shape  []int  `json:"shape"`
			SHA256 string `json:"sha256"`
		} `json:"images"`
	}
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatal(err)
	}
	const per = side * side * 3
	for i, n := range im.Names {
		r := ref.Images[filepath.Join(dir, n)]
		h := sha256.Sum256(im.Pix[i*per : (i+1)*per])
		if got := hex.EncodeToString(h[:]); got != r.SHA256 {
			t.Errorf("%s: SHA-256 %s, Pillow %s %s (shape %v)", n, got, ref.Pillow, r.SHA256, r.Shape)
		}
	}
	t.Logf("%d images equal to Pillow %s's, %d of them resized", im.N(), ref.Pillow, im.Resized)
}
