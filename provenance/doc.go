// Package provenance exports a smart label's provenance chain as a compact,
// signed token a third party can check without access to lockstep: which
// nodes held the parcel, when, through which transitions, and (for reusable
// packaging) in which box.
//
// # Use
//
//	pub, priv, _ := provenance.GenerateKey(nil)           // or LoadPrivateKey / LoadPublicKey
//	c := provenance.FromLabel(label, "L-42", nodeName, realInstant)
//	tok, _ := provenance.Sign(priv, c)                     // a base64url string
//	got, err := provenance.Verify(tok, pub)                // err is a *VerifyError saying why
//
// The command line wraps this: `lockstep keygen --out DIR` writes a key pair,
// `lockstep verify TOKEN|@FILE --pubkey FILE` checks a token, and the twin
// writes tokens for finished labels (`lockstep twin --tokens DIR
// --tokens-key FILE`) and serves them (GET /v1/labels/{id}/token).
//
// # Token format (version 1)
//
// A token is the unpadded base64url encoding (RFC 4648 §5, no "=") of
// payload || signature. The payload is a canonical binary encoding, so the
// same custody always gives the same bytes (and, Ed25519 being
// deterministic, the same token):
//
//	version      1 byte, 1
//	key id       8 bytes: the first 8 bytes of SHA-256(public key)
//	label        string: the label's id (production's id in the twin)
//	box          string: the reusable box id, "" when single-use packaging
//	n            uvarint: number of transitions (at least 1)
//	n times:
//	  state      string: the state entered ("issued", "picked_up", ... as in model.State)
//	  reason     string: why ("order", "pickup", "ttl_expired", ... as in model.Reason)
//	  node       string: the node id where it happened ("hub" outside the network)
//	  at         varint (zig-zag): milliseconds since the Unix epoch, UTC
//	  link       16 bytes: the hash link of this transition
//	signature    64 bytes: Ed25519 over "lockstep provenance token v1\x00" || payload
//
// where string is a uvarint byte length followed by UTF-8 bytes. The hash
// link of transition i is the first 16 bytes of
// SHA-256(link(i-1) || string(state) || string(reason) || string(node) ||
// 8-byte big-endian at), and link(-1) is SHA-256("lockstep provenance v1"
// || string(label)), so the chain is bound to its label: editing, dropping,
// inserting or reordering a transition breaks every link from it on.
//
// # Verification
//
// Verify checks, in order, and stops at the first failure with a
// *VerifyError whose Kind says which check failed and whose message says
// where: the encoding (ErrMalformed: not base64url, trailing bytes, a bad
// field), its length (ErrTruncated: the token ends inside a field or inside
// the signature), the version (ErrVersion), the key (ErrForeignKey: signed
// by a key other than the one given), the hash chain (ErrChain: the first
// transition whose link does not match), then the signature (ErrSignature:
// the label, the box or the bytes were altered after signing, or the
// signature itself). An intact token returns its Custody.
//
// # Keys
//
// LoadPrivateKey and LoadPublicKey read PEM ("PRIVATE KEY", PKCS #8;
// "PUBLIC KEY", PKIX — what `openssl genpkey -algorithm ed25519` writes) or
// raw bytes: a private key file of 32 bytes (the seed) or 64 bytes (seed ||
// public key), a public key file of 32 bytes. WriteKeyPair writes PEM
// files provenance.key (mode 0600) and provenance.pub (mode 0644) and
// never overwrites. Key material is never logged or printed; the key id is.
//
// Signing costs one Ed25519 signature (tens of microseconds) per token and
// happens only when a token is asked for: the simulator never signs, the
// twin signs off the core's hot path (twin/tokens.go).
package provenance
