package train

// This file holds HostSyncer, what the loop asks of a Learner whose
// weights live on a device. It leaves out devices themselves (package
// device).

// HostSyncer is a Learner whose parameters and optimizer state live off
// the host, in a device's memory. The loop syncs them to the host before
// its epoch and interrupt callbacks (which save checkpoints and the best
// model) and checks Err after every step, since TrainStep and EvalBatch
// return no error.
type HostSyncer interface {
	// SyncToHost copies the parameters into the model's ParamSet and the
	// optimizer's state into its State slices (a no-op when nothing
	// changed); it returns the first device error, if any.
	SyncToHost() error
	// SyncFromHost copies them to the device after the host wrote them:
	// a resumed training state, the best model loaded for testing.
	SyncFromHost() error
	// Err returns the first error of a step; later steps do nothing.
	Err() error
}

// SyncToHost syncs l's weights to the host when l is a HostSyncer.
func SyncToHost(l Learner) error {
	if h, ok := l.(HostSyncer); ok {
		return h.SyncToHost()
	}
	return nil
}

// SyncFromHost syncs l's weights to its device when l is a HostSyncer.
func SyncFromHost(l Learner) error {
	if h, ok := l.(HostSyncer); ok {
		return h.SyncFromHost()
	}
	return nil
}

// stepErr returns l's step error when l is a HostSyncer or, like an
// inference-only device model, has an Err method.
func stepErr(l Evaluator) error {
	if h, ok := l.(interface{ Err() error }); ok {
		return h.Err()
	}
	return nil
}
