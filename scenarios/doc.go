// Package scenarios is the YAML schema (version 1) in which planners write
// pilot scenarios: strict loading, defaults and validation.
//
// Load and Parse decode a file through yaml.Node, so every problem (unknown
// field, wrong type, bad unit, out-of-range value, dangling reference) is
// reported with file, line, column and field path, all of them at once:
//
//	scenarios/pilot.yaml:42:7: nodes[L3].slots.medium: must be >= 0 (got -2)
//
// Units are written the way people write them: durations "45m", "1h30m", "7d"
// (Duration), clock times "14:00" (ClockTime), shares "0.2" or "20%"
// (Fraction), opening hours "08:00-20:00" or "24h" (Hours), dates
// "2026-03-02" (Date). docs/scenario.md documents every field.
//
// The example files beside this package (quickstart.yaml,
// pilot-5-neighborhoods.yaml, bench/*.yaml) are loaded by the tests; the bench
// files are generated:
//
//go:generate go run ./bench/gen.go -dir bench
package scenarios
