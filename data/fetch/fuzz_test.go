package fetch

import (
	"fmt"
	"testing"
)

// FuzzParseContentRange checks that the Content-Range parser never panics,
// accepts only consistent ranges, and reads back what it would be sent.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes 5-5/*", "bytes 9-1/10", "bytes */10", "bytes 1-2/2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, size, ok := parseContentRange(s)
		if !ok {
			return
		}
		if start < 0 || size < -1 || (size >= 0 && size <= start) {
			t.Fatalf("%q parsed to start %d size %d", s, start, size)
		}
		end := start
		if size > 0 {
			end = size - 1
		}
		again := fmt.Sprintf("bytes %d-%d/%d", start, end, size)
		if size < 0 {
			again = fmt.Sprintf("bytes %d-%d/*", start, end)
		}
		if s2, z2, ok2 := parseContentRange(again); !ok2 || s2 != start || z2 != size {
			t.Fatalf("%q re-parsed as %d, %d, %v; want %d, %d", again, s2, z2, ok2, start, size)
		}
	})
}
