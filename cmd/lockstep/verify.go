package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lockstep-sim/lockstep/provenance"
)

func init() { register(newVerifyCmd) }

func newVerifyCmd() *cobra.Command {
	var pubPath string
	cmd := &cobra.Command{
		Use:   "verify TOKEN|@FILE --pubkey FILE",
		Short: "Check a label's provenance token and print its custody",
		Long: `Verify checks a provenance token (a label's custody signed with Ed25519, as
the twin writes with --tokens or serves at GET /v1/labels/{id}/token) against
a public key, and prints the custody: the label, its reusable box if any, and
every transition (instant, state, node, reason).

TOKEN is the token itself, or @FILE to read it from a file ("-" or @- reads
stdin). The public key file is PEM ("PUBLIC KEY", as lockstep keygen writes)
or the raw 32 bytes.

Exit 0: the token is intact (key, hash chain and signature check).
Exit 1: the token is rejected; stderr says why, one of
  malformed               not a token (not base64url, trailing bytes, a bad field)
  truncated               the token was cut short (inside which field)
  unsupported version     a format version this lockstep does not read
  foreign key             signed by another key (both key ids are printed)
  tampered (hash chain)   the first transition whose hash link is broken
  tampered (signature)    content altered after signing (label, box or bytes)
Exit 2: usage errors (no token, no or unreadable --pubkey).

The token format is documented in the provenance package (go doc
./provenance) and docs/twin.md.`,
		Example: `  lockstep verify @tokens/L-000042.token --pubkey keys/provenance.pub
  curl -s localhost:8080/v1/labels/L-000042/token | jq -r .token | lockstep verify - --pubkey keys/provenance.pub`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if pubPath == "" {
				return badInput(errors.New("verify: --pubkey FILE is required"))
			}
			pub, err := provenance.LoadPublicKey(pubPath)
			if err != nil {
				return badInput(fmt.Errorf("verify: %w", err))
			}
			tok, err := readToken(cmd, args[0])
			if err != nil {
				return badInput(fmt.Errorf("verify: %w", err))
			}
			if strings.TrimSpace(tok) == "" {
				return badInput(errors.New("verify: no token (empty argument or file)"))
			}
			got, err := provenance.Verify(tok, pub)
			if err != nil {
				return failed(fmt.Errorf("verify: token rejected: %w", err))
			}
			fmt.Fprint(cmd.OutOrStdout(), got.Summary())
			return nil
		},
	}
	cmd.Flags().StringVar(&pubPath, "pubkey", "", "public key file (PEM or raw 32 bytes; required)")
	return cmd
}

// readToken returns the token argument, or the content of @FILE, or stdin
// for "-" and "@-".
func readToken(cmd *cobra.Command, arg string) (string, error) {
	var b []byte
	var err error
	switch {
	case arg == "-" || arg == "@-":
		b, err = io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return "", fmt.Errorf("stdin: %w", err)
		}
		return string(b), nil
	case strings.HasPrefix(arg, "@"):
		b, err = os.ReadFile(arg[1:])
		if err != nil {
			return "", fmt.Errorf("token file: %w", err)
		}
		return string(b), nil
	}
	return arg, nil
}
