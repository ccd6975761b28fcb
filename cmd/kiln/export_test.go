package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/predict"
	"github.com/kiln-ml/kiln/run"
)

// pb is one protobuf field: a varint or length-delimited content.
type pb struct {
	num int
	v   uint64
	b   []byte
}

// pbFields decodes a protobuf message's fields (varint, 64-bit, bytes and
// 32-bit wire types), independently of the exporter's encoder.
func pbFields(t *testing.T, b []byte) []pb {
	t.Helper()
	varint := func() uint64 {
		var v uint64
		for i := 0; i < 10; i++ {
			if len(b) == 0 {
				t.Fatal("protobuf: truncated varint")
			}
			c := b[0]
			b = b[1:]
			v |= uint64(c&0x7f) << (7 * i)
			if c < 0x80 {
				return v
			}
		}
		t.Fatal("protobuf: overlong varint")
		return 0
	}
	var out []pb
	for len(b) > 0 {
		tag := varint()
		f := pb{num: int(tag >> 3)}
		switch tag & 7 {
		case 0:
			f.v = varint()
		case 1:
			f.v, b = binary.LittleEndian.Uint64(b), b[8:]
		case 2:
			n := varint()
			if n > uint64(len(b)) {
				t.Fatalf("protobuf: field %d runs past the end", f.num)
			}
			f.b, b = b[:n], b[n:]
		case 5:
			f.v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		default:
			t.Fatalf("protobuf: wire type %d", tag&7)
		}
		out = append(out, f)
	}
	return out
}

func pbGet(fs []pb, num int) []pb {
	var out []pb
	for _, f := range fs {
		if f.num == num {
			out = append(out, f)
		}
	}
	return out
}

// trainTiny trains one epoch on a tiny folder and returns the run.
func trainTiny(t *testing.T, name string) (runDir, sample string) {
	t.Helper()
	data, sample := tinyData(t)
	out := t.TempDir()
	code, stdout, stderr := kiln(t, context.Background(), "train", "--data", data, "--image-size", "16", "--channels", "1", "--epochs", "1",
		"--batch-size", "16", "--workers", "2", "--out", out, "--name", name)
	if code != 0 {
		t.Fatalf("train: status %d\n%s%s", code, stdout, stderr)
	}
	return filepath.Join(out, name), sample
}

// TestExport exports a trained run as ONNX, parses the file back and
// compares its weights with the checkpoint's, and as half-precision
// safetensors that eval still reads.
func TestExport(t *testing.T) {
	runDir, _ := trainTiny(t, "exp")
	code, stdout, stderr := kiln(t, context.Background(), "export", runDir)
	path := filepath.Join(runDir, "model.onnx")
	if code != 0 || !strings.HasPrefix(stdout, "wrote "+path+": ONNX opset 13") {
		t.Fatalf("export: status %d\n%s%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	model := pbFields(t, b)
	if ir := pbGet(model, 1); len(ir) != 1 || ir[0].v != 8 {
		t.Errorf("ir_version %v, want 8", ir)
	}
	if op := pbGet(model, 8); len(op) != 1 || pbGet(pbFields(t, op[0].b), 2)[0].v != 13 {
		t.Errorf("opset_import %v, want version 13", op)
	}
	graph := pbFields(t, pbGet(model, 7)[0].b)
	name := func(f pb, num int) string { return string(pbGet(pbFields(t, f.b), num)[0].b) }
	if in, out := pbGet(graph, 11), pbGet(graph, 12); len(in) != 1 || len(out) != 1 || name(in[0], 1) != "input" || name(out[0], 1) != "logits" {
		t.Errorf("graph inputs %d, outputs %d", len(in), len(out))
	}
	if n := len(pbGet(graph, 1)); n < 8 {
		t.Errorf("%d nodes; the seed CNN has at least 8", n)
	}
	ck, err := checkpoint.Read(filepath.Join(runDir, run.BestFile))
	if err != nil {
		t.Fatal(err)
	}
	inits := map[string][]float32{}
	for _, f := range pbGet(graph, 5) {
		tf := pbFields(t, f.b)
		raw := pbGet(tf, 9)
		if names := pbGet(tf, 8); len(names) == 1 && len(raw) == 1 {
			v := make([]float32, len(raw[0].b)/4)
			for i := range v {
				v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[0].b[4*i:]))
			}
			inits[string(names[0].b)] = v
		}
	}
	for _, n := range ck.Names() {
		if !slices.Equal(inits[n], ck.Tensors[n].Data) {
			t.Errorf("initializer %q differs from the checkpoint's tensor (%d vs %d values)", n, len(inits[n]), len(ck.Tensors[n].Data))
		}
	}

	checkWithONNX(t, runDir, path)

	// An existing file is kept without --force.
	before, _ := os.Stat(path)
	code, _, stderr = kiln(t, context.Background(), "export", runDir, "--format", "onnx")
	if after, _ := os.Stat(path); code != 1 || !strings.Contains(stderr, "exists; give --force") || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("export over an existing file: status %d, %q", code, stderr)
	}
	if code, _, stderr = kiln(t, context.Background(), "export", runDir, "--force"); code != 0 {
		t.Errorf("export --force: status %d, %q", code, stderr)
	}

	for _, dt := range []checkpoint.DType{checkpoint.F16, checkpoint.BF16} {
		code, stdout, stderr = kiln(t, context.Background(), "export", runDir, "--format", "safetensors", "--dtype", strings.ToLower(string(dt)))
		half := filepath.Join(runDir, "model."+strings.ToLower(string(dt))+".safetensors")
		if code != 0 || !strings.HasPrefix(stdout, "wrote "+half) {
			t.Fatalf("export --dtype %s: status %d\n%s%s", dt, code, stdout, stderr)
		}
		h, err := checkpoint.Read(half)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(half)
		full, _ := os.Stat(filepath.Join(runDir, run.BestFile))
		if st.Size() > full.Size()/2+4096 {
			t.Errorf("%s file is %d bytes, the F32 one %d", dt, st.Size(), full.Size())
		}
		tol := 1.0 / 1024 // f16 keeps 11 significant bits, bf16 8
		if dt == checkpoint.BF16 {
			tol = 1.0 / 128
		}
		for _, n := range ck.Names() {
			if h.Tensors[n].DType != dt {
				t.Errorf("%s: tensor %s is %s", dt, n, h.Tensors[n].DType)
			}
			for i, v := range ck.Tensors[n].Data {
				if d := math.Abs(float64(h.Tensors[n].Data[i] - v)); d > tol*math.Abs(float64(v))+1e-7 {
					t.Fatalf("%s: %s[%d] = %g, was %g", dt, n, i, h.Tensors[n].Data[i], v)
				}
			}
		}
		code, stdout, stderr = kiln(t, context.Background(), "eval", runDir, "--checkpoint", half)
		if code != 0 || !strings.Contains(stdout, "Accuracy: ") {
			t.Errorf("eval with the %s weights: status %d\n%s%s", dt, code, stdout, stderr)
		}
	}
}

// TestImport imports weights trained in PyTorch (internal/interop's
// committed golden file), checks kiln's logits against PyTorch's, and uses
// the run with predict, eval and export.
func TestImport(t *testing.T) {
	const weights = "../../internal/interop/testdata/seedcnn.safetensors"
	golden, err := checkpoint.Read("../../internal/interop/testdata/logits.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(t.TempDir(), "torch")
	names := "airplane,automobile,bird,cat,deer,dog,frog,horse,ship,truck"
	code, stdout, stderr := kiln(t, context.Background(), "import", weights, "--model", "seed-cnn", "--shape", "3,32,32", "--classes", names, "--out", runDir)
	if code != 0 || !strings.Contains(stdout, "seed-cnn, 259914 parameters, input [3 32 32], 10 classes (airplane, automobile") {
		t.Fatalf("import: status %d\n%s%s", code, stdout, stderr)
	}
	m, err := predict.LoadTrained(runDir, "best")
	if err != nil {
		t.Fatal(err)
	}
	x, want := golden.Tensors["seedcnn.x"], golden.Tensors["seedcnn.logits"]
	got, err := m.Logits(x.Data)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want.Data {
		if d := math.Abs(float64(got[i] - w)); d > 1e-6+1e-5*math.Abs(float64(w)) {
			t.Fatalf("logit %d: kiln %g, PyTorch %g", i, got[i], w)
		}
	}

	// predict on a PNG of the first golden input: the top class is the
	// arg-max of the logits of the same (8-bit) image.
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	q := make([]float32, 3*32*32)
	for p := range 32 * 32 {
		var c [3]uint8
		for ch := range 3 {
			c[ch] = uint8(math.Round(float64(min(max(x.Data[ch*1024+p], 0), 1)) * 255))
			q[ch*1024+p] = float32(c[ch]) / 255
		}
		img.Set(p%32, p/32, color.RGBA{c[0], c[1], c[2], 255})
	}
	pic := filepath.Join(t.TempDir(), "x0.png")
	var buf bytes.Buffer
	png.Encode(&buf, img)
	os.WriteFile(pic, buf.Bytes(), 0o644)
	lq, _ := m.Logits(q)
	best := 0
	for i, v := range lq {
		if v > lq[best] {
			best = i
		}
	}
	code, stdout, stderr = kiln(t, context.Background(), "predict", runDir, pic, "--json", "--top-k", "1")
	var res []imageResult
	if err := json.Unmarshal([]byte(stdout), &res); code != 0 || err != nil || len(res) != 1 || len(res[0].Predictions) != 1 {
		t.Fatalf("predict: status %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if p := res[0].Predictions[0]; p.Index != best || p.Class != strings.Split(names, ",")[best] {
		t.Errorf("predict says %+v; the logits say class %d", p, best)
	}

	// An imported run has no data of its own, cannot be resumed, and
	// exports like a trained one.
	if code, _, stderr = kiln(t, context.Background(), "eval", runDir); code != 1 || !strings.Contains(stderr, "imported without data; name a test set with --data") {
		t.Errorf("eval without data: status %d, %q", code, stderr)
	}
	if code, _, stderr = kiln(t, context.Background(), "train", "--resume", runDir); code != 1 || !strings.Contains(stderr, "cannot be resumed") {
		t.Errorf("resume: status %d, %q", code, stderr)
	}
	if code, _, stderr = kiln(t, context.Background(), "export", runDir); code != 0 {
		t.Errorf("export: status %d, %q", code, stderr)
	}

	// Refusals, before anything is written.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--shape", "1,28,28", "--classes", "10"}, `tensor "conv1.weight" has shape [32 3 5 5], the model wants [32 1 5 5]`},
		{[]string{"--shape", "3,32,32", "--classes", "6"}, `tensor "fc2.weight" has shape [10 128], the model wants [6 128]`},
		{[]string{"--model", "resnet8", "--shape", "3,32,32", "--classes", "10"}, "the model wants [16 3 3 3] (kiln built resnet8"},
	} {
		dir := filepath.Join(t.TempDir(), "bad")
		args := append([]string{"import", weights, "--model", "seed-cnn", "--out", dir}, tc.args...)
		code, _, stderr := kiln(t, context.Background(), args...)
		if _, err := os.Stat(dir); code != 1 || !strings.Contains(stderr, tc.want) || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("kiln %s: status %d, %q (run directory: %v)", strings.Join(args, " "), code, stderr, err)
		}
	}
	code, _, stderr = kiln(t, context.Background(), "import", weights, "--model", "seed-cnn", "--shape", "3,32,32", "--classes", "10", "--out", runDir)
	if code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("import over a run: status %d, %q", code, stderr)
	}
}

// checkWithONNX runs export/onnx's check.py, ONNX's checker and an
// evaluator, on the exported model and a batch of the run's test images
// with kiln's logits for them, where python3 with onnx is installed.
func checkWithONNX(t *testing.T, runDir, model string) {
	t.Helper()
	var py string
	for _, p := range []string{os.Getenv("KILN_PYTHON"), "/usr/bin/python3", "python3"} {
		if p != "" && exec.Command(p, "-c", "import onnx, numpy").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		t.Log("no python3 with onnx (Debian: python3-onnx); the ONNX checker was not run")
		return
	}
	m, err := predict.LoadTrained(runDir, "best")
	if err != nil {
		t.Fatal(err)
	}
	s := m.Info.InputShape
	n := 4
	x := make([]float32, n*s[0]*s[1]*s[2])
	for i := range x {
		x[i] = float32(i%251) / 250
	}
	y, err := m.Logits(x)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	raw := func(name string, v []float32) {
		b := make([]byte, 4*len(v))
		for i, f := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw("x.bin", x)
	raw("y.bin", y)
	copyFile(t, model, filepath.Join(dir, "model.onnx"))
	manifest, _ := json.Marshal([]map[string]any{{"name": "kiln export", "model": "model.onnx", "input": "x.bin", "expected": "y.bin",
		"input_shape": []int{n, s[0], s[1], s[2]}, "output_shape": []int{n, len(m.Info.Classes)}, "symbolic_batch": true}})
	os.WriteFile(filepath.Join(dir, "manifest.json"), manifest, 0o644)
	out, err := exec.Command(py, "../../export/onnx/testdata/check.py", dir).CombinedOutput()
	t.Logf("check.py:\n%s", out)
	if err != nil {
		t.Errorf("check.py: %v", err)
	}
}
