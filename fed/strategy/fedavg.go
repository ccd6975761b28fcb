package strategy

// FedAvg is McMahan et al.'s federated averaging: the next global
// parameters are the clients' parameters averaged with their example
// counts as weights (Flower's FedAvg and its aggregate function).
type FedAvg struct{}

var _ Strategy = (*FedAvg)(nil)

// Name returns "fedavg".
func (*FedAvg) Name() string { return "fedavg" }

// ClientConfig adds nothing.
func (*FedAvg) ClientConfig(int) map[string]string { return map[string]string{} }

// Aggregate sets global to the weighted mean of the updates.
func (s *FedAvg) Aggregate(_ int, global []float32, updates []Update) error {
	if err := checkMean(s.Name(), global, updates); err != nil {
		return err
	}
	return weightedMean(s.Name(), global, updates)
}

// State is empty: FedAvg carries nothing between rounds.
func (*FedAvg) State() map[string][]float32 { return map[string][]float32{} }

// SetState accepts only an empty state.
func (s *FedAvg) SetState(st map[string][]float32) error { return noState(s.Name(), st) }

// NeedsEach is false: the weighted sum suffices.
func (*FedAvg) NeedsEach() bool { return false }
