package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/predict"
)

// startServe runs kiln serve with args in-process and returns the URL it
// prints, a function that sends it SIGTERM's cancel and waits for its
// status, and its output so far.
func startServe(t *testing.T, args ...string) (url string, stop func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code := runContext(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), pw, &errb)
		pw.Close()
		done <- code
	}()
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if u, ok := strings.CutPrefix(line, "listening on "); ok {
			url = u
			break
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("kiln serve did not start: status %d\n%s%s", <-done, out.String(), errb.String())
	}
	rest := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(pr)
		rest <- string(b)
	}()
	return url, func() (int, string) {
		cancel()
		code := <-done
		return code, out.String() + <-rest + errb.String()
	}
}

// TestServeEndToEnd trains a tiny run, serves it with a token, and
// requires the server's predictions to equal kiln predict's, a v2
// inference on the same pixels to give the same logits, 401 without the
// token, and a clean drain on cancel.
func TestServeEndToEnd(t *testing.T) {
	runDir, sample := trainTiny(t, "tiny")
	url, stop := startServe(t, "--token", "tok", "--max-delay", "1ms", "fm="+runDir)
	call := func(method, path, ct, token string, body []byte) (int, []byte) {
		req, _ := http.NewRequest(method, url+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, b := call("GET", "/v2/health/ready", "", "", nil); code != 200 {
		t.Fatalf("ready: %d %s", code, b)
	}
	if code, b := call("GET", "/v2/models/fm", "", "", nil); code != 401 {
		t.Errorf("metadata without the token: %d %s", code, b)
	}
	code, b := call("GET", "/v2/models/fm", "", "tok", nil)
	if code != 200 || !bytes.Contains(b, []byte(`"shape":[-1,1,16,16]`)) {
		t.Errorf("metadata: %d %s", code, b)
	}
	img, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	code, b = call("POST", "/v1/models/fm:predict?top_k=6", "image/png", "tok", img)
	var got struct {
		Results []struct{ Predictions []predict.Prediction }
	}
	if err := json.Unmarshal(b, &got); code != 200 || err != nil || len(got.Results) != 1 {
		t.Fatalf("predict: %d %s %v", code, b, err)
	}
	m, err := predict.LoadTrained(runDir, "best")
	if err != nil {
		t.Fatal(err)
	}
	probs, err := m.PredictFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got.Results[0].Predictions {
		if math.Abs(p.Probability-probs[p.Index]) > 1e-6 {
			t.Errorf("class %s: served %g, kiln predict %g", p.Class, p.Probability, probs[p.Index])
		}
	}
	if top := m.TopK(probs, 1)[0]; got.Results[0].Predictions[0].Index != top.Index {
		t.Errorf("served top class %+v, kiln predict %+v", got.Results[0].Predictions[0], top)
	}
	// A v2 request of wrong shape names the shape it wants.
	code, b = call("POST", "/v2/models/fm/infer", "application/json", "tok", []byte(`{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3,16,16],"data":[]}]}`))
	if code != 400 || !bytes.Contains(b, []byte("want [-1 1 16 16]")) {
		t.Errorf("wrong shape: %d %s", code, b)
	}
	code, b = call("GET", "/metrics", "", "tok", nil)
	if code != 200 || !bytes.Contains(b, []byte(`kiln_requests_total{model="fm",route="v1_predict",code="200"} 1`)) {
		t.Errorf("metrics: %d %s", code, b)
	}
	status, out := stop()
	if status != 0 || !strings.Contains(out, "draining") || !strings.Contains(out, "stopped") {
		t.Errorf("after cancel: status %d\n%s", status, out)
	}
}

// TestServeTLS serves over HTTPS with a certificate made here and checks
// a client that trusts it gets an answer.
func TestServeTLS(t *testing.T) {
	runDir, _ := trainTiny(t, "tls")
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kiln test"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	url, stop := startServe(t, "--tls-cert", certFile, "--tls-key", keyFile, runDir)
	defer stop()
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("URL %s, want https", url)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(url + "/v2/models/tls")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("HTTPS metadata: %d", resp.StatusCode)
	}
	if _, err := http.Get(strings.Replace(url, "https", "http", 1) + "/v2/health/live"); err == nil {
		// A plain HTTP request to a TLS port gets a 400 from net/http,
		// not a model's answer; either way no data flows unencrypted.
		t.Log("plain HTTP got an answer from the TLS port (net/http's 400)")
	}
}

func TestServeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "empty")
	os.WriteFile(tok, []byte(" \n"), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve"}, 2, "missing the run directories"},
		{[]string{"serve", "https://example.com/model"}, 2, "never models from URLs"},
		{[]string{"serve", dir, "--max-batch", "0"}, 2, "--max-batch 0"},
		{[]string{"serve", dir, "--tls-cert", "c.pem"}, 2, "go together"},
		{[]string{"serve", dir, "--token", "a", "--token-file", tok}, 2, "give one"},
		{[]string{"serve", dir, "--token-file", tok}, 1, "is empty"},
		{[]string{"serve", filepath.Join(dir, "none")}, 1, "none"},
	} {
		code, _, stderr := kiln(t, context.Background(), tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("kiln %v: status %d, want %d with %q: %s", tc.args, code, tc.code, tc.want, stderr)
		}
	}
	code, out, _ := kiln(t, context.Background(), "serve", "-h")
	if code != 0 || !strings.Contains(out, "POST /v2/models/NAME/infer") || !strings.Contains(out, "-max-batch") {
		t.Errorf("serve -h: %d\n%s", code, out)
	}
}

// TestServeText serves a text classifier: /v1 predict of a text/plain
// body and a v2 BYTES inference must give kiln predict --text's
// probabilities.
func TestServeText(t *testing.T) {
	data := t.TempDir()
	writeTextFolder(t, filepath.Join(data, "train"), 60, 1)
	writeTextFolder(t, filepath.Join(data, "test"), 12, 2)
	out := t.TempDir()
	code, stdout, stderr := kiln(t, context.Background(), "train", "--data", data, "--epochs", "1", "--batch-size", "16",
		"--hidden", "8", "--embed-dim", "4", "--workers", "1", "--out", out, "--name", "words")
	if code != 0 {
		t.Fatalf("train: %d\n%s%s", code, stdout, stderr)
	}
	runDir := filepath.Join(out, "words")
	m, err := predict.LoadTrained(runDir, "best")
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.PredictText("bonjour")
	if err != nil {
		t.Fatal(err)
	}
	url, stop := startServe(t, runDir)
	defer stop()
	resp, err := http.Post(url+"/v1/models/words:predict?top_k=100", "text/plain", strings.NewReader("bonjour"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Results []struct{ Predictions []predict.Prediction }
	}
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(got.Results) != 1 || len(got.Results[0].Predictions) != len(want) {
		t.Fatalf("predict: %d %+v %v", resp.StatusCode, got, err)
	}
	for _, p := range got.Results[0].Predictions {
		if math.Abs(p.Probability-want[p.Index]) > 1e-6 {
			t.Errorf("class %s: served %g, kiln predict %g", p.Class, p.Probability, want[p.Index])
		}
	}
	resp, err = http.Post(url+"/v2/models/words/infer", "application/json",
		strings.NewReader(`{"inputs":[{"name":"input","datatype":"BYTES","shape":[1],"data":["bonjour"]}],"outputs":[{"name":"probabilities"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var v2 struct {
		Outputs []struct {
			Name string
			Data []float64
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&v2)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(v2.Outputs) != 1 || len(v2.Outputs[0].Data) != len(want) {
		t.Fatalf("v2 infer: %d %+v %v", resp.StatusCode, v2, err)
	}
	for i, p := range v2.Outputs[0].Data {
		if math.Abs(p-want[i]) > 1e-6 {
			t.Errorf("v2 class %d: %g, kiln predict %g", i, p, want[i])
		}
	}
}
