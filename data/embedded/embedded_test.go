package embedded

import (
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/idx"
)

func TestFashionMNIST(t *testing.T) {
	train, test, err := FashionMNIST()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
	tests := []struct {
		name     string
		d        *idx.Dataset
		n        int
		perClass int
	}{
		{"train", train.(*idx.Dataset), 4000, 400},
		{"test", test.(*idx.Dataset), 1000, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d
			if d.Len() != tc.n {
				t.Fatalf("Len %d, want %d", d.Len(), tc.n)
			}
			if s := d.Shape(); len(s) != 3 || s[0] != 1 || s[1] != 28 || s[2] != 28 {
				t.Fatalf("Shape %v", s)
			}
			if got := strings.Join(d.Classes(), "|"); got != strings.Join(want, "|") {
				t.Fatalf("Classes %q", d.Classes())
			}
			counts := make([]int, 10)
			for _, l := range d.Labels() {
				counts[l]++
			}
			for c, n := range counts {
				if n != tc.perClass {
					t.Errorf("class %d (%s): %d examples, want %d", c, want[c], n, tc.perClass)
				}
			}
			// Real images: values in [0, 1], mostly dark background with
			// some full-intensity pixels somewhere in the set.
			x := make([]float32, 784)
			var sum float64
			var max float32
			for i := range d.Len() {
				if _, err := d.Get(i, x, nil); err != nil {
					t.Fatal(err)
				}
				for _, v := range x {
					if v < 0 || v > 1 {
						t.Fatalf("image %d has value %v", i, v)
					}
					sum += float64(v)
					max = maxf(max, v)
				}
			}
			if mean := sum / float64(d.Len()*784); mean < 0.2 || mean > 0.45 || max != 1 {
				t.Errorf("mean pixel %.3f, max %v: not Fashion-MNIST-like (mean about 0.29)", mean, max)
			}
		})
	}
	train2, _, _ := FashionMNIST()
	if train2 != train {
		t.Error("second call decoded the data again")
	}
}

func maxf(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}

func TestNotice(t *testing.T) {
	n := Notice()
	for _, s := range []string{"Zalando SE", "MIT License", "Permission is hereby granted"} {
		if !strings.Contains(n, s) {
			t.Errorf("notice lacks %q", s)
		}
	}
}
