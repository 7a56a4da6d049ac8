package provenance_test

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/lockstep-sim/lockstep/provenance"
)

// A label's custody signed, verified, then tampered with.
func Example() {
	// a deterministic key for the example; use provenance.WriteKeyPair or
	// `lockstep keygen` for real keys
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)

	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c := provenance.Custody{Label: "L-42", Transitions: []provenance.Transition{
		{State: "issued", Reason: "order", Node: "ms-1", At: t0},
		{State: "ready_for_pickup", Reason: "arrived", Node: "locker-3", At: t0.Add(50 * time.Minute)},
		{State: "picked_up", Reason: "pickup", Node: "locker-3", At: t0.Add(8 * time.Hour)},
	}}
	tok, err := provenance.Sign(priv, c)
	if err != nil {
		fmt.Println(err)
		return
	}
	got, err := provenance.Verify(tok, pub)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(got.Summary())

	_, err = provenance.Verify(tok[:len(tok)-20], pub)
	var ve *provenance.VerifyError
	if errors.As(err, &ve) {
		fmt.Println(ve.Kind)
	}
	// Output:
	// label L-42: intact (Ed25519 signature and hash chain verified), key 139e3940e64b5491
	//    1  2026-12-01T09:00:00.000Z  issued            ms-1          order
	//    2  2026-12-01T09:50:00.000Z  ready_for_pickup  locker-3      arrived
	//    3  2026-12-01T17:00:00.000Z  picked_up         locker-3      pickup
	// custody: 3 transitions, picked_up at locker-3 since 2026-12-01T17:00:00Z
	// truncated
}
