// Package tune is kiln's hyperparameter search: a search space read from
// YAML or JSON, samplers (grid, random, TPE), pruners (median rule and
// asynchronous successive halving), and studies whose trials live in a
// Storage so that a killed search resumes and several workers, in one
// process or many, share one study.
//
// tune knows nothing of training: the caller supplies an Objective that
// maps a Trial's parameters to a number (validation accuracy, a
// cross-validation mean) and reports per-epoch values for pruning. The
// SQL storages (SQLite by default, PostgreSQL for shared studies) live in
// tune/sqlstore so that this package stays free of database drivers.
//
// A typical caller:
//
//	space, err := tune.LoadSpace("space.yaml")
//	store, err := sqlstore.Open(ctx, "study.db")
//	study, err := tune.OpenStudy(ctx, store, tune.StudyConfig{
//		Name: "lenet", Direction: tune.Maximize, Space: space,
//		Sampler: tune.NewTPE(tune.TPEConfig{}), Pruner: tune.NewMedianPruner(tune.MedianConfig{}),
//	})
//	err = tune.Optimize(ctx, study, func(ctx context.Context, t *tune.Trial) (float64, error) {
//		for epoch := 1; epoch <= epochs; epoch++ {
//			acc := trainOneEpoch(t.Params())
//			if err := t.Report(epoch, acc); err != nil {
//				return 0, err
//			}
//			if t.ShouldPrune() {
//				return acc, tune.ErrPruned
//			}
//		}
//		return acc, nil
//	}, 50, 4)
package tune
