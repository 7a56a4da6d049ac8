package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lockstep-sim/lockstep/scenarios"
)

func init() { register(newValidateCmd) }

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check scenario files against the v1 schema",
		Long: `Validate strictly decodes each scenario file and checks every value.
Each problem is printed as FILE:LINE:COLUMN: FIELD.PATH: message, all of them
at once, sorted by line. A valid file prints one OK line; values that are
valid but suspicious (a node no neighborhood can reach, a node at 0,0 or far
from every neighborhood, demand above 10^7 parcels a day) are printed to
stderr as FILE:LINE:COLUMN: warning: FIELD.PATH: message and do not change
the exit status.

Exit 0 when every file is valid, 2 otherwise.`,
		Example: `  lockstep validate scenarios/*.yaml`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, path := range args {
				s, err := scenarios.Load(path)
				if err != nil {
					bad++
					var errs scenarios.Errors
					if errors.As(err, &errs) {
						for _, e := range errs {
							fmt.Fprintln(cmd.ErrOrStderr(), e.Error())
						}
					} else {
						fmt.Fprintln(cmd.ErrOrStderr(), err)
					}
					continue
				}
				printWarnings(cmd.ErrOrStderr(), s)
				fmt.Fprintf(cmd.OutOrStdout(), "OK %s (%s: %d neighborhoods, %d nodes, %d SKUs, horizon %s)\n",
					path, s.Name, len(s.Neighborhoods), len(s.Nodes), len(s.SKUs), s.Horizon)
			}
			if bad > 0 {
				return badInput(fmt.Errorf("%d of %d scenario files invalid", bad, len(args)))
			}
			return nil
		},
	}
}
