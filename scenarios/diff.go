package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParamDiff is one parameter whose value differs between scenario files: its
// path, spelled as Path and Error.Path spell it (couriers.fleet,
// nodes[L1].slots.small), and its value in each file as written ("" when the
// file does not set it, so the default applies).
type ParamDiff struct {
	Path   string   `json:"path"`
	Values []string `json:"values"`
}

// diffSkip are the top-level keys that name or describe a scenario rather
// than parametrise it.
var diffSkip = map[string]bool{"name": true, "description": true}

// DiffFiles is DiffYAML of the files at paths.
func DiffFiles(paths []string) ([]ParamDiff, error) {
	data := make([][]byte, len(paths))
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("scenarios: %w", err)
		}
		data[i] = b
	}
	return DiffYAML(paths, data)
}

// DiffYAML compares scenario documents structurally: every scalar (and every
// list of scalars, as one value) is keyed by its path, list elements by id
// or name when they have one (so reordering nodes is no difference), merge
// keys and aliases resolved; it returns the paths whose values differ, in
// the order they first appear (the first file's order, then what only later
// files set). The scenarios' name and description are left out.
func DiffYAML(names []string, data [][]byte) ([]ParamDiff, error) {
	if len(names) != len(data) {
		return nil, errors.New("scenarios: DiffYAML needs one name per document")
	}
	flat := make([]map[string]string, len(data))
	var order []string
	seen := map[string]bool{}
	for i, b := range data {
		var root yaml.Node
		if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&root); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("scenarios: %s: %w", names[i], err)
		}
		flat[i] = map[string]string{}
		if len(root.Content) == 0 {
			continue
		}
		var keys []string
		flatten(deref(root.Content[0]), "", flat[i], &keys, 0)
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				order = append(order, k)
			}
		}
	}
	var out []ParamDiff
	for _, k := range order {
		d := ParamDiff{Path: k, Values: make([]string, len(flat))}
		same := true
		_, set0 := flat[0][k]
		for i, m := range flat {
			v, ok := m[k]
			d.Values[i] = v
			if ok != set0 || v != d.Values[0] {
				same = false
			}
		}
		if !same {
			out = append(out, d)
		}
	}
	return out, nil
}

// flatten records every leaf of n under path.
func flatten(n *yaml.Node, path string, out map[string]string, keys *[]string, depth int) {
	if depth > 64 {
		return
	}
	set := func(v string) {
		if _, dup := out[path]; !dup {
			*keys = append(*keys, path)
		}
		out[path] = v
	}
	switch n.Kind {
	case yaml.MappingNode:
		pairs := mappingPairs(n, nil)
		if len(pairs) == 0 {
			set("{}")
			return
		}
		for _, p := range pairs {
			k := deref(p.key)
			if path == "" && diffSkip[k.Value] {
				continue
			}
			flatten(deref(p.val), joinKey(path, k.Value), out, keys, depth+1)
		}
	case yaml.SequenceNode:
		scalars := true
		for _, c := range n.Content {
			if deref(c).Kind != yaml.ScalarNode {
				scalars = false
				break
			}
		}
		if scalars {
			vals := make([]string, len(n.Content))
			for i, c := range n.Content {
				vals[i] = deref(c).Value
			}
			set("[" + strings.Join(vals, ", ") + "]")
			return
		}
		ids := make([]string, len(n.Content))
		for i, c := range n.Content {
			c = deref(c)
			if c.Kind != yaml.MappingNode {
				continue
			}
			for _, p := range mappingPairs(c, nil) {
				if k := deref(p.key).Value; k == "id" || (k == "name" && ids[i] == "") {
					if v := deref(p.val); v.Kind == yaml.ScalarNode {
						ids[i] = v.Value
					}
				}
			}
		}
		for i, l := range elemLabels(ids) {
			flatten(deref(n.Content[i]), elemPath(path, l), out, keys, depth+1)
		}
	case yaml.ScalarNode:
		if isNull(n) {
			set("null")
			return
		}
		set(n.Value)
	}
}
