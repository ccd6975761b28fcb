package synth

import (
	"slices"
	"testing"
)

func TestShapesDeterministicAndBalanced(t *testing.T) {
	s := New(60, 1, 20, 20, 7)
	a, b := make([]float32, 400), make([]float32, 400)
	counts := make([]int, len(Classes))
	for i := 0; i < s.Len(); i++ {
		la, _ := s.Get(i, a, nil)
		lb, _ := s.Get(i, b, nil)
		if la != lb || !slices.Equal(a, b) {
			t.Fatalf("image %d differs between calls", i)
		}
		counts[la]++
	}
	for c, n := range counts {
		if n != 10 {
			t.Errorf("class %s has %d images, want 10", Classes[c], n)
		}
	}
	if _, err := s.Get(60, a, nil); err == nil {
		t.Error("index past the end accepted")
	}
}
