package main

// This file holds "kiln import": PyTorch-trained weights into a run
// directory. It leaves out the checks themselves (task.Import and
// checkpoint.LoadModel).

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"

	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/task"
)

const importHead = `Usage: kiln import FILE.safetensors --model NAME --out RUN [--data DIR | --shape C,H,W --classes N|NAMES]

Loads weights trained elsewhere, such as a PyTorch model's state_dict saved
with safetensors.torch.save_file, into kiln's model NAME, and makes the run
directory RUN that kiln eval, predict and export take (config.json,
run.json, best.safetensors, last.safetensors). Every tensor must be there
with PyTorch's name and shape, and nothing else; F32, F16 and BF16 are read.

The classes and input shape come from a data folder like the one the model
was trained on (--data; image files are decoded as kiln train would, so add
--shape to choose the channels and size), or from --shape and --classes
(a count, or the names comma-separated in the order of the outputs).
Images are fed as PyTorch's Resize + ToTensor makes them: values in [0, 1],
not normalised.

Examples:
  kiln import seedcnn.safetensors --model seed-cnn --shape 3,32,32 --classes 10 --out runs/from-torch
  kiln import cifar.safetensors --model resnet20 --data "$(kiln data fetch cifar10)" --out runs/resnet20
  kiln predict runs/from-torch cat.png
`

func importCmd(args []string, stdout io.Writer) error {
	fs := newFlagSet("import")
	model := fs.String("model", "", "architecture `name`: "+strings.Join(models.Names(), ", "))
	out := fs.String("out", "", "the run `directory` to create")
	data := fs.String("data", "", "data `folder` the model was trained on (classes and input shape come from it)")
	shape := fs.String("shape", "", "input shape `C,H,W`, e.g. 3,32,32")
	classes := fs.String("classes", "", "number of classes, or their `names` comma-separated in output order")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "goroutines checking image files of --data")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, importHead, stdout)
			return nil
		}
		return usageError{err}
	}
	switch {
	case len(pos) == 0:
		return usageError{fmt.Errorf("missing the weights file (kiln import FILE.safetensors --model NAME --out RUN)")}
	case len(pos) > 1:
		return usageError{fmt.Errorf("unexpected argument %q: import takes one weights file", pos[1])}
	case *model == "":
		return usageError{fmt.Errorf("--model: name the architecture the weights belong to: %s", strings.Join(models.Names(), ", "))}
	case *out == "":
		return usageError{fmt.Errorf("--out: name the run directory to create, e.g. runs/imported")}
	case *data == "" && (*shape == "" || *classes == ""):
		return usageError{fmt.Errorf("give --data DIR, or both --shape C,H,W and --classes N (or names)")}
	}
	opt := task.ImportOptions{Model: *model, Data: *data, Version: versionString(), Workers: *workers}
	if *shape != "" {
		if opt.Shape, err = parseShape(*shape); err != nil {
			return usageError{err}
		}
	}
	if *classes != "" {
		if opt.Classes, err = run.ParseClassNames(*classes); err != nil {
			return usageError{err}
		}
	}
	info, err := task.Import(pos[0], *out, opt)
	if err != nil {
		return err
	}
	names := strings.Join(info.Classes[:min(len(info.Classes), 10)], ", ")
	if len(info.Classes) > 10 {
		names += ", ..."
	}
	fmt.Fprintf(stdout, "imported %s into %s: %s, %d parameters, input %v, %d classes (%s)\n",
		pos[0], *out, info.Model, info.Parameters, info.InputShape, len(info.Classes), names)
	return nil
}

// parseShape reads C,H,W.
func parseShape(s string) ([]int, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return nil, fmt.Errorf("--shape %q: want C,H,W, e.g. 3,32,32", s)
	}
	out := make([]int, 3)
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 1 || v > 1<<14 {
			return nil, fmt.Errorf("--shape %q: want three positive sizes C,H,W, e.g. 3,32,32", s)
		}
		out[i] = v
	}
	if out[0] != 1 && out[0] != 3 {
		return nil, fmt.Errorf("--shape %q: %d channels; images have 1 (grey) or 3 (RGB)", s, out[0])
	}
	return out, nil
}
