package wire

import (
	"embed"
	"io/fs"
)

// SchemaBaseURL is the base of the $id of every schema file.
const SchemaBaseURL = "https://lockstep-sim.github.io/lockstep/schema/v1/"

//go:embed schema/*.schema.json
var schemaFiles embed.FS

// SchemaFS holds the JSON Schema (draft 2020-12) files of the feed:
// envelope.schema.json and one {type}.schema.json per message type. They
// are the canonical copies; docs/schema/ mirrors them byte for byte.
func SchemaFS() fs.FS {
	sub, err := fs.Sub(schemaFiles, "schema")
	if err != nil {
		panic(err) // cannot happen: the directory is embedded
	}
	return sub
}

// SchemaFile is the name of the schema file of message type t in SchemaFS.
func SchemaFile(t Type) string { return string(t) + ".schema.json" }
