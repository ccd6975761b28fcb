package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHealthAndMetadata(t *testing.T) {
	_, ts := start(t, Options{Version: "v9"}, imageModel(&fake{}, ""), textModel(&fake{}))
	for _, tc := range []struct {
		path  string
		code  int
		parts []string
	}{
		{"/v2/health/live", 200, []string{`"live":true`}},
		{"/v2/health/ready", 200, []string{`"ready":true`}},
		{"/v2", 200, []string{`"name":"kiln"`, `"version":"v9"`}},
		{"/v2/models/m", 200, []string{`"name":"input","datatype":"FP32","shape":[-1,1,4,4]`, `"name":"probabilities","datatype":"FP32","shape":[-1,3]`, `"classes":["a","b","c"]`}},
		{"/v2/models/t", 200, []string{`"datatype":"BYTES","shape":[-1]`}},
		{"/v2/models/m/ready", 200, []string{`"ready":true`}},
		{"/v2/models/nope", 404, []string{`no model \"nope\"`, "m, t"}},
		{"/v3/what", 404, []string{"no endpoint GET /v3/what"}},
	} {
		code, body := do(t, "GET", ts.URL+tc.path, "", "", nil)
		wantStatus(t, tc.path, code, body, tc.code, tc.parts...)
	}
}

// inferBody returns a v2 inference request of one FP32 input.
func inferBody(dtype string, shape []int, data any) []byte {
	b, _ := json.Marshal(map[string]any{"id": "r1", "inputs": []any{map[string]any{"name": "input", "datatype": dtype, "shape": shape, "data": data}}})
	return b
}

func TestInfer(t *testing.T) {
	_, ts := start(t, Options{}, imageModel(&fake{}, ""), textModel(&fake{}))
	url := ts.URL + "/v2/models/m/infer"
	flat := make([]float32, 32)
	for i := range 16 {
		flat[i] = 0.5 // example 0: mean 0.5; example 1: mean 0
	}
	code, body := do(t, "POST", url, "application/json", "", inferBody("FP32", []int{2, 1, 4, 4}, flat))
	wantStatus(t, "flat", code, body, 200, `"model_name":"m"`, `"id":"r1"`)
	var resp inferResponse
	if err := json.Unmarshal([]byte(body), &resp); err != nil || len(resp.Outputs) != 2 {
		t.Fatalf("answer %s: %v", body, err)
	}
	if got := fmt.Sprint(resp.Outputs[0].Shape, resp.Outputs[0].Data); got != "[2 3] [0.5 0.5 0 0 1 0]" {
		t.Errorf("logits %s, want [2 3] [0.5 0.5 0 0 1 0]", got)
	}
	e := math.Exp(1)
	want := []float64{e / (e + 2), 1 / (e + 2)} // example 1: softmax(0, 1, 0)
	if p := resp.Outputs[1].Data; math.Abs(float64(p[4])-want[0]) > 1e-6 || math.Abs(float64(p[3])-want[1]) > 1e-6 {
		t.Errorf("probabilities %v, want row 2 = [%g %g %g]", p, want[1], want[0], want[1])
	}
	// Nested data, as the protocol allows, and only the logits asked for.
	nested := [][][][]float32{{{{1, 1, 1, 1}, {1, 1, 1, 1}, {1, 1, 1, 1}, {1, 1, 1, 1}}}}
	b, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "input", "datatype": "FP32", "shape": []int{1, 1, 4, 4}, "data": nested}},
		"outputs": []any{map[string]string{"name": "logits"}}})
	code, body = do(t, "POST", url, "application/json", "", b)
	wantStatus(t, "nested", code, body, 200, `"outputs":[{"name":"logits","datatype":"FP32","shape":[1,3],"data":[1,0,0]}]`)

	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"wrong datatype", inferBody("INT8", []int{1, 1, 4, 4}, flat[:16]), `datatype \"INT8\": want FP32`},
		{"wrong shape", inferBody("FP32", []int{1, 4, 4}, flat[:16]), "want [-1 1 4 4]"},
		{"wrong size", inferBody("FP32", []int{1, 1, 4, 4}, flat), "32 values for shape [1 1 4 4], want 16"},
		{"too many", inferBody("FP32", []int{300, 1, 4, 4}, flat), "batch of 1 to 256"},
		{"strings", inferBody("FP32", []int{1, 1, 4, 4}, []string{"x"}), "want 16 FP32 numbers"},
		{"not JSON", []byte("{"), "not an inference request in JSON"},
		{"two values", []byte(`{"inputs":[]} {}`), "more than one JSON value"},
		{"bad output", []byte(`{"inputs":[{"name":"input","datatype":"FP32","shape":[1,1,4,4],"data":[]}],"outputs":[{"name":"x"}]}`), `no output \"x\"`},
		{"no input", []byte(`{"inputs":[]}`), `exactly one input named \"input\"`},
	} {
		code, body := do(t, "POST", url, "application/json", "", tc.body)
		wantStatus(t, tc.name, code, body, 400, tc.want)
	}

	code, body = do(t, "POST", ts.URL+"/v2/models/t/infer", "application/json", "", inferBody("BYTES", []int{2}, []string{"yyyyyyyyyyyyyyyy", "n"}))
	wantStatus(t, "text", code, body, 200, `"data":[1,0,0,0,1,0]`)
}

func TestPredict(t *testing.T) {
	_, ts := start(t, Options{}, imageModel(&fake{}, ""), textModel(&fake{}))
	url := ts.URL + "/v1/models/m:predict"
	code, body := do(t, "POST", url, "image/png", "", pngOf(t, 9, 7, 255))
	wantStatus(t, "raw", code, body, 200, `"name":"body","predictions":[{"class":"a","index":0,"probability":0.576`)

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	for i, v := range []uint8{0, 255} {
		fw, _ := mw.CreateFormFile("file", fmt.Sprintf("img%d.png", i))
		fw.Write(pngOf(t, 4, 4, v))
	}
	mw.Close()
	code, body = do(t, "POST", url+"?top_k=1", mw.FormDataContentType(), "", mp.Bytes())
	wantStatus(t, "multipart", code, body, 200, `{"name":"img0.png","predictions":[{"class":"b"`, `{"name":"img1.png","predictions":[{"class":"a"`)
	if strings.Count(body, `"class"`) != 2 {
		t.Errorf("top_k=1 gave %s", body)
	}
	code, body = do(t, "POST", url, "image/png", "", []byte("\x89PNG\r\n\x1a\nnot really"))
	wantStatus(t, "bad image", code, body, 400, "body: not an image kiln can read for a [1 4 4] input")
	code, body = do(t, "POST", url+"?top_k=0", "image/png", "", pngOf(t, 4, 4, 1))
	wantStatus(t, "top_k", code, body, 400, "from 1 to 3")
	code, body = do(t, "POST", ts.URL+"/v1/models/m:explain", "image/png", "", nil)
	wantStatus(t, "verb", code, body, 404, "want /v1/models/NAME:predict")

	turl := ts.URL + "/v1/models/t:predict"
	code, body = do(t, "POST", turl, "text/plain", "", []byte("yyyyyyyyyyyyyyyy"))
	wantStatus(t, "text", code, body, 200, `"class":"a"`)
	code, body = do(t, "POST", turl, "application/json", "", []byte(`{"text":"n","texts":["yyyyyyyyyyyyyyyy"]}`))
	wantStatus(t, "json texts", code, body, 200, `{"name":"text 0","predictions":[{"class":"b"`, `{"name":"text 1","predictions":[{"class":"a"`)
	code, body = do(t, "POST", turl, "text/plain", "", []byte{0xff, 0xfe})
	wantStatus(t, "not UTF-8", code, body, 400, "not UTF-8")
}

func TestAuth(t *testing.T) {
	_, ts := start(t, Options{Token: "s3cret"}, imageModel(&fake{}, ""))
	for _, path := range []string{"/v2/health/live", "/v2/health/ready"} {
		code, body := do(t, "GET", ts.URL+path, "", "", nil)
		wantStatus(t, path+" without a token", code, body, 200)
	}
	img := pngOf(t, 4, 4, 9)
	for _, tok := range []string{"", "wrong", "s3cre", "s3cret0", "Bearer s3cret"} {
		for _, r := range []struct{ method, path string }{{"GET", "/v2/models/m"}, {"GET", "/metrics"}, {"POST", "/v1/models/m:predict"}, {"POST", "/v2/models/m/infer"}} {
			code, body := do(t, r.method, ts.URL+r.path, "image/png", tok, img)
			wantStatus(t, fmt.Sprintf("%s %s with token %q", r.method, r.path, tok), code, body, 401, "missing or wrong token")
		}
	}
	code, body := do(t, "POST", ts.URL+"/v1/models/m:predict", "image/png", "s3cret", img)
	wantStatus(t, "the right token", code, body, 200, `"class":"b"`)
}

func TestFeedback(t *testing.T) {
	dir := filepath.Join(t.TempDir(), FeedbackFolder)
	_, ts := start(t, Options{}, imageModel(&fake{}, dir), textModel(&fake{}))
	img := pngOf(t, 5, 5, 200)
	url := ts.URL + "/v1/models/m/feedback?label=c"
	code, body := do(t, "POST", url, "image/png", "", img)
	wantStatus(t, "first", code, body, 201, `"label":"c"`, `"new":true`)
	var ans feedbackAnswer
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(filepath.Dir(dir), ans.Stored))
	if err != nil || !bytes.Equal(got, img) || !strings.HasPrefix(ans.Stored, filepath.Join(FeedbackFolder, "c")+string(filepath.Separator)) || filepath.Ext(ans.Stored) != ".png" {
		t.Errorf("stored %s: %d bytes, %v; want the %d bytes sent", ans.Stored, len(got), err, len(img))
	}
	code, body = do(t, "POST", url, "image/png", "", img)
	wantStatus(t, "again", code, body, 200, `"new":false`)
	code, body = do(t, "POST", ts.URL+"/v1/models/m/feedback?label=z", "image/png", "", img)
	wantStatus(t, "bad label", code, body, 400, "want one of the model's classes a, b, c")
	code, body = do(t, "POST", url, "image/png", "", []byte("GIF8 but no more"))
	wantStatus(t, "bad image", code, body, 400, "not an image kiln can read")
	code, body = do(t, "POST", url, "image/png", "", []byte("hello"))
	wantStatus(t, "not an image", code, body, 400, "not an image file")
	code, body = do(t, "POST", ts.URL+"/v1/models/t/feedback?label=a", "text/plain", "", []byte("yes"))
	wantStatus(t, "no feedback folder", code, body, 403, "takes no feedback")
	entries, _ := os.ReadDir(filepath.Join(dir, "c"))
	if len(entries) != 1 {
		t.Errorf("%d files in the feedback folder, want 1: %v", len(entries), entries)
	}
}

func TestNewRejects(t *testing.T) {
	m := imageModel(&fake{}, "")
	for _, tc := range []struct {
		models []*Model
		opt    Options
		want   string
	}{
		{nil, Options{}, "no models"},
		{[]*Model{m, m}, Options{}, "two models are called m"},
		{[]*Model{{Name: "../x", Shape: []int{1}, Classes: []string{"a"}, Logits: m.Logits, Image: m.Image}}, Options{}, `model name "../x"`},
		{[]*Model{{Name: "x", Shape: []int{1}, Classes: []string{"a"}, Logits: m.Logits}}, Options{}, "exactly one of Image and Text"},
		{[]*Model{m}, Options{MaxBatch: -1}, "max batch -1"},
	} {
		if _, err := New(tc.models, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New: %v, want an error with %q", err, tc.want)
		}
	}
}

var _ = http.StatusOK
