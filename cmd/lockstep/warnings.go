package main

import (
	"fmt"
	"io"

	"github.com/lockstep-sim/lockstep/scenarios"
)

// printWarnings writes a loaded scenario's warnings to w (stderr), one per
// line as FILE:LINE:COLUMN: warning: FIELD.PATH: message. Warnings never
// change a command's exit status.
func printWarnings(w io.Writer, s *scenarios.Scenario) {
	for _, e := range s.Warnings() {
		fmt.Fprintln(w, e.Warning())
	}
}
