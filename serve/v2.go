package serve

// This file holds the Open Inference Protocol v2 REST endpoints (KServe,
// Triton): server and model metadata, model readiness, and inference with
// JSON tensors. Image models take one FP32 input [N, C, H, W], already
// transformed as in training; text models take one BYTES input [N] of
// UTF-8 strings. Both answer "logits" and "probabilities", FP32 [N,
// classes]. It leaves out the binary tensor extension and model versions
// (every model is version "1").

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"
	"unsafe"
)

// tensorMeta describes an input or output in metadata.
type tensorMeta struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

// modelMeta is GET /v2/models/{name}.
type modelMeta struct {
	Name     string       `json:"name"`
	Versions []string     `json:"versions"`
	Platform string       `json:"platform"`
	Inputs   []tensorMeta `json:"inputs"`
	Outputs  []tensorMeta `json:"outputs"`
	Classes  []string     `json:"classes"` // beyond the protocol: what each output column means
}

// inputName and the output names of every model.
const (
	inputName   = "input"
	logitsName  = "logits"
	probsName   = "probabilities"
	modelVerson = "1"
)

// inputMeta returns the model's one input.
func (m *Model) inputMeta() tensorMeta {
	if m.Text != nil {
		return tensorMeta{Name: inputName, Datatype: "BYTES", Shape: []int{-1}}
	}
	return tensorMeta{Name: inputName, Datatype: "FP32", Shape: append([]int{-1}, m.Shape...)}
}

func (s *Server) serverMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"name": "kiln", "version": s.opt.Version, "extensions": []string{}})
}

func (s *Server) modelMetadata(w http.ResponseWriter, r *http.Request) {
	sv := s.model(w, r.PathValue("name"))
	if sv == nil {
		return
	}
	m := sv.m
	out := []int{-1, len(m.Classes)}
	writeJSON(w, http.StatusOK, modelMeta{Name: m.Name, Versions: []string{modelVerson}, Platform: "kiln", Inputs: []tensorMeta{m.inputMeta()},
		Outputs: []tensorMeta{{logitsName, "FP32", out}, {probsName, "FP32", out}}, Classes: m.Classes})
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) {
	if s.model(w, r.PathValue("name")) == nil {
		return
	}
	s.ready(w, r)
}

// inferInput is one tensor of an inference request.
type inferInput struct {
	Name     string          `json:"name"`
	Shape    []int           `json:"shape"`
	Datatype string          `json:"datatype"`
	Data     json.RawMessage `json:"data"`
}

// inferRequest is POST /v2/models/{name}/infer's body.
type inferRequest struct {
	ID      string       `json:"id,omitempty"`
	Inputs  []inferInput `json:"inputs"`
	Outputs []struct {
		Name string `json:"name"`
	} `json:"outputs,omitempty"`
}

// inferOutput is one tensor of an inference answer.
type inferOutput struct {
	Name     string    `json:"name"`
	Datatype string    `json:"datatype"`
	Shape    []int     `json:"shape"`
	Data     []float32 `json:"data"`
}

// inferResponse is the answer to an inference request.
type inferResponse struct {
	ModelName    string        `json:"model_name"`
	ModelVersion string        `json:"model_version"`
	ID           string        `json:"id,omitempty"`
	Outputs      []inferOutput `json:"outputs"`
}

// decodeInfer parses an inference request for m: the examples packed as
// the model takes them, their number, and the outputs asked for. Its
// errors say what was expected.
func decodeInfer(body []byte, m *Model, maxInputs int) (*inferRequest, []float32, int, error) {
	var req inferRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, nil, 0, fmt.Errorf("the body is not an inference request in JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, 0, errors.New("the body holds more than one JSON value")
	}
	want := m.inputMeta()
	if len(req.Inputs) != 1 || req.Inputs[0].Name != inputName {
		return nil, nil, 0, fmt.Errorf("want exactly one input named %q (%s %v), got %d inputs", inputName, want.Datatype, want.Shape, len(req.Inputs))
	}
	for _, o := range req.Outputs {
		if o.Name != logitsName && o.Name != probsName {
			return nil, nil, 0, fmt.Errorf("no output %q: the outputs are %q and %q", o.Name, logitsName, probsName)
		}
	}
	in := req.Inputs[0]
	if in.Datatype != want.Datatype {
		return nil, nil, 0, fmt.Errorf("input datatype %q: want %s", in.Datatype, want.Datatype)
	}
	if len(in.Shape) != len(want.Shape) || len(in.Shape) == 0 || in.Shape[0] < 1 || in.Shape[0] > maxInputs {
		return nil, nil, 0, fmt.Errorf("input shape %v: want %v with a batch of 1 to %d", in.Shape, want.Shape, maxInputs)
	}
	for i := 1; i < len(want.Shape); i++ {
		if in.Shape[i] != want.Shape[i] {
			return nil, nil, 0, fmt.Errorf("input shape %v: want %v", in.Shape, want.Shape)
		}
	}
	n, size := in.Shape[0], m.size()
	x := make([]float32, n*size)
	if m.Text != nil {
		var texts []string
		if err := unmarshalFlat(in.Data, &texts); err != nil {
			return nil, nil, 0, fmt.Errorf("input data: want %d strings: %w", n, err)
		}
		if len(texts) != n {
			return nil, nil, 0, fmt.Errorf("input data: %d strings for shape %v", len(texts), in.Shape)
		}
		for i, t := range texts {
			if err := m.Text(t, x[i*size:(i+1)*size]); err != nil {
				return nil, nil, 0, fmt.Errorf("input text %d: %w", i, err)
			}
		}
		return &req, x, n, nil
	}
	vals, ok := parseFlatFloats(in.Data)
	if !ok {
		if err := unmarshalFlat(in.Data, &vals); err != nil {
			return nil, nil, 0, fmt.Errorf("input data: want %d FP32 numbers: %w", len(x), err)
		}
	}
	if len(vals) != len(x) {
		return nil, nil, 0, fmt.Errorf("input data: %d values for shape %v, want %d", len(vals), in.Shape, len(x))
	}
	copy(x, vals)
	return &req, x, n, nil
}

// parseFlatFloats reads a flat JSON array of numbers without reflection,
// the common case of a large tensor; ok is false for anything else
// (nested arrays, strings, numbers out of float32's range), which
// unmarshalFlat then reads or rejects.
func parseFlatFloats(raw []byte) (out []float32, ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil, false
	}
	out = make([]float32, 0, len(raw)/8)
	if i = skipSpace(raw, i+1); i < len(raw) && raw[i] == ']' {
		return out, skipSpace(raw, i+1) == len(raw)
	}
	for {
		j := i
		for j < len(raw) && (raw[j] >= '0' && raw[j] <= '9' || raw[j] == '.' || raw[j] == '-' || raw[j] == 'e' || raw[j] == 'E' || raw[j] == '+') {
			j++
		}
		if j == i {
			return nil, false
		}
		// The string aliases raw, which nothing modifies while it lives.
		v, err := strconv.ParseFloat(unsafe.String(&raw[i], j-i), 32)
		if err != nil {
			return nil, false
		}
		out = append(out, float32(v))
		if i = skipSpace(raw, j); i >= len(raw) {
			return nil, false
		}
		switch raw[i] {
		case ']':
			return out, skipSpace(raw, i+1) == len(raw)
		case ',':
			i = skipSpace(raw, i+1)
		default:
			return nil, false
		}
	}
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// unmarshalFlat decodes a JSON array, flat or nested row-major as the
// protocol allows, into *out (a []float32 or []string).
func unmarshalFlat[T any](raw json.RawMessage, out *[]T) error {
	if err := json.Unmarshal(raw, out); err == nil {
		return nil
	}
	*out = nil // a failed decode may have filled part of it
	var nested []json.RawMessage
	if err := json.Unmarshal(raw, &nested); err != nil {
		return err
	}
	return flatten(nested, out, 1)
}

// flatten appends the values of nested arrays to *out, at most 32 deep.
func flatten[T any](items []json.RawMessage, out *[]T, depth int) error {
	if depth > 32 {
		return errors.New("arrays nested too deep")
	}
	for _, it := range items {
		it = bytes.TrimSpace(it)
		if len(it) > 0 && it[0] == '[' {
			var inner []json.RawMessage
			if err := json.Unmarshal(it, &inner); err != nil {
				return err
			}
			if err := flatten(inner, out, depth+1); err != nil {
				return err
			}
			continue
		}
		var v T
		if err := json.Unmarshal(it, &v); err != nil {
			return err
		}
		*out = append(*out, v)
	}
	return nil
}

func (s *Server) infer(w http.ResponseWriter, r *http.Request) {
	s.answer(w, r.PathValue("name"), "v2_infer", func(sv *served) (any, int, string) {
		code, resp, msg := s.inferBody(w, r, sv)
		return resp, code, msg
	})
}

// answer serves one request to the model called name under route: body
// answers it with a value, a status and an error message; the request
// is timed into the model's metrics, and a 2xx status writes the value
// as JSON, any other the error.
func (s *Server) answer(w http.ResponseWriter, name, route string, body func(sv *served) (any, int, string)) {
	start := time.Now()
	sv := s.model(w, name)
	if sv == nil {
		return
	}
	ans, code, msg := body(sv)
	sv.met.request(route, code, time.Since(start))
	if code/100 != 2 {
		s.fail(w, sv, route, code, msg)
		return
	}
	writeJSON(w, code, ans)
}

// inferBody reads, decodes and runs one inference request.
func (s *Server) inferBody(w http.ResponseWriter, r *http.Request, sv *served) (int, *inferResponse, string) {
	body, code, msg := s.readBody(w, r)
	if code != http.StatusOK {
		return code, nil, msg
	}
	req, x, n, err := decodeInfer(body, sv.m, s.opt.MaxInputs)
	if err != nil {
		return http.StatusBadRequest, nil, err.Error()
	}
	ctx, cancel := s.requestContext(r)
	defer cancel()
	logits, code, msg := s.run(ctx, sv, x, n)
	if code != http.StatusOK {
		return code, nil, msg
	}
	k := len(sv.m.Classes)
	resp := &inferResponse{ModelName: sv.m.Name, ModelVersion: modelVerson, ID: req.ID}
	wantOut := func(name string) bool {
		if len(req.Outputs) == 0 {
			return true
		}
		for _, o := range req.Outputs {
			if o.Name == name {
				return true
			}
		}
		return false
	}
	if wantOut(logitsName) {
		resp.Outputs = append(resp.Outputs, inferOutput{logitsName, "FP32", []int{n, k}, finite(logits)})
	}
	if wantOut(probsName) {
		resp.Outputs = append(resp.Outputs, inferOutput{probsName, "FP32", []int{n, k}, softmaxRows(logits, k)})
	}
	return http.StatusOK, resp, ""
}

// softmaxRows returns the softmax of each row of k logits.
func softmaxRows(logits []float32, k int) []float32 {
	out := make([]float32, len(logits))
	for r := 0; r+k <= len(logits); r += k {
		row := logits[r : r+k]
		hi := math.Inf(-1)
		for _, v := range row {
			hi = math.Max(hi, float64(v))
		}
		var sum float64
		for i, v := range row {
			e := math.Exp(float64(v) - hi)
			out[r+i] = float32(e)
			sum += e
		}
		for i := range row {
			out[r+i] = float32(float64(out[r+i]) / sum)
		}
	}
	return finite(out)
}

// finite replaces NaN and infinities, which JSON cannot hold, by 0 and
// ±MaxFloat32, in place.
func finite(v []float32) []float32 {
	for i, x := range v {
		switch {
		case x != x:
			v[i] = 0
		case x > math.MaxFloat32:
			v[i] = math.MaxFloat32
		case x < -math.MaxFloat32:
			v[i] = -math.MaxFloat32
		}
	}
	return v
}
