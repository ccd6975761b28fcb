package features

// This file writes a feature set out: as CSV for spreadsheets and pandas,
// as safetensors for numpy and torch, and as a PCA scatter plot. It leaves
// out reading them back.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/stats"
	"github.com/kiln-ml/kiln/viz"
)

// WriteCSV writes a header "label,class,f0,f1,..." and one row per example
// in dataset order. class is the label's name, or empty when the set is not
// Labelled. Values are the shortest decimals that read back as the same
// float32.
func (s *Set) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("label,class")
	for j := range s.D {
		bw.WriteString(",f")
		bw.WriteString(strconv.Itoa(j))
	}
	bw.WriteByte('\n')
	labelled := s.Labelled()
	var buf []byte
	for i := range s.N {
		buf = strconv.AppendInt(buf[:0], int64(s.Labels[i]), 10)
		buf = append(buf, ',')
		if labelled {
			buf = appendCSVField(buf, s.Classes[s.Labels[i]])
		}
		for _, v := range s.Row(i) {
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, float64(v), 'g', -1, 32)
		}
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("features: csv: %w", err)
	}
	return nil
}

// appendCSVField quotes a class name when it holds a comma, quote or line
// break, as RFC 4180 asks.
func appendCSVField(buf []byte, f string) []byte {
	needs := false
	for _, c := range f {
		if c == ',' || c == '"' || c == '\n' || c == '\r' {
			needs = true
			break
		}
	}
	if !needs {
		return append(buf, f...)
	}
	buf = append(buf, '"')
	for _, c := range f {
		if c == '"' {
			buf = append(buf, '"')
		}
		buf = append(buf, string(c)...)
	}
	return append(buf, '"')
}

// Safetensors returns the set as a safetensors file: "features" (N, D) F32
// and "labels" (N) I64, with metadata "classes" (a JSON list of the class
// names) added to a copy of meta.
func (s *Set) Safetensors(meta map[string]string) *checkpoint.File {
	md := map[string]string{}
	for k, v := range meta {
		md[k] = v
	}
	classes := s.Classes
	if classes == nil {
		classes = []string{}
	}
	js, _ := json.Marshal(classes) // strings always marshal
	md["classes"] = string(js)
	labels := make([]int64, s.N)
	for i, y := range s.Labels {
		labels[i] = int64(y)
	}
	return &checkpoint.File{
		Tensors: map[string]*checkpoint.Tensor{
			"features": {DType: checkpoint.F32, Shape: []int{s.N, s.D}, Data: s.Data},
			"labels":   {DType: checkpoint.I64, Shape: []int{s.N}, Ints: labels},
		},
		Metadata: md,
	}
}

// WriteSafetensors writes Safetensors(meta) to path atomically.
func (s *Set) WriteSafetensors(path string, meta map[string]string) error {
	if err := checkpoint.Write(path, s.Safetensors(meta)); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	return nil
}

// PCAScatter projects the features onto their first two principal
// components and writes the scatter plot as PNG to w, coloured by class
// when the set is Labelled, with the share of variance each axis explains
// in its label. It returns the fitted PCA.
func (s *Set) PCAScatter(w io.Writer, title string) (*stats.PCA, error) {
	pts, p, err := stats.Project2D(s.Rows())
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	axis := func(k int) string {
		if k >= len(p.Variance) || p.Total <= 0 {
			return fmt.Sprintf("PC %d", k+1)
		}
		return fmt.Sprintf("PC %d (%.1f%% of variance)", k+1, 100*p.Variance[k]/p.Total)
	}
	var labels []int
	var names []string
	if s.Labelled() {
		labels, names = s.Labels, s.Classes
	}
	if err := viz.Scatter(w, pts, labels, names, viz.ScatterOptions{Title: title, XLabel: axis(0), YLabel: axis(1)}); err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	return p, nil
}
