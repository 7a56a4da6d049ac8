// Command lockstep simulates same-day micro-delivery pilots and runs the
// digital twin beside production lockers. Run `lockstep --help`.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lockstep-sim/lockstep/internal/gctune"
)

// Exit codes, as CI systems read them.
const (
	exitOK    = 0 // everything passed
	exitFail  = 1 // a run or a check failed
	exitUsage = 2 // bad input or usage
	// exitInconclusive: lockstep check found no regression but could not
	// decide some checks (worse beyond the tolerance, not significant).
	exitInconclusive = 3
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func badInput(err error) error { return &exitError{exitUsage, err} }
func failed(err error) error   { return &exitError{exitFail, err} }

func inconclusive(err error) error { return &exitError{exitInconclusive, err} }

func main() {
	// Keep the collector's headroom at 64 MiB for a large live heap (a
	// big city's parcels in flight) instead of doubling it; GOGC or
	// GOMEMLIMIT in the environment turn this off (internal/gctune).
	gctune.Default.Start()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(stderr, "lockstep:", ee.err)
		}
		return ee.code
	}
	// cobra's own errors: unknown command, bad flag, wrong number of args
	fmt.Fprintln(stderr, "lockstep:", err)
	fmt.Fprintln(stderr, "Run 'lockstep --help' for usage.")
	return exitUsage
}
