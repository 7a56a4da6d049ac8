package main

import (
	"io"

	"github.com/spf13/cobra"
)

// commands holds the constructors of every subcommand. Each
// command's file registers itself in an init function, so adding a command
// touches only its own file.
var commands []func() *cobra.Command

func register(c func() *cobra.Command) { commands = append(commands, c) }

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "lockstep",
		Short: "Simulate same-day micro-delivery pilots and shadow production lockers",
		Long: `lockstep is a discrete-event simulator and digital twin for same-day
micro-delivery: parcel lockers, partner storefronts, pop-ups and microstores
in H3-indexed neighborhoods, smart labels that carry each parcel's state, and
bike couriers. The real operating logic (the core) runs inside the simulator
and, unchanged, inside the twin.

Start here:
  lockstep validate scenarios/pilot-5-neighborhoods.yaml
  lockstep run scenarios/pilot-5-neighborhoods.yaml

Exit codes: 0 ok, 1 a run or check failed, 2 bad input or usage,
3 lockstep check found no regression but some checks were inconclusive.
Errors go to stderr, results to stdout.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	for _, c := range commands {
		root.AddCommand(c())
	}
	return root
}
