// Package secagg holds secure aggregation of federated updates in the
// style of SecAgg+ (Bell et al. 2020, as Flower implements it): the server
// learns the sum of the clients' quantised updates and nothing else about
// any one of them.
//
// Each client quantises its update as Flower does (quantize.go: clipping
// range 8, quantisation range 2^22, arithmetic modulo 2^32), agrees a key
// with every neighbour by X25519 (crypto/ecdh), and adds to its vector a
// pairwise mask per neighbour, expanded from the shared secret by HKDF
// (hkdf.go, RFC 5869 on crypto/hmac) and AES-CTR, which cancels in the sum,
// and a private mask from its own seed. It Shamir-shares (shamir.go) the
// seed and its mask key among its neighbours, each share encrypted with
// AES-GCM under a second agreed key, so that the server can remove the
// private masks of the clients that finished and the pairwise masks of the
// clients that dropped after masking (protocol.go).
//
// It leaves out the transport (the messages are plain values for a gRPC
// layer to carry), signatures of the public keys (an active server that
// lies about the key list is outside this model, as in SecAgg+'s
// semi-honest setting), clients that drop before sharing their keys
// (they are simply left out of the round), and the multiparty CKKS mode.
package secagg
