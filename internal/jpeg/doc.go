// Package jpeg decodes JPEG images to exactly the pixels that PIL 9.4 gets
// from libjpeg-turbo 2.1 with its default settings (accurate integer IDCT,
// fancy upsampling, fixed-point YCbCr→RGB).
//
// The bitstream, marker and Huffman code is forked from the Go standard
// library's image/jpeg (BSD licence, see LICENSE); the IDCT, upsampling and
// colour conversion follow libjpeg-turbo.
package jpeg
