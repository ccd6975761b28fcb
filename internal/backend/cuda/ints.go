//go:build cuda

package cuda

import "unsafe"

// int32sAsFloats views int32s as float32s of the same bits, for the
// copies, which move bytes.
func int32sAsFloats(s []int32) []float32 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&s[0])), len(s))
}
