// Package sweep runs factorial grids over scenario paths: every combination
// of the values given for a few fields of a base scenario, each combination
// (a grid point) for R replications with the same seed, so that points differ
// only by their parameters (common random numbers).
//
// A parameter is a [scenarios.Path], spelled exactly as scenario errors spell
// the field (couriers.fleet, nodes[L1].slots.medium,
// neighborhoods[*].orders_per_day), with values written as YAML scalars (12h,
// 20%, "14:00"). [New] checks a definition up front: every path must name a
// scalar field, every value must have its type and every grid point must be a
// valid scenario; problems name the path and the value.
//
// The work is points × replications items. Item k is replication k mod R of
// grid point k div R, and its random streams depend only on (seed,
// replication, stream name), so an item gives the same numbers wherever it
// runs. A [Shard] I of N runs the items k with k mod N = I and streams them to
// a shard file; [MergeShards] checks that a set of shard files is one complete
// split of one definition (by [DefinitionHash]) and writes sweep.json,
// sweep.csv and the plots, byte for byte what [Run] writes on one machine:
//
//	def := sweep.Def{BaseName: "quickstart.yaml", Base: data, Replications: 10,
//		Vary: []sweep.Vary{{Path: "couriers.fleet", Values: []string{"2", "3", "4"}}}}
//	sw, err := sweep.New(def)
//	// on one machine
//	out, err := sweep.Run(ctx, sw, "out/sweep", sweep.Options{})
//	// or as shards, e.g. the pods of a Kubernetes Indexed Job, then a merge
//	path, err := sweep.RunShardFile(ctx, sw, sweep.Shard{Index: i, Count: n}, "shards", sweep.Options{})
//	out, err = sweep.MergeShards(paths, "out/sweep", "")
//
// Results stream: a shard file is written item by item in item order and
// merged point by point, so memory stays flat however large the grid. The
// plots (one metric against each parameter, one line per combination of the
// others, 95% CI bars) are drawn by package results. It imports experiment
// (one replication), scenarios and results; the command line's sweep and
// merge only parse flags and call it. docs/sweep.md is the user's guide.
package sweep
