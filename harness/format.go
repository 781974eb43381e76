package harness

import (
	"math"
	"strconv"
	"strings"
)

// Comma formats n with thousands separators, as the paper and REPRODUCE.md write counts
// (62,779,800).
func Comma(n int) string {
	s := strconv.Itoa(n)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// FormatFloat is how every table of the suite writes a number: the shortest decimal that reads
// back as the same float64 (strconv 'g' format, so large and small magnitudes use an exponent),
// "NaN" for a value that is not a number (undefined, such as the correlation of a constant
// prediction, or not computed because a data file is missing; result.json's not_runnable names
// the file), and "Inf" or "-Inf" for infinities. numpy, pandas and R read all of these.
func FormatFloat(x float64) string {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "Inf"
	case math.IsInf(x, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}
