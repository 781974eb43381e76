package main

import (
	"context"
	"encoding/json"
	"errors"

	"compactv4/internal/datadir"
	"compactv4/internal/imagezip"
	"compactv4/internal/v4data"
)

func init() {
	registerData(verb{name: "images", summary: "decode a session's images and print their count and the SHA-256 of the pixels", run: runDataImages})
}

// imagesReport is what `data images` prints.
type imagesReport struct {
	Session string `json:"session"`
	File    string `json:"file"`
	Images  int    `json:"images"`
	Height  int    `json:"height"`
	Width   int    `json:"width"`
	// SHA256 is the hash of all decoded pixels as uint8 in image-index order, each image
	// row-major [y][x][R,G,B]: the bytes of numpy's np.stack(images).tobytes().
	SHA256 string `json:"pixels_sha256"`
}

func runDataImages(ctx context.Context, args []string) error {
	fs := newFlags("replicate data images", "[-data DIR] SESSION", `
Decode every image of data_V4_responses/images/images_SESSION.zip with the reference loader's
rule (image k is the first entry whose name contains image%04d.jpg of k+1) and libjpeg-turbo's
exact pixels, and print as JSON the number of images and the SHA-256 of all pixels as uint8 in
image-index order, each image row-major [y][x][RGB] — the same bytes as numpy's
np.stack(images).tobytes() — so that anyone can compare the suite's pixels with their own
decoder's. The number of images is taken from the session's repeat-averaged responses when that
file exists, else every consecutive image from image0001.jpg.`)
	dir := fs.String("data", "", "data directory (default $V4DATA, else data/V4_compact_models)")
	if err := parseFlags(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("replicate data images: give one SESSION, e.g. 190923 (see -h)")
	}
	session := fs.Arg(0)
	d, err := datadir.Resolve(*dir)
	if err != nil {
		return err
	}
	s, err := v4data.Open(d)
	if err != nil {
		return err
	}
	if _, ok := s.Manifest().Lookup(v4data.ImagesPath(session)); !ok {
		return usagef("replicate data images: session %q has no image archive in the upstream repository", session)
	}
	n := 0
	if a, err := v4data.LoadAveraged(s, session); err == nil {
		n = a.M
	} else {
		var me *v4data.MissingError
		if !errors.As(err, &me) {
			return err
		}
	}
	im, err := v4data.LoadImages(s, session, n)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(imagesReport{
		Session: session, File: v4data.ImagesPath(session),
		Images: im.N, Height: im.H, Width: im.W, SHA256: imagezip.PixelsSHA256(im),
	})
}
