package fedgrpc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCA makes a certificate authority and a server certificate it signs
// for 127.0.0.1 and localhost, and writes ca.pem, server.pem and
// server.key into dir.
func writeCA(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kiln test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kiln fed server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	for path, b := range map[string]*pem.Block{
		caFile: {Type: "CERTIFICATE", Bytes: caDER}, certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return caFile, certFile, keyFile
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	caFile, certFile, keyFile := writeCA(t, dir)
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
