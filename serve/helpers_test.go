package serve

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kiln-ml/kiln/data/imagefolder"
	"github.com/kiln-ml/kiln/data/transform"
)

// fake is a model whose logits are simple functions of its input: for
// each example of 16 values, [mean, 1-mean, 0], so that a white image is
// class "a" and a black one class "b". It records its batch sizes, and
// waits on gate (when set) before each forward pass.
type fake struct {
	mu      sync.Mutex
	batches []int
	gate    chan struct{}
	entered chan struct{}
}

func (f *fake) logits(x []float32) ([]float32, error) {
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.gate != nil {
		<-f.gate
	}
	n := len(x) / 16
	f.mu.Lock()
	f.batches = append(f.batches, n)
	f.mu.Unlock()
	out := make([]float32, 0, 3*n)
	for i := range n {
		var s float32
		for _, v := range x[i*16 : (i+1)*16] {
			s += v
		}
		out = append(out, s/16, 1-s/16, 0)
	}
	return out, nil
}

func (f *fake) sizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.batches...)
}

// imageModel returns an image model of 1x4x4 inputs, decoding images as a
// run does ("resize=4x4" after decoding to grey).
func imageModel(f *fake, feedback string) *Model {
	tf, err := transform.Parse("resize=4x4")
	if err != nil {
		panic(err)
	}
	return &Model{Name: "m", Shape: []int{1, 4, 4}, Classes: []string{"a", "b", "c"}, Logits: f.logits, FeedbackDir: feedback,
		Image: func(b []byte, x []float32) error {
			img, err := imagefolder.Decode(b, 1, MaxPixels)
			if err != nil {
				return err
			}
			return tf.Tensor(img, x, nil)
		}}
}

// textModel returns a text model of 16 "token ids": the first 16 bytes
// of the text, each 1 when it is 'y' and 0 otherwise.
func textModel(f *fake) *Model {
	return &Model{Name: "t", Shape: []int{16}, Classes: []string{"a", "b", "c"}, Logits: f.logits,
		Text: func(s string, x []float32) error {
			clear(x)
			for i := 0; i < len(s) && i < len(x); i++ {
				if s[i] == 'y' {
					x[i] = 1
				}
			}
			return nil
		}}
}

// pngOf returns a w x h grey PNG of one value.
func pngOf(t testing.TB, w, h int, v uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var _ color.Color = color.Gray{}

// start runs a server of models with opt behind an httptest server.
func start(t *testing.T, opt Options, models ...*Model) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(models, opt)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

// do sends one request and returns the status and body.
func do(t *testing.T, method, url, ct, token string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// wantStatus fails unless the status is want and the body holds each of
// parts.
func wantStatus(t *testing.T, what string, code int, body string, want int, parts ...string) {
	t.Helper()
	if code != want {
		t.Errorf("%s: status %d, want %d: %s", what, code, want, body)
		return
	}
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("%s: the answer lacks %q: %s", what, p, body)
		}
	}
}
