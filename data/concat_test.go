package data

import (
	"slices"
	"testing"
)

func TestConcat(t *testing.T) {
	a, b := newFake(5), newFake(3)
	c, err := NewConcat(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 8 {
		t.Fatalf("Len %d, want 8", c.Len())
	}
	x := make([]float32, 6)
	var got []float32
	for i := range c.Len() {
		if _, err := c.Get(i, x, nil); err != nil {
			t.Fatal(err)
		}
		got = append(got, x[0]) // the fake writes its own index first
	}
	if want := []float32{0, 1, 2, 3, 4, 0, 1, 2}; !slices.Equal(got, want) {
		t.Errorf("examples %v, want %v", got, want)
	}
	if _, err := c.Get(8, x, nil); err == nil {
		t.Error("example 8 of 8: no error")
	}
	labels, err := Labels(c)
	if err != nil || !slices.Equal(labels, []int{0, 1, 2, 0, 1, 0, 1, 2}) {
		t.Errorf("labels %v, %v", labels, err)
	}
	other := newFake(2)
	other.shape = []int{3, 2}
	if _, err := NewConcat(a, other); err == nil {
		t.Error("datasets of other shapes: no error")
	}
}
