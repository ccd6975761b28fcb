package task

// This file holds a run's part in data-parallel training (package dist):
// what every rank checks before training, the weights rank 0 broadcasts,
// the gradient reducer, and each rank's dropout generators in the
// checkpoint. It leaves out the communication (dist, dist/mpi) and the
// sharded step and loop (package train). Rank 0 alone writes the run
// directory; the other ranks train the same model on their shards and
// write nothing.

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/kiln-ml/kiln/device"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/dist"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/train"
)

// replicas is a session's data-parallel part; nil in one process.
type replicas struct {
	comm  dist.Communicator
	hosts []string
	red   *dist.GradReducer
}

// rank returns the session's rank, 0 in one process.
func (s *session) rank() int {
	if s.rep == nil {
		return 0
	}
	return s.rep.comm.Rank()
}

// ranks returns the number of ranks training the run, 1 in one process.
func (s *session) ranks() int {
	if s.rep == nil {
		return 1
	}
	return s.rep.comm.Size()
}

// writes reports whether this rank writes the run directory: rank 0.
func (s *session) writes() bool { return s.rank() == 0 }

// replicaSums returns the reducer as the loop's Replicas, or nil.
func (s *session) replicaSums() train.Replicas {
	if s.rep == nil {
		return nil
	}
	return s.rep.red
}

// describe logs the job: its ranks, their hosts and the global batch.
func (r *replicas) describe(w io.Writer, batch int) {
	n := r.comm.Size()
	hosts := map[string]int{}
	for _, h := range r.hosts {
		hosts[h]++
	}
	fmt.Fprintf(w, "kiln: data-parallel on %d ranks (%d on %d hosts), global batch %d = %d x %d; gradients all-reduced in %d buckets while backward runs\n",
		n, n, len(hosts), n*batch, n, batch, len(r.red.Buckets()))
}

// report logs where the steps' time went: the all-reduces and how much
// of them backward hid.
func (r *replicas) report(w io.Writer, params int) {
	st := r.red.Stats()
	if st.Steps == 0 {
		return
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(st.Steps) }
	fmt.Fprintf(w, "kiln: data-parallel: %d steps; per step, backward %.2f ms, all-reduce of %.2f MB %.2f ms in %.1f buckets, of which %.0f%% ran while backward did (waited after it: %.2f ms)\n",
		st.Steps, per(st.Backward), float64(4*params)/1e6, per(st.Reduce), float64(st.Buckets)/float64(st.Steps), 100*st.Overlap(), per(st.Wait))
}

// rankSeed is the dropout seed of a rank: the run's seed on rank 0, so
// that one process draws what it always has, and a stream of its own on
// every other rank.
func rankSeed(seed uint64, rank int) uint64 { return seed + uint64(rank)*0x9e3779b97f4a7c15 }

// joinReplicas makes the session one rank of opt.Comm's job, once its
// model, learner and loaders exist: it checks that every rank has the same
// settings, data and model, gives every rank rank 0's weights, and
// combines gradients from now on.
func (s *session) joinReplicas() error {
	c := s.rep.comm
	hosts, err := dist.Hosts(c)
	if err != nil {
		return err
	}
	s.rep.hosts = hosts
	ds := s.ds
	fields := []dist.Field{{Name: "the kiln version", Value: s.opt.Version}}
	fields = append(fields, settingFields(s.cfg)...)
	fields = append(fields, []dist.Field{
		{Name: "the data's classes", Value: fmt.Sprint(ds.Classes)},
		{Name: "the data (--data)", Value: fmt.Sprintf("%d training, %d validation, %d test examples of shape %v", s.info.TrainImages, s.info.ValImages, s.info.TestImages, ds.Shape)},
		{Name: "the model's initial weights (the same seed must draw the same weights)", Value: fmt.Sprintf("%d parameters, hash %016x", s.info.Parameters, dist.Fingerprint(s.model.ParamSet().Data))},
	}...)
	if err := dist.Check(c, hosts, fields); err != nil {
		return err
	}
	if err := s.broadcastModel(); err != nil {
		return err
	}
	red := dist.NewGradReducer(c, s.model.ParamSet(), s.opt.BucketBytes, s.opt.BucketBytes)
	s.rep.red = red
	var stats func(func([]float64))
	switch l := s.learner.(type) {
	case *train.Classifier:
		l.Sync, stats = red, l.SyncStats
	case *Reconstructor:
		l.Sync, stats = red, l.SyncStats
	case *LanguageModel:
		l.Sync = red // no batch norm
	case *device.Classifier:
		if s.cfg.SyncBN {
			return fmt.Errorf("--sync-bn with --device %s: synchronised batch normalisation sums the ranks' statistics inside the forward pass, on the CPU path only; leave out --sync-bn (each rank then normalises with its own shard's statistics, as DDP does without SyncBatchNorm)", s.cfg.Device)
		}
		// The device took its weights before rank 0's were broadcast.
		if err := l.SyncFromHost(); err != nil {
			return err
		}
		l.SetGradSync(red.ReduceAll)
	default:
		return fmt.Errorf("task: data-parallel training of a %T is not supported", s.learner)
	}
	if s.cfg.SyncBN && stats != nil {
		stats(red.SumStats)
	}
	return nil
}

// settingFields returns the settings every rank must share, one field per
// flag; the rest (--workers, --out, --name, --checkpoint-every) are a
// rank's own business or rank 0's.
func settingFields(cfg run.Config) []dist.Field {
	cfg.Workers, cfg.Out, cfg.Name, cfg.CheckpointEvery = 0, "", "", 0
	b, _ := json.Marshal(cfg)
	var m map[string]any
	json.Unmarshal(b, &m)
	keys := slices.Sorted(maps.Keys(m))
	out := make([]dist.Field, len(keys))
	for i, k := range keys {
		out[i] = dist.Field{Name: "--" + strings.ReplaceAll(k, "_", "-"), Value: fmt.Sprint(m[k])}
	}
	return out
}

// broadcastModel gives every rank rank 0's parameters and buffers.
func (s *session) broadcastModel() error {
	for _, p := range nn.NamedParams(s.model) {
		if err := dist.BroadcastFloats(s.rep.comm, p.Var.Data(), 0); err != nil {
			return fmt.Errorf("task: broadcasting %s: %w", p.Name, err)
		}
	}
	return nil
}

// syncBuffers returns a callback that gives every rank rank 0's buffers
// (batch norm's running statistics) after every step, as DDP broadcasts
// them before every forward: each rank normalises with its own shard's
// statistics in training, and all evaluate with rank 0's. nil when the
// model has no buffers.
func (s *session) syncBuffers() train.Callback {
	var bufs [][]float32
	for _, p := range nn.NamedParams(s.model) {
		if p.Buffer && !p.Int {
			bufs = append(bufs, p.Var.Data())
		}
	}
	if len(bufs) == 0 {
		return nil
	}
	broadcast := func() error {
		for _, b := range bufs {
			if err := dist.BroadcastFloats(s.rep.comm, b, 0); err != nil {
				return &train.ReplicaError{Err: err}
			}
		}
		return nil
	}
	return train.Funcs{Step: func(*train.Loop, train.StepInfo) error {
		if dc, ok := s.learner.(*device.Classifier); ok {
			return dc.SyncBuffers(broadcast) // the statistics live on the device
		}
		return broadcast()
	}}
}

// rankGenerators returns every rank's dropout generators, for rank 0's
// checkpoint; nil in one process. Every rank must call it at the same
// step.
func (s *session) rankGenerators() ([]map[string]string, error) {
	if s.rep == nil {
		return nil, nil
	}
	b, _ := json.Marshal(s.gens.Save())
	all, err := dist.GatherBytes(s.rep.comm, b)
	if err != nil {
		return nil, &train.ReplicaError{Err: err}
	}
	out := make([]map[string]string, len(all))
	for r, b := range all {
		if err := json.Unmarshal(b, &out[r]); err != nil {
			return nil, fmt.Errorf("task: rank %d's generators: %w", r, err)
		}
	}
	return out, nil
}

// restoreRank checks that a resumed run has the ranks it was saved with,
// and loads this rank's dropout generators.
func (s *session) restoreRank(st *run.State) error {
	saved := max(st.Ranks, 1)
	if saved != s.ranks() {
		return fmt.Errorf("the run trained on %d ranks and is resumed on %d; resume it with the same number (mpirun -np %d), for it to end as it would have", saved, s.ranks(), saved)
	}
	if s.rep == nil {
		return s.gens.Load(st.RNG)
	}
	if len(st.RankRNG) != s.ranks() {
		return errors.New("the state lacks the ranks' dropout generators")
	}
	return s.gens.Load(st.RankRNG[s.rank()])
}

// checkReplicas returns a callback that checks, every n steps, that all
// ranks hold the same parameters to the bit (dist.SameBits).
func (s *session) checkReplicas(n int) train.Callback {
	return train.EveryNSteps(n, func(l *train.Loop) error {
		if err := train.SyncToHost(s.learner); err != nil { // a device's weights
			return err
		}
		r, err := dist.SameBits(s.rep.comm, s.model.ParamSet().Data)
		if err != nil {
			return &train.ReplicaError{Err: err}
		}
		if r >= 0 {
			return fmt.Errorf("task: after step %d rank %d's parameters differ from rank 0's", l.Pos.Step, r)
		}
		return nil
	})
}
