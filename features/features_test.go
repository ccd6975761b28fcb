package features

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/models"
)

// meanEncoder's features are each image's mean and its first pixel, so a
// test can recompute them; it records the modes it ran in.
type meanEncoder struct {
	training bool
	sawTrain bool
	width    int // features returned; 2 normally
}

func (e *meanEncoder) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var { return x }
func (e *meanEncoder) SetTraining(on bool)                                     { e.training = on }
func (e *meanEncoder) Training() bool                                          { return e.training }

func (e *meanEncoder) Encode(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	e.sawTrain = e.sawTrain || e.training
	n := x.Shape()[0]
	per := x.Value().Len() / n
	out := g.Const(g.Tensor(n, e.width))
	for i := range n {
		img := x.Data()[i*per : (i+1)*per]
		var s float32
		for _, v := range img {
			s += v
		}
		out.Data()[i*e.width] = s / float32(per)
		for j := 1; j < e.width; j++ {
			out.Data()[i*e.width+j] = img[0]
		}
	}
	return out
}

func TestExtract(t *testing.T) {
	ds := synth.New(50, 1, 6, 6, 3)
	enc := &meanEncoder{training: true, width: 2}
	s, err := Extract(context.Background(), enc, ds, Options{BatchSize: 16, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if enc.sawTrain {
		t.Error("encoder ran in training mode")
	}
	if !enc.training {
		t.Error("training mode not restored")
	}
	if s.N != 50 || s.D != 2 || len(s.Data) != 100 || len(s.Labels) != 50 || !s.Labelled() {
		t.Fatalf("set N=%d D=%d data %d labels %d labelled %v", s.N, s.D, len(s.Data), len(s.Labels), s.Labelled())
	}
	img := make([]float32, 36)
	for i := range 50 {
		y, err := ds.Get(i, img, nil)
		if err != nil {
			t.Fatal(err)
		}
		var m float32
		for _, v := range img {
			m += v
		}
		if s.Labels[i] != y || s.Row(i)[1] != img[0] || abs32(s.Row(i)[0]-m/36) > 1e-6 {
			t.Fatalf("example %d: label %d features %v, want label %d features [%g %g]", i, s.Labels[i], s.Row(i), y, m/36, img[0])
		}
	}

	// An encoder in evaluation mode stays there.
	enc = &meanEncoder{width: 2}
	if _, err := Extract(context.Background(), enc, ds, Options{}); err != nil || enc.training {
		t.Errorf("err %v, training %v after extracting with an evaluating encoder", err, enc.training)
	}
}

func abs32(v float32) float32 { return max(v, -v) }

type flatEncoder struct{}

func (flatEncoder) Encode(g *autograd.Tape, x *autograd.Var) *autograd.Var { return x }

func TestExtractErrors(t *testing.T) {
	ds := synth.New(10, 1, 4, 4, 1)
	if _, err := Extract(context.Background(), flatEncoder{}, ds, Options{}); err == nil {
		t.Error("4-D features: no error")
	}
	if _, err := Extract(context.Background(), &meanEncoder{width: 2}, ds, Options{BatchSize: -1}); err == nil {
		t.Error("negative batch size: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Extract(ctx, &meanEncoder{width: 2}, ds, Options{BatchSize: 2, Workers: 1}); err == nil {
		t.Error("cancelled context: no error")
	}
}

func testSet() *Set {
	return &Set{N: 3, D: 2, Data: []float32{0.1, -2, 3e-8, 4, 5.5, 1.0 / 3}, Labels: []int{1, 0, 1}, Classes: []string{"a,b", `say "hi"`}}
}

func TestWriteCSV(t *testing.T) {
	s := testSet()
	var buf bytes.Buffer
	if err := s.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("%v in\n%s", err, buf.String())
	}
	if len(recs) != 4 || len(recs[0]) != 4 || recs[0][0] != "label" || recs[0][1] != "class" || recs[0][3] != "f1" {
		t.Fatalf("csv %q", recs)
	}
	for i := range 3 {
		r := recs[i+1]
		if r[0] != strconv.Itoa(s.Labels[i]) || r[1] != s.Classes[s.Labels[i]] {
			t.Errorf("row %d: %q", i, r)
		}
		for j := range 2 {
			v, err := strconv.ParseFloat(r[2+j], 32)
			if err != nil || float32(v) != s.Row(i)[j] {
				t.Errorf("row %d feature %d: %q, want %g", i, j, r[2+j], s.Row(i)[j])
			}
		}
	}
	// Unlabelled: the class column is empty.
	s.Classes = nil
	buf.Reset()
	if err := s.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	if recs, _ := csv.NewReader(&buf).ReadAll(); recs[1][1] != "" {
		t.Errorf("unlabelled class column %q", recs[1][1])
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	s := testSet()
	var buf bytes.Buffer
	if err := checkpoint.Encode(&buf, s.Safetensors(map[string]string{"model": "conv-ae"})); err != nil {
		t.Fatal(err)
	}
	f, err := checkpoint.Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	feat, lab := f.Tensors["features"], f.Tensors["labels"]
	if feat == nil || lab == nil || feat.DType != checkpoint.F32 || lab.DType != checkpoint.I64 {
		t.Fatalf("tensors %v", f.Names())
	}
	if len(feat.Shape) != 2 || feat.Shape[0] != 3 || feat.Shape[1] != 2 {
		t.Errorf("features shape %v", feat.Shape)
	}
	for i, v := range s.Data {
		if feat.Data[i] != v {
			t.Errorf("feature %d = %g, want %g", i, feat.Data[i], v)
		}
	}
	for i, y := range s.Labels {
		if lab.Ints[i] != int64(y) {
			t.Errorf("label %d = %d, want %d", i, lab.Ints[i], y)
		}
	}
	var classes []string
	if err := json.Unmarshal([]byte(f.Metadata["classes"]), &classes); err != nil || len(classes) != 2 || classes[1] != s.Classes[1] {
		t.Errorf("classes metadata %q (%v)", f.Metadata["classes"], err)
	}
	if f.Metadata["model"] != "conv-ae" {
		t.Errorf("metadata %v", f.Metadata)
	}
	path := t.TempDir() + "/features.safetensors"
	if err := s.WriteSafetensors(path, nil); err != nil {
		t.Fatal(err)
	}
	if g, err := checkpoint.Read(path); err != nil || g.Tensors["features"].Data[5] != s.Data[5] {
		t.Errorf("read back: %v", err)
	}
}

// TestAutoencoderPCAScatter runs an (untrained) autoencoder's encoder over
// pattern images, projects the features and draws them.
func TestAutoencoderPCAScatter(t *testing.T) {
	ds := synth.New(60, 1, 8, 8, 2)
	m, err := models.NewAutoencoder("conv-dae", models.Shape{Channels: 1, Height: 8, Width: 8}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Extract(context.Background(), m, ds, Options{BatchSize: 25})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Training() || s.D != m.Latent() {
		t.Errorf("training %v, D %d", m.Training(), s.D)
	}
	// Extraction is deterministic although the model corrupts in training.
	s2, err := Extract(context.Background(), m, ds, Options{BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.Data {
		if abs32(s.Data[i]-s2.Data[i]) > 1e-6 {
			t.Fatalf("feature %d: %g then %g", i, s.Data[i], s2.Data[i])
		}
	}
	var buf bytes.Buffer
	p, err := s.PCAScatter(&buf, "conv-dae features")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Components) != 2 || p.Variance[0] < p.Variance[1] {
		t.Errorf("pca %d components, variances %v", len(p.Components), p.Variance)
	}
	if _, err := png.Decode(&buf); err != nil {
		t.Errorf("scatter PNG: %v", err)
	}
}
