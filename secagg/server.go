package secagg

// This file holds the server's side of a round: it collects keys, routes
// sealed shares, collects masked vectors, and removes the masks from their
// sum with the survivors' shares. It sees no update in the clear.

import (
	"bytes"
	"crypto/ecdh"
	"fmt"
	"slices"
)

// Server aggregates one round.
type Server struct {
	cfg    Config
	keys   map[int]PublicKeys
	shared map[int]bool // clients whose sealed shares were routed
	masked map[int][]uint32
}

// NewServer returns a server for a round with settings cfg.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, keys: map[int]PublicKeys{}, shared: map[int]bool{}, masked: map[int][]uint32{}}, nil
}

// AddKeys records client id's public keys.
func (s *Server) AddKeys(id int, k PublicKeys) error {
	if id < 0 || id >= s.cfg.Clients {
		return fmt.Errorf("secagg: keys from client %d of %d", id, s.cfg.Clients)
	}
	s.keys[id] = k
	return nil
}

// Keys returns every advertised key, for the clients' ShareKeys.
func (s *Server) Keys() map[int]PublicKeys { return s.keys }

// Route takes each client's sealed shares and returns them by recipient.
func (s *Server) Route(from map[int][]Sealed) map[int][]Sealed {
	out := map[int][]Sealed{}
	for id, boxes := range from {
		s.shared[id] = true
		for _, b := range boxes {
			out[b.To] = append(out[b.To], b)
		}
	}
	return out
}

// AddMasked records client id's masked vector.
func (s *Server) AddMasked(id int, v []uint32) error {
	if !s.shared[id] {
		return fmt.Errorf("secagg: masked vector from client %d, which shared no keys", id)
	}
	s.masked[id] = v
	return nil
}

// Survivors returns the clients whose masked vectors arrived (active) and
// those that shared keys but sent no vector (dropped), for the clients'
// Unmask.
func (s *Server) Survivors() (active, dropped []int) {
	for id := range s.shared {
		if _, ok := s.masked[id]; ok {
			active = append(active, id)
		} else {
			dropped = append(dropped, id)
		}
	}
	slices.Sort(active)
	slices.Sort(dropped)
	return active, dropped
}

// Aggregate returns the sum modulo 2^32 of the active clients' quantised
// vectors and their ids, removing their seeds' masks and the pairwise masks
// of the dropped clients with the survivors' replies.
func (s *Server) Aggregate(replies []UnmaskReply) (sum []uint32, active []int, err error) {
	active, dropped := s.Survivors()
	if len(active) < s.cfg.Threshold {
		return nil, nil, fmt.Errorf("secagg: %d active clients, below the threshold %d", len(active), s.cfg.Threshold)
	}
	n := len(s.masked[active[0]])
	sum = make([]uint32, n)
	for _, id := range active {
		if len(s.masked[id]) != n {
			return nil, nil, fmt.Errorf("secagg: client %d sent %d values, client %d sent %d", id, len(s.masked[id]), active[0], n)
		}
		addMask(sum, s.masked[id], 1)
	}
	seeds, keys := map[int][]Share{}, map[int][]Share{}
	for _, r := range replies {
		if !slices.Contains(active, r.From) || len(r.Of) != len(r.Seeds)+len(r.Keys) {
			return nil, nil, fmt.Errorf("secagg: a malformed reply from client %d", r.From)
		}
		for k, sh := range r.Seeds {
			seeds[r.Of[k]] = append(seeds[r.Of[k]], sh)
		}
		for k, sh := range r.Keys {
			keys[r.Of[len(r.Seeds)+k]] = append(keys[r.Of[len(r.Seeds)+k]], sh)
		}
	}
	for _, id := range active {
		seed, err := s.combine(seeds[id], id, "mask seed")
		if err != nil {
			return nil, nil, err
		}
		addMask(sum, expand(seed, selfInfo, n), -1)
	}
	for _, j := range dropped {
		raw, err := s.combine(keys[j], j, "mask key")
		if err != nil {
			return nil, nil, err
		}
		priv, err := ecdh.X25519().NewPrivateKey(raw)
		if err != nil || !bytes.Equal(priv.PublicKey().Bytes(), s.keys[j].Mask) {
			return nil, nil, fmt.Errorf("secagg: the mask key rebuilt for dropped client %d does not match its public key", j)
		}
		for _, k := range s.cfg.neighbours(j) {
			if !slices.Contains(active, k) {
				continue
			}
			m, err := pairMask(priv, s.keys[k].Mask, n)
			if err != nil {
				return nil, nil, err
			}
			addMask(sum, m, -pairSign(k, j)) // k added pairSign(k, j) * m
		}
	}
	return sum, active, nil
}

// combine rebuilds a 32-byte secret of client id from its shares.
func (s *Server) combine(shares []Share, id int, what string) ([]byte, error) {
	if len(shares) < s.cfg.Threshold {
		return nil, fmt.Errorf("secagg: %d shares of client %d's %s, the threshold is %d", len(shares), id, what, s.cfg.Threshold)
	}
	b, err := Combine(shares[:s.cfg.Threshold], 32)
	if err != nil {
		return nil, fmt.Errorf("secagg: client %d's %s: %w", id, what, err)
	}
	return b, nil
}
