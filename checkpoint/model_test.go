package checkpoint

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/nn"
)

func TestSaveLoadModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := nn.NewSequential(nn.NewLinear(3, 4, true, rng), nn.NewBatchNorm1d(4), nn.NewLinear(4, 2, false, rng))
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := SaveModel(path, a, map[string]string{"model": "test"}); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Tensors["1.num_batches_tracked"].DType != I64 || f.Tensors["0.weight"].DType != F32 {
		t.Errorf("dtypes: %v, %v", f.Tensors["1.num_batches_tracked"].DType, f.Tensors["0.weight"].DType)
	}
	b := nn.NewSequential(nn.NewLinear(3, 4, true, rng), nn.NewBatchNorm1d(4), nn.NewLinear(4, 2, false, rng))
	meta, err := LoadModel(path, b)
	if err != nil {
		t.Fatal(err)
	}
	if meta["model"] != "test" {
		t.Errorf("metadata %v", meta)
	}
	pa, pb := nn.NamedParams(a), nn.NamedParams(b)
	for i := range pa {
		va, vb := pa[i].Var.Data(), pb[i].Var.Data()
		for j := range va {
			if va[j] != vb[j] {
				t.Fatalf("%s differs after loading", pa[i].Name)
			}
		}
	}
	// A refused file leaves the model untouched.
	before := append([]float32(nil), pb[0].Var.Data()...)
	f.Tensors["extra"] = &Tensor{DType: F32, Shape: []int{1}, Data: []float32{1}}
	if err := LoadParams(pb, f, "f"); err == nil || !strings.Contains(err.Error(), `"extra"`) {
		t.Errorf("extra tensor: %v", err)
	}
	delete(f.Tensors, "extra")
	f.Tensors["1.num_batches_tracked"] = &Tensor{DType: F32, Shape: []int{}, Data: []float32{3}}
	if err := LoadParams(pb, f, "f"); err == nil || !strings.Contains(err.Error(), "integer dtype") {
		t.Errorf("float counter: %v", err)
	}
	for i, v := range pb[0].Var.Data() {
		if v != before[i] {
			t.Fatal("a refused checkpoint changed the model")
		}
	}
	other := nn.NewSequential(nn.NewLinear(3, 5, true, rng))
	if _, err := LoadModel(path, other); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("loading into another architecture: %v", err)
	}
}
