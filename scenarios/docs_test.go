package scenarios

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Documentation convention checked by TestDocsCoverEveryKey: every YAML key of
// the schema appears in docs/scenario.md as its full key path in backticks,
// with list elements written "[]":
//
//	`nodes[].slots.medium`, `labels.ttl.ready_for_pickup`, `neighborhoods[].center.lat`
//
// Types whose fields are written the same way wherever they are used are
// documented once, under a pseudo-root, and only the places they are used are
// listed by full path:
//
//	Dist  -> `<dist>.median`, `<dist>.quantiles`, ...  (and `fulfilment.pick_time`, ...)
//
// Types with their own YAML syntax (Duration, ClockTime, Fraction, Hours,
// Date, h3 cells) are leaves; maps (sku_mix) are leaves too, their keys being
// data.
var sharedDocTypes = map[reflect.Type]string{
	reflect.TypeOf(Dist{}): "<dist>",
}

func docKeyPaths() []string {
	var out []string
	done := map[reflect.Type]bool{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			path := name
			if prefix != "" {
				path = prefix + "." + name
			}
			out = append(out, path)
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if root, ok := sharedDocTypes[ft]; ok {
				if !done[ft] {
					done[ft] = true
					walk(ft, root)
				}
				continue
			}
			if reflect.PointerTo(ft).Implements(unmarshalerType) {
				continue
			}
			switch {
			case ft.Kind() == reflect.Struct:
				walk(ft, path)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && !reflect.PointerTo(ft.Elem()).Implements(unmarshalerType):
				walk(ft.Elem(), path+"[]")
			}
		}
	}
	walk(reflect.TypeOf(Scenario{}), "")
	return out
}

func TestDocsCoverEveryKey(t *testing.T) {
	data, err := os.ReadFile("../docs/scenario.md")
	require.NoError(t, err)
	doc := string(data)
	paths := docKeyPaths()
	require.Greater(t, len(paths), 100)
	for _, p := range paths {
		assert.Contains(t, doc, "`"+p+"`", "docs/scenario.md does not document key %s", p)
	}
}

// Every yaml tag is a snake_case key and no two fields of a struct share one.
func TestYAMLTags(t *testing.T) {
	for _, p := range docKeyPaths() {
		last := p[strings.LastIndex(p, ".")+1:]
		assert.Equal(t, strings.ToLower(last), last, p)
		assert.NotContains(t, last, "-", p)
	}
}
