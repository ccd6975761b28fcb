package fedgrpc

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/fed/fedgrpc/fedgrpctest"
)

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	caFile, certFile, keyFile, err := fedgrpctest.WriteCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, err := ServerTLS(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	addr, mgr, _ := startServer(t, Options{TLS: serverTLS, Token: "t"})

	trusting, err := ClientTLS(caFile, false)
	if err != nil {
		t.Fatal(err)
	}
	startClient(t, addr, "trusts-the-ca", doubler, Options{TLS: trusting, Token: "t"})
	waitFor(t, mgr, 1)

	// The system's pool does not hold the test CA: refused at once, naming TLS.
	system, _ := ClientTLS("", false)
	_, ch := startClient(t, addr, "system-pool", doubler, Options{TLS: system, Token: "t"})
	err = result(t, ch, 5*time.Second)
	t.Logf("untrusted: %v", err)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a client that does not trust the server's CA: %v", err)
	}
	skip, _ := ClientTLS("", true)
	startClient(t, addr, "skips-verification", doubler, Options{TLS: skip, Token: "t"})
	waitFor(t, mgr, 2)

	// Plaintext to a TLS server never joins; it gives up.
	_, ch = startClient(t, addr, "plaintext", doubler, Options{Token: "t", GiveUpAfter: 300 * time.Millisecond})
	if err := result(t, ch, 5*time.Second); err == nil || !strings.Contains(err.Error(), "no connection to") {
		t.Fatalf("a plaintext client to a TLS server: %v", err)
	}
	if got := mgr.Len(); got != 2 {
		t.Fatalf("%d clients joined, want 2", got)
	}

	if _, err := ServerTLS(filepath.Join(dir, "none.pem"), keyFile); err == nil || !strings.Contains(err.Error(), "none.pem") {
		t.Errorf("a missing certificate: %v", err)
	}
	if _, err := ClientTLS(keyFile, false); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("a CA file without certificates: %v", err)
	}
}
