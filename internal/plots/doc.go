// Package plots is the house style of every figure of the replication suite
// and the pixel-diff tool behind `replicate diff`.
//
// Builders take plain data (slices, labels) and options, never experiment
// types, and return something that draws itself (a Drawer):
//
//   - Scatter: points per series, optional unity line, log axes, error
//     bars and bands (compact versus teacher accuracy, parameter counts);
//     wrap it in Square for a square data area.
//   - Lines: lines with markers, error bars or bands, reference lines
//     (accuracy versus the number of filters K, one line per teacher).
//   - Groups: box plots and jittered points of per-group values with
//     medians marked (accuracy by session, the consolidation profile).
//   - Histogram: overlaid histograms or densities of observed and null
//     distributions, with reference lines.
//   - Grid: small multiples or multi-panel figures with panel letters and
//     shared axes; plot.Plot panels are aligned.
//   - ImageGrid, with RGB and Signed: images (preferred stimuli, filter
//     kernels around grey) with titles, pixels kept sharp.
//   - Heatmap: a matrix with a colour bar (similarity matrices).
//
// Save(fig, dir, name, width, height) writes name.png and name.svg; Render
// returns the bytes. Diff, DiffPNG and DiffFiles compare two PNGs pixel by
// pixel (the engine of `replicate diff`); DiffText and DiffTextFiles count
// the changed lines of two SVGs.
//
//	p, err := plots.Lines(series, plots.LineOptions{
//		Axes:   plots.Axes{XLabel: "Number of filters K", YLabel: "Accuracy (R^{2})", LogX: true},
//		HLines: []plots.RefLine{{Value: teacherR2, Label: "teacher"}},
//	})
//	if err != nil { ... }
//	err = plots.Save(p, dir, "accuracy_vs_k", plots.SingleColumn, 0.75*plots.SingleColumn)
//
// # Style
//
// Figures follow Nature's artwork guidelines: Liberation Sans (metrically
// identical to Arial), 7 pt labels and 6 pt tick labels, 0.5 pt axes with
// outward ticks, 1 pt data lines, the colour-blind-safe Okabe–Ito palette in
// a fixed order (Color), and widths of one (SingleColumn, 89 mm) or two
// (DoubleColumn, 183 mm) columns. PNGs are rendered at DPI dots per inch.
//
// # Text and log axes
//
// Every label may contain superscripts written "^{...}": "Accuracy (R^{2})",
// "Rate (spikes s^{−1})". Log axes (Axes.LogX, Axes.LogY) are drawn as linear
// axes over log10 of the data with ticks labelled in data units (gonum's
// plot.LogScale reserves room for the axis label at the arithmetic midpoint of
// the range and leaves a wide empty band); a plotter added to such a plot must
// use log10 coordinates on that axis.
//
// # Determinism
//
// The same inputs give the same PNG and SVG bytes. Nothing here reads the
// clock, a random source without an explicit seed, the environment, or the
// system's fonts: the fonts are the Liberation fonts compiled into
// gonum/plot, held in a private font cache so that a change to gonum/plot's
// package-level defaults (plot.DefaultFont, font.DefaultCache) by another
// package cannot change our figures. gonum/plot's SVG and PNG back ends
// write no timestamps and iterate no maps while drawing; PNG bytes come from
// the standard library's encoder, so they are stable for one Go release and
// architecture. Across architectures, the compiler may fuse floating-point
// multiply-adds (arm64, ppc64le, s390x), which can move an anti-aliased edge
// by one grey level; compare figures from different machines with Diff, not
// by bytes.
//
// # Bad input
//
// Builders return an error, never panic, on empty data, mismatched lengths
// or label counts, and non-finite values: NaN and ±Inf are rejected (the
// error names the series and index), except in Heatmap, where NaN marks a
// missing cell and is drawn in light grey. Values that cannot be shown on a
// log axis (≤ 0) are rejected too. Filter your data and report what you
// dropped before plotting it.
package plots
