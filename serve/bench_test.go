package serve

import (
	"encoding/json"
	"testing"
)

// BenchmarkDecodeInfer times decoding one v2 request of a 1x28x28 image,
// the load test's body.
func BenchmarkDecodeInfer(b *testing.B) {
	x := make([]float32, 784)
	for i := range x {
		x[i] = float32(i%255) / 255
	}
	body, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "input", "datatype": "FP32", "shape": []int{1, 1, 28, 28}, "data": x}}})
	m := imageModel(&fake{}, "")
	m.Shape = []int{1, 28, 28}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, _, err := decodeInfer(body, m, 8); err != nil {
			b.Fatal(err)
		}
	}
}
