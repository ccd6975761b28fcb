package serve

// This file holds the /v1 convenience endpoints: predict, which takes
// image files (a raw body, multipart files, or JSON with base64 images)
// or texts (text/plain, multipart fields, or JSON) and answers the top
// classes; and feedback, which stores one input with its corrected label.
// It also holds the body and context limits every endpoint shares.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kiln-ml/kiln/predict"
)

// readBody reads a request's body up to the limit: a body that declares
// or turns out to be larger is 413, refused before it is read when its
// length is declared.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, string) {
	tooLarge := fmt.Sprintf("the body is larger than the %d-byte limit", s.opt.MaxBody)
	if r.ContentLength > s.opt.MaxBody {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opt.MaxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	case err != nil:
		return nil, http.StatusBadRequest, fmt.Sprintf("reading the body: %v", err)
	}
	return b, http.StatusOK, ""
}

// requestContext bounds a request's time in the server.
func (s *Server) requestContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.opt.Timeout)
}

// predictInput is one named input of a predict request.
type predictInput struct {
	name string
	data []byte
}

// predictJSON is predict's JSON body: texts, or base64 images.
type predictJSON struct {
	Text   *string  `json:"text,omitempty"`
	Texts  []string `json:"texts,omitempty"`
	Images [][]byte `json:"images,omitempty"` // base64 in JSON
}

// splitInputs returns the inputs of a predict body of the content type
// ct: multipart parts, JSON texts or images, or the body itself.
func splitInputs(ct string, body []byte, maxInputs int) ([]predictInput, error) {
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		mt = "application/octet-stream"
	}
	var in []predictInput
	add := func(name string, b []byte) error {
		if len(in) == maxInputs {
			return fmt.Errorf("more than %d inputs in one request", maxInputs)
		}
		in = append(in, predictInput{name, b})
		return nil
	}
	switch mt {
	case "multipart/form-data", "multipart/mixed":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for i := 0; ; i++ {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("multipart body: %w", err)
			}
			b, err := io.ReadAll(p)
			if err != nil {
				return nil, fmt.Errorf("multipart part %d: %w", i, err)
			}
			name := p.FileName()
			if name == "" {
				name = p.FormName()
			}
			if err := add(name, b); err != nil {
				return nil, err
			}
		}
	case "application/json":
		var req predictJSON
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, fmt.Errorf(`JSON body: want {"texts": [...]}, {"text": "..."} or {"images": [base64...]}: %w`, err)
		}
		if req.Text != nil {
			req.Texts = append([]string{*req.Text}, req.Texts...)
		}
		for i, t := range req.Texts {
			if err := add("text "+strconv.Itoa(i), []byte(t)); err != nil {
				return nil, err
			}
		}
		for i, b := range req.Images {
			if err := add("image "+strconv.Itoa(i), b); err != nil {
				return nil, err
			}
		}
	default:
		if err := add("body", body); err != nil {
			return nil, err
		}
	}
	if len(in) == 0 {
		return nil, errors.New("no inputs: send an image file as the body, multipart files, or JSON")
	}
	return in, nil
}

// decodeInput makes one example of m from an input's bytes: a decoded,
// transformed image, or an encoded UTF-8 text.
func decodeInput(m *Model, in predictInput, x []float32) error {
	if m.Text != nil {
		if !utf8.Valid(in.data) {
			return fmt.Errorf("%s: not UTF-8 text", in.name)
		}
		return m.Text(strings.TrimSpace(string(in.data)), x)
	}
	if err := m.Image(in.data, x); err != nil {
		return fmt.Errorf("%s: not an image kiln can read for a %v input (JPEG, PNG, GIF, BMP, TIFF, WebP, PGM/PPM): %w", in.name, m.Shape, err)
	}
	return nil
}

// decodePredict turns a predict body into examples of m.
func decodePredict(m *Model, ct string, body []byte, maxInputs int) ([]predictInput, []float32, error) {
	in, err := splitInputs(ct, body, maxInputs)
	if err != nil {
		return nil, nil, err
	}
	size := m.size()
	x := make([]float32, len(in)*size)
	for i, it := range in {
		if err := decodeInput(m, it, x[i*size:(i+1)*size]); err != nil {
			return nil, nil, err
		}
	}
	return in, x, nil
}

// predictResult is one input's answer.
type predictResult struct {
	Name        string               `json:"name"`
	Predictions []predict.Prediction `json:"predictions"`
}

// predictResponse is the answer to POST /v1/models/{name}:predict.
type predictResponse struct {
	ModelName string          `json:"model_name"`
	Results   []predictResult `json:"results"`
}

func (s *Server) v1Predict(w http.ResponseWriter, r *http.Request) {
	const route = "v1_predict"
	name, ok := strings.CutSuffix(r.PathValue("verb"), ":predict")
	if !ok {
		s.fail(w, nil, "", http.StatusNotFound, fmt.Sprintf("no endpoint POST %s (want /v1/models/NAME:predict)", r.URL.Path))
		return
	}
	s.answer(w, name, route, func(sv *served) (any, int, string) {
		return s.predictBody(w, r, sv)
	})
}

// predictBody reads, decodes and runs one predict request.
func (s *Server) predictBody(w http.ResponseWriter, r *http.Request, sv *served) (*predictResponse, int, string) {
	k := len(sv.m.Classes)
	topK := min(3, k)
	if v := r.URL.Query().Get("top_k"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, http.StatusBadRequest, fmt.Sprintf("top_k=%q: want a whole number from 1 to %d", v, k)
		}
		topK = min(n, k)
	}
	body, code, msg := s.readBody(w, r)
	if code != http.StatusOK {
		return nil, code, msg
	}
	in, x, err := decodePredict(sv.m, r.Header.Get("Content-Type"), body, s.opt.MaxInputs)
	if err != nil {
		return nil, http.StatusBadRequest, err.Error()
	}
	ctx, cancel := s.requestContext(r)
	defer cancel()
	logits, code, msg := s.run(ctx, sv, x, len(in))
	if code != http.StatusOK {
		return nil, code, msg
	}
	probs := softmaxRows(logits, k)
	resp := &predictResponse{ModelName: sv.m.Name}
	for i, it := range in {
		resp.Results = append(resp.Results, predictResult{it.name, sv.m.topK(probs[i*k:(i+1)*k], topK)})
	}
	return resp, http.StatusOK, ""
}

// topK returns the k most probable classes, most probable first (ties in
// class order).
func (m *Model) topK(probs []float32, k int) []predict.Prediction {
	out := make([]predict.Prediction, len(probs))
	for i, p := range probs {
		out[i] = predict.Prediction{Class: m.Classes[i], Index: i, Probability: float64(p)}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Probability > out[j].Probability })
	return out[:k]
}
