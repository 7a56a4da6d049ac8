package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lockstep-sim/lockstep/provenance"
)

func init() { register(newKeygenCmd) }

func newKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out DIR",
		Short: "Write an Ed25519 key pair for provenance tokens",
		Long: `Keygen writes a new Ed25519 key pair for signing provenance tokens:
DIR/provenance.key (the private key, PEM PKCS #8, mode 0600) and
DIR/provenance.pub (the public key, PEM PKIX, mode 0644). DIR is created
(mode 0700) if missing. It never overwrites an existing key file.

It prints the two paths and the key id (the first 8 bytes of the public key's
SHA-256, which every token carries); never the key material. Give the private
key to the twin (--tokens-key) and the public key to whoever verifies tokens
(lockstep verify --pubkey).

Exit 0 on success, 2 when DIR cannot be written or a key file exists.`,
		Example: `  lockstep keygen --out keys
  lockstep twin --network net.yaml --broker embedded --tokens tokens --tokens-key keys/provenance.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return badInput(fmt.Errorf("keygen: --out DIR is required"))
			}
			priv, pub, id, err := provenance.WriteKeyPair(out)
			if err != nil {
				return badInput(fmt.Errorf("keygen: %w", err))
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "private key %s (keep it secret)\n", priv)
			fmt.Fprintf(w, "public key  %s\n", pub)
			fmt.Fprintf(w, "key id      %s\n", id)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory for provenance.key and provenance.pub (required)")
	return cmd
}
