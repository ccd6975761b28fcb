package main

// This file holds the flags of "kiln export"; package export writes the
// files.

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/export"
	"github.com/kiln-ml/kiln/export/onnx"
)

const exportHead = `Usage: kiln export RUN [--format onnx|safetensors] [--dtype f32|f16|bf16] [--out FILE] [--force]

Writes a run's model for use outside kiln.

  --format onnx         an ONNX model (IR 8, opset 13) of the evaluation-mode
                        network: input "input" [N, C, H, W] as the run's
                        transform makes it, output "logits" [N, classes];
                        default file RUN/model.onnx; with --checkpoint int8,
                        kiln quantize's int8 model in the QDQ form
                        (QuantizeLinear/DequantizeLinear, int8 weights per
                        output channel, int32 biases) that ONNX Runtime runs
                        with its int8 kernels, default RUN/model.int8.onnx
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
	which := fs.String("checkpoint", "best", "weights to export: best, last, int8 (kiln quantize's model, ONNX only), or a safetensors `file` of the same model")
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
		if dt == "" && *which == "int8" {
			path = filepath.Join(runDir, "model.int8.onnx")
		} else if dt == "" {
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

// exportONNX writes the run's model as ONNX and says what it wrote.
func exportONNX(runDir, which, path string, stdout io.Writer) error {
	f, err := export.ONNX(runDir, which, path, versionString())
	if err != nil {
		return err
	}
	s := f.Shape
	fmt.Fprintf(stdout, "wrote %s: ONNX opset %d, %s (%s), input \"input\" [N %d %d %d], output %q [N %d], %s\n",
		f.Path, onnx.Opset, f.Model, f.Checkpoint, s[0], s[1], s[2], f.Output, f.Classes, size(f.Bytes))
	return nil
}

// exportSafetensors writes the run's weights in dt and says what it wrote.
func exportSafetensors(runDir, which, path string, dt checkpoint.DType, stdout io.Writer) error {
	f, err := export.Safetensors(runDir, which, path, dt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d tensors as %s from %s, %s; largest change from rounding %.3g (largest weight %.3g)\n",
		f.Path, f.Tensors, f.DType, f.Checkpoint, size(f.Bytes), f.MaxError, f.MaxAbs)
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
