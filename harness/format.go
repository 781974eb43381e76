package harness

import (
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
