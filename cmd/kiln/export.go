package main

// This file holds "kiln export": a run's model as ONNX, or its weights as
// safetensors in another precision. It leaves out other formats (TorchScript,
// TensorFlow) and quantisation below 16 bits.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/export/onnx"
	"github.com/kiln-ml/kiln/predict"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
)

const exportHead = `Usage: kiln export RUN [--format onnx|safetensors] [--dtype f32|f16|bf16] [--out FILE] [--force]

Writes a run's model for use outside kiln.

  --format onnx         an ONNX model (IR 8, opset 13) of the evaluation-mode
                        network: input "input" [N, C, H, W] as the run's
                        transform makes it, output "logits" [N, classes];
                        default file RUN/model.onnx
  --format safetensors  the state_dict (PyTorch's names and layouts) in
                        --dtype precision: f16 or bf16 halve the file;
                        default file RUN/model.<dtype>.safetensors

The file is written to a temporary name and renamed, so a failed export
leaves nothing half-written; an existing file is kept unless --force.

Examples:
  kiln export runs/photos                       # runs/photos/model.onnx
  kiln export runs/photos --format safetensors --dtype bf16 --out photos.safetensors
`

func exportCmd(args []string, stdout io.Writer) error {
	fs := newFlagSet("export")
	format := fs.String("format", "onnx", "onnx or safetensors")
	dtype := fs.String("dtype", "f32", "safetensors precision: f32, f16 or bf16")
	out := fs.String("out", "", "output `file` (default: RUN/model.onnx or RUN/model.<dtype>.safetensors)")
	force := fs.Bool("force", false, "replace the output file if it exists")
	which := fs.String("checkpoint", "best", "weights to export: best, last, or a safetensors `file` of the same model")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, exportHead, stdout)
			return nil
		}
		return usageError{err}
	}
	switch {
	case len(pos) == 0:
		return usageError{fmt.Errorf("missing the run directory (kiln export RUN)")}
	case len(pos) > 1:
		return usageError{fmt.Errorf("unexpected argument %q: export takes one run directory", pos[1])}
	}
	runDir := pos[0]
	dtypeSet := false
	fs.Visit(func(f *flag.Flag) { dtypeSet = dtypeSet || f.Name == "dtype" })
	var dt checkpoint.DType
	switch strings.ToLower(*format) {
	case "onnx":
		if dtypeSet {
			return usageError{fmt.Errorf("--dtype %s: ONNX export writes float32; --dtype is for --format safetensors", *dtype)}
		}
	case "safetensors":
		switch strings.ToLower(*dtype) {
		case "f32", "float32":
			dt = checkpoint.F32
		case "f16", "float16", "half":
			dt = checkpoint.F16
		case "bf16", "bfloat16":
			dt = checkpoint.BF16
		default:
			return usageError{fmt.Errorf("--dtype %q: want f32, f16 or bf16", *dtype)}
		}
	default:
		return usageError{fmt.Errorf("--format %q: want onnx or safetensors", *format)}
	}
	path := *out
	if path == "" {
		if dt == "" {
			path = filepath.Join(runDir, "model.onnx")
		} else {
			path = filepath.Join(runDir, "model."+strings.ToLower(string(dt))+".safetensors")
		}
	}
	if _, err := os.Stat(path); err == nil && !*force {
		return fmt.Errorf("export: %s exists; give --force to replace it, or another --out", path)
	}
	if dt != "" {
		return exportSafetensors(runDir, *which, path, dt, stdout)
	}
	return exportONNX(runDir, *which, path, stdout)
}

// exportONNX writes the run's model as ONNX.
func exportONNX(runDir, which, path string, stdout io.Writer) error {
	if _, err := run.ReadRunConfig(runDir); err != nil {
		return err
	}
	m, err := predict.LoadTrained(runDir, which)
	if err != nil {
		return err
	}
	if m.Info.Task == run.TaskAutoencode {
		return fmt.Errorf("export: %s is an autoencoder (%s); kiln's ONNX exporter has no transposed convolution yet; export its weights with --format safetensors", runDir, m.Info.Model)
	}
	if m.IsText() {
		return fmt.Errorf("export: %s is a text model (%s); kiln's ONNX exporter has no embedding or recurrent layers yet; export its weights with --format safetensors (the vocabulary is in %s)", runDir, m.Info.Model, source.EncoderFile)
	}
	s := m.Info.InputShape
	doc, _ := json.Marshal(map[string]any{"model": m.Info.Model, "classes": m.Info.Classes, "input_shape": s,
		"transform": m.Info.Transform + ",totensor (values in [0, 1])", "checkpoint": filepath.Base(m.Checkpoint)})
	var buf bytes.Buffer
	opts := onnx.Options{ProducerVersion: versionString(), DocString: string(doc), OutputName: "logits"}
	if err := onnx.Export(&buf, m.Model(), []int{1, s[0], s[1], s[2]}, opts); err != nil {
		return fmt.Errorf("export: %s (%s): %w", runDir, m.Info.Model, err)
	}
	if err := checkpoint.WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: ONNX opset %d, %s (%s), input \"input\" [N %d %d %d], output %q [N %d], %s\n",
		path, onnx.Opset, m.Info.Model, filepath.Base(m.Checkpoint), s[0], s[1], s[2], opts.OutputName, len(m.Info.Classes), size(buf.Len()))
	return nil
}

// exportSafetensors rewrites the run's weights file with its float tensors
// in dt, and reports the largest rounding error.
func exportSafetensors(runDir, which, path string, dt checkpoint.DType, stdout io.Writer) error {
	if _, err := run.ReadRunConfig(runDir); err != nil {
		return err
	}
	src := predict.CheckpointPath(runDir, which)
	f, err := checkpoint.Read(src)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("export: %s has no checkpoint %s yet (did its first epoch finish?)", runDir, filepath.Base(src))
		}
		return err
	}
	var maxErr float64
	var maxAbs float64
	for name, t := range f.Tensors {
		if !t.DType.IsFloat() {
			continue
		}
		for _, v := range t.Data {
			maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
		}
		if dt == checkpoint.F16 && maxAbs > 65504 {
			return fmt.Errorf("export: %s: tensor %q holds %g, beyond float16's range (65504); use --dtype bf16", src, name, maxAbs)
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
		return err
	}
	back, err := checkpoint.Decode(buf.Bytes())
	if err != nil {
		return fmt.Errorf("export: reading back what was written: %w", err)
	}
	orig, err := checkpoint.Read(src)
	if err != nil {
		return err
	}
	for name, t := range orig.Tensors {
		for i, v := range t.Data {
			maxErr = math.Max(maxErr, math.Abs(float64(v)-float64(back.Tensors[name].Data[i])))
		}
	}
	if err := checkpoint.WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d tensors as %s from %s, %s; largest change from rounding %.3g (largest weight %.3g)\n",
		path, len(f.Tensors), dt, filepath.Base(src), size(buf.Len()), maxErr, maxAbs)
	return nil
}

// size formats a byte count.
func size(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
