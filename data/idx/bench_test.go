package idx

import "testing"

// BenchmarkGet measures decoding one 28x28 image into float32.
func BenchmarkGet(b *testing.B) {
	const n = 64
	images := &Array{Type: U8, Dims: []int{n, 28, 28}, Data: make([]byte, n*784)}
	for i := range images.Data {
		images.Data[i] = byte(i * 7)
	}
	labels := &Array{Type: U8, Dims: []int{n}, Data: make([]byte, n)}
	d, err := NewDataset(images, labels, DigitClasses())
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float32, 784)
	b.SetBytes(784)
	for i := 0; b.Loop(); i++ {
		if _, err := d.Get(i%n, x, nil); err != nil {
			b.Fatal(err)
		}
	}
}
