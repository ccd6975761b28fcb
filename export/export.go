package export

// This file exports runs: ONNX and Safetensors.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/export/onnx"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/predict"
	"github.com/kiln-ml/kiln/quantize"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
)

// ONNXFile describes an exported ONNX model.
type ONNXFile struct {
	Path       string
	Model      string // the run's model name
	Checkpoint string // the weights file it came from
	Shape      []int  // one input, [C, H, W]
	Output     string // the output's name
	Classes    int
	Bytes      int
}

// ONNX writes the model of runDir with the weights which ("best", "last"
// or a file) to path as ONNX; producer names the writing program's
// version.
func ONNX(runDir, which, path, producer string) (*ONNXFile, error) {
	if _, err := run.ReadRunConfig(runDir); err != nil {
		return nil, err
	}
	m, err := predict.LoadTrained(runDir, which)
	if err != nil {
		return nil, err
	}
	if m.Info.Task == run.TaskAutoencode {
		return nil, fmt.Errorf("export: %s is an autoencoder (%s); kiln's ONNX exporter has no transposed convolution yet; export its weights with --format safetensors", runDir, m.Info.Model)
	}
	if m.IsText() {
		return nil, fmt.Errorf("export: %s is a text model (%s); kiln's ONNX exporter has no embedding or recurrent layers yet; export its weights with --format safetensors (the vocabulary is in %s)", runDir, m.Info.Model, source.EncoderFile)
	}
	s := m.Info.InputShape
	doc, _ := json.Marshal(map[string]any{"model": m.Info.Model, "classes": m.Info.Classes, "input_shape": s,
		"transform": m.Info.Transform + ",totensor (values in [0, 1])", "checkpoint": filepath.Base(m.Checkpoint)})
	var buf bytes.Buffer
	opts := onnx.Options{ProducerVersion: producer, DocString: string(doc), OutputName: "logits"}
	var mod nn.Module = m.Model()
	if q, ok := mod.(*quantize.Model); ok { // --checkpoint int8: the QDQ graph (int8.go)
		mod = int8Graph{q}
	}
	if err := onnx.Export(&buf, mod, []int{1, s[0], s[1], s[2]}, opts); err != nil {
		return nil, fmt.Errorf("export: %s (%s): %w", runDir, m.Info.Model, err)
	}
	if err := writeFile(path, buf.Bytes()); err != nil {
		return nil, err
	}
	return &ONNXFile{Path: path, Model: m.Info.Model, Checkpoint: filepath.Base(m.Checkpoint), Shape: s, Output: opts.OutputName,
		Classes: len(m.Info.Classes), Bytes: buf.Len()}, nil
}

// WeightsFile describes exported weights.
type WeightsFile struct {
	Path       string
	Tensors    int
	DType      checkpoint.DType
	Checkpoint string  // the weights file they came from
	Bytes      int     //
	MaxError   float64 // the largest change rounding made to a weight
	MaxAbs     float64 // the largest weight, in magnitude
}

// Safetensors rewrites the weights which of runDir with their float
// tensors in dt and measures the largest rounding error by reading the
// file back. Float16 refuses weights beyond its range.
func Safetensors(runDir, which, path string, dt checkpoint.DType) (*WeightsFile, error) {
	if _, err := run.ReadRunConfig(runDir); err != nil {
		return nil, err
	}
	src := predict.CheckpointPath(runDir, which)
	f, err := checkpoint.Read(src)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("export: %s has no checkpoint %s yet (did its first epoch finish?)", runDir, filepath.Base(src))
		}
		return nil, err
	}
	var maxErr, maxAbs float64
	for name, t := range f.Tensors {
		if !t.DType.IsFloat() {
			continue
		}
		for _, v := range t.Data {
			maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
		}
		if dt == checkpoint.F16 && maxAbs > 65504 {
			return nil, fmt.Errorf("export: %s: tensor %q holds %g, beyond float16's range (65504); use --dtype bf16", src, name, maxAbs)
		}
		t.DType = dt
	}
	md := map[string]string{}
	for k, v := range f.Metadata {
		md[k] = v
	}
	md["dtype"] = string(dt)
	f.Metadata = md
	var buf bytes.Buffer
	if err := checkpoint.Encode(&buf, f); err != nil {
		return nil, err
	}
	back, err := checkpoint.Decode(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("export: reading back what was written: %w", err)
	}
	orig, err := checkpoint.Read(src)
	if err != nil {
		return nil, err
	}
	for name, t := range orig.Tensors {
		for i, v := range t.Data {
			maxErr = math.Max(maxErr, math.Abs(float64(v)-float64(back.Tensors[name].Data[i])))
		}
	}
	if err := writeFile(path, buf.Bytes()); err != nil {
		return nil, err
	}
	return &WeightsFile{Path: path, Tensors: len(f.Tensors), DType: dt, Checkpoint: filepath.Base(src), Bytes: buf.Len(),
		MaxError: maxErr, MaxAbs: maxAbs}, nil
}

func writeFile(path string, b []byte) error {
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}
