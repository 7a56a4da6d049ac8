package scenarios_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lockstep-sim/lockstep/scenarios"
)

func ExampleLoad() {
	s, err := scenarios.Load("quickstart.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Name, s.Horizon, s.Replications, "replications")
	fmt.Println("ready for pickup by", s.SLA.ReadyBy, "TTL", s.Labels.TTL.ReadyForPickup)
	fmt.Println("L1 slots:", s.NodeByID("L1").Slots.Medium, "medium, hours", s.NodeByID("L1").Hours)
	cells, _ := s.NeighborhoodCells(0)
	fmt.Println(s.Neighborhoods[0].Name, len(cells), "cells")
	fmt.Println("starts", s.StartInstant())

	// A broken file: every problem is reported, by line, with its field path.
	dir, _ := os.MkdirTemp("", "scenario")
	defer os.RemoveAll(dir)
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte(`name: broken
horizon: 2d
warmup: 3d
neighborhoods:
  - name: N1
    center: {lat: 95, lng: 13.4}
    orders_per_day: 10
    subscriber_share: 120%
nodes:
  - {id: L1, kind: locker, lat: 52.5, lng: 13.4, slots: {medium: 0}}
skus:
  - {id: S01, size: small, colour: red}
couriers: {fleet: 2}
`), 0o644)
	_, err = scenarios.Load(bad)
	var errs scenarios.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Printf("line %d: %s: %s\n", e.Line, e.Path, e.Msg)
		}
	}
	// Output:
	// quickstart 3d 2 replications
	// ready for pickup by 22:00 TTL 1d
	// L1 slots: 24 medium, hours 24h
	// Kreuzberg 19 cells
	// starts 2026-03-02T00:00:00.000Z
	// line 3: warmup: must be shorter than the horizon 2d (got 3d)
	// line 6: neighborhoods[N1].center.lat: latitude must be within [-90, 90] (got 95)
	// line 8: neighborhoods[N1].subscriber_share: must be between 0 and 1 (0% to 100%) (got 120%)
	// line 10: nodes[L1].slots: a locker needs at least one slot (small + medium + large = 0)
	// line 12: skus[S01].colour: unknown field (known fields: id, packing, price, size)
}
