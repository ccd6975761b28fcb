package fedgrpc

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// DefaultMaxMessageBytes is the largest message either side accepts unless
// Options says otherwise: a model of about 130 M float32 parameters.
const DefaultMaxMessageBytes = 512 << 20

// Options are the transport's settings; the zero value is plaintext, no
// token and the defaults below.
type Options struct {
	// TLS, when set, encrypts the connection: the server's certificate
	// (ServerTLS) or what a client trusts (ClientTLS). Nil is plaintext.
	TLS *tls.Config
	// Token, when set, is the shared secret: clients send it with the
	// stream, the server refuses a stream without it (codes.Unauthenticated).
	Token string
	// MaxMessageBytes bounds one message, sent or received; 0 means
	// DefaultMaxMessageBytes.
	MaxMessageBytes int
	// Keepalive is how long a connection may be silent before a ping checks
	// the peer (the server pings clients, clients ping the server at twice
	// this period, as grpc asks); a peer that does not answer within
	// KeepaliveTimeout is dropped. 0 means 15 s and 10 s.
	Keepalive, KeepaliveTimeout time.Duration
	// Logf, when set, receives one line per client joining or leaving and
	// per reconnection.
	Logf func(format string, args ...any)

	// The client's reconnection: the first wait is MinBackoff (0: 200 ms),
	// each failure doubles it up to MaxBackoff (0: 5 s), with jitter drawn
	// from a generator seeded by Seed. RunClient gives up once it has not
	// been connected for GiveUpAfter (0: 2 minutes).
	MinBackoff, MaxBackoff, GiveUpAfter time.Duration
	Seed                                uint64
}

func (o Options) maxMessage() int {
	if o.MaxMessageBytes > 0 {
		return o.MaxMessageBytes
	}
	return DefaultMaxMessageBytes
}

func (o Options) keepalive() (every, timeout time.Duration) {
	every, timeout = o.Keepalive, o.KeepaliveTimeout
	if every <= 0 {
		every = 15 * time.Second
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return every, timeout
}

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

func (o Options) creds() grpc.DialOption {
	if o.TLS == nil {
		return grpc.WithTransportCredentials(insecure.NewCredentials())
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(o.TLS))
}

// ServerTLS returns the TLS settings of a server whose certificate (PEM,
// with its chain) and private key are in the two files.
func ServerTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("fed/fedgrpc: the server's certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// ClientTLS returns the TLS settings of a client that trusts the
// certificate authorities in caFile (PEM), or the system's when caFile is
// empty. skipVerify accepts any server certificate: for tests only, it
// leaves the connection open to a man in the middle.
func ClientTLS(caFile string, skipVerify bool) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: skipVerify}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("fed/fedgrpc: the CA file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("fed/fedgrpc: the CA file %s holds no PEM certificate", caFile)
		}
	}
	return c, nil
}
