package server

// This file holds the secure-aggregation path of a round: the clients
// that trained are summed by fed/secure's SecAgg+, and the strategy gets
// their weighted mean as one update. It leaves out the robust strategies,
// which need each update (Config.Validate refuses them).

import (
	"context"
	"fmt"
	"slices"

	"github.com/kiln-ml/kiln/fed"
	"github.com/kiln-ml/kiln/fed/secure"
	"github.com/kiln-ml/kiln/fed/strategy"
)

// secureKey is the fit config key that asks fed/secure's client wrapper to
// keep the update for the secure-aggregation stages.
const secureKey = secure.ConfigKey

// secureAggregate runs secure aggregation over the clients that trained
// (ok, in ID order) and gives the strategy the weighted mean of the
// survivors as one update weighted by their examples: the same next
// global parameters as each update would give FedAvg, FedAvgM, FedProx
// and FedAdam, up to the quantisation. Unless Config.Secure sets it, the
// weight cap (secure's MaxWeight) is the largest example count a client
// reported in the clear with its fit, so that no weight is clipped. It
// returns the survivors' updates.
func (s *Server) secureAggregate(ctx context.Context, r int, conns []fed.Conn, ok []update, need int) ([]update, error) {
	byID := map[string]fed.Conn{}
	for _, c := range conns {
		byID[c.ID()] = c
	}
	trained := make([]fed.Conn, len(ok))
	o := s.cfg.Secure
	maxW := 0
	for i, u := range ok {
		trained[i] = byID[u.id]
		maxW = max(maxW, u.reply.NumExamples)
	}
	if o.MaxWeight == 0 {
		o.MaxWeight = float64(max(maxW, 1))
	}
	sum, weight, survivors, err := secure.Sum(ctx, trained, r, len(s.global), o)
	if err != nil {
		return nil, err
	}
	if len(survivors) < need {
		return nil, fmt.Errorf("%d clients survived secure aggregation, %d needed", len(survivors), need)
	}
	for _, u := range ok {
		if !slices.Contains(survivors, u.id) {
			fmt.Fprintf(s.log, "round %d: client %s dropped during secure aggregation\n", r, u.id)
		}
	}
	if !(weight > 0) {
		return nil, fmt.Errorf("secure aggregation gave a total weight of %v", weight)
	}
	mean := make([]float32, len(sum))
	for i, v := range sum {
		mean[i] = float32(float64(v) / weight)
	}
	next := slices.Clone(s.global)
	upd := []strategy.Update{{Client: fmt.Sprintf("the secure sum of %d clients", len(survivors)), Params: mean, Weight: weight}}
	if err := s.strat.Aggregate(r, next, upd); err != nil {
		return nil, fmt.Errorf("server: round %d: %w", r, err)
	}
	s.global = next
	return slices.DeleteFunc(slices.Clone(ok), func(u update) bool { return !slices.Contains(survivors, u.id) }), nil
}
