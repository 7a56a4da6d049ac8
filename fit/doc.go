// Package fit turns what the twin recorded into a calibrated scenario, and
// checks that the scenario reproduces the period it was fitted on ("from
// shadow to plan"; docs/fit.md).
//
// It reads a twin's journal or a capture through the twin's own ingest
// (twin.Ingest: wire.Decode, quarantine, de-duplication, ordering), on the
// network's local clock, and fits the network's inputs:
//
//   - demand: orders per day per neighborhood (Poisson maximum likelihood;
//     an order's neighborhood from its customer_cell, split by EM where
//     neighborhoods overlap), the hourly profile, the weekday profile
//     (demand_calendar.weekday; the network's peaks are exposure), the SKU mix;
//   - pickup: the delay from the ready notification to the pickup, as a
//     mixture of a family (exponential, lognormal, gamma, Weibull, chosen by
//     AIC, checked by Kolmogorov–Smirnov against Kaplan–Meier; empirical
//     quantiles when the check fails) and a never-come share (no_show), with
//     right-censoring (still waiting at the window's end, moved on) and
//     interval-censoring (picked up when a closed node opened);
//   - couriers' speed: hand-off to first arrival regressed on distance;
//   - per node, MTBF and MTTR from its status messages.
//
// Use:
//
//	net, err := fit.LoadNetwork("network.yaml")
//	obs, err := fit.ReadCapture(net, "feed.ndjson")  // or fit.ReadJournal(net, dataDir)
//	res, err := fit.Fit(net, obs, fit.Options{})      // the feed's whole days
//	yaml, err := res.YAML()                           // the network file, fitted and commented
//	v, err := res.Validate(ctx, yaml, fit.ValidateOptions{Replications: 10})
//	v.Print(os.Stdout)
//
// A value with too few samples keeps the network's value, and the written
// file says why; a feed that is empty, too short or of another network is an
// error. The same input gives the same bytes.
package fit
