package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
)

// packagingBase is base with a microstore, a tote template S01 packs in,
// and a packaging section.
var packagingBase = strings.Replace(strings.Replace(base, "skus:", `  - id: M1
    kind: microstore
    lat: 52.50
    lng: 13.40
skus:`, 1), "{id: S01, size: small, price: 5}", "{id: S01, size: small, price: 5, packing: tote}", 1) + `packing_templates:
  - id: tote
packaging:
  reusable:
    - template: tote
      pool: 30
      single_use_mass_kg: 0.2
  return_at_pickup: 60%
  return_later: 30%
  lost: 1%
  damaged: 2%
  costs:
    single_use: 0.35
    reusable_use: 0.08
    wash: 0.12
    box_lost: 4.5
`

func TestPackagingBuild(t *testing.T) {
	s, err := Parse("p.yaml", []byte(packagingBase))
	require.NoError(t, err)
	net, err := s.Network()
	require.NoError(t, err)
	require.NotNil(t, net.Packaging)
	assert.Equal(t, []model.BoxType{{ID: "tote", Size: model.Small, Pool: 30, MassKg: 0.2}}, net.Packaging.Types)
	assert.Equal(t, []int8{0}, net.Packaging.SKUType)
	cfg, err := s.Config()
	require.NoError(t, err)
	require.NotNil(t, cfg.Packaging)
	assert.Equal(t, sim.Packaging{ReturnAtPickup: 0.6, ReturnLater: 0.3, Lost: 0.01, Damaged: 0.02,
		ReturnDelay: sim.Dist{Kind: sim.Exponential, Mean: 24 * model.Hour},
		Costs:       sim.PackagingCosts{SingleUse: 0.35, ReusableUse: 0.08, Wash: 0.12, BoxLost: 4.5}}, *cfg.Packaging)

	// every key reaches the model or the simulator
	edit := func(old, new string) *Scenario {
		require.Contains(t, packagingBase, old)
		s, err := Parse("p.yaml", []byte(strings.Replace(packagingBase, old, new, 1)))
		require.NoError(t, err)
		return s
	}
	net2, err := edit("      pool: 30\n", "      pool: 30\n      box_size: large\n").Network()
	require.NoError(t, err)
	assert.Equal(t, model.Large, net2.Packaging.Types[0].Size)
	cfg2, err := edit("  lost: 1%\n", "  lost: 1%\n  return_delay: {dist: constant, mean: 3h}\n").Config()
	require.NoError(t, err)
	assert.Equal(t, sim.Dist{Kind: sim.Constant, Mean: 3 * model.Hour}, cfg2.Packaging.ReturnDelay)

	// without the section: nothing
	plain, err := Parse("base.yaml", []byte(base))
	require.NoError(t, err)
	pn, err := plain.Network()
	require.NoError(t, err)
	assert.Nil(t, pn.Packaging)
	pc, err := plain.Config()
	require.NoError(t, err)
	assert.Nil(t, pc.Packaging)
}

func TestPackagingBadInputs(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		path     string
		msg      string
	}{
		{"unknown key", "  lost: 1%\n", "  lost: 1%\n  loss: 2%  # <-\n", "packaging.loss", "unknown field"},
		{"unknown template", "    - template: tote\n", "    - template: crate  # <-\n", "packaging.reusable[0].template", "unknown packing template"},
		{"negative pool", "      pool: 30\n", "      pool: -1  # <-\n", "packaging.reusable[0].pool", "must be 0..1000000"},
		{"bad box size", "      pool: 30\n", "      pool: 30\n      box_size: huge  # <-\n", "packaging.reusable[0].box_size", "small, medium or large"},
		{"negative mass", "      single_use_mass_kg: 0.2\n", "      single_use_mass_kg: -0.2  # <-\n", "packaging.reusable[0].single_use_mass_kg", ">= 0"},
		{"returns over 100%", "  return_later: 30%\n", "  return_later: 50%  # <-\n", "packaging.return_later", "<= 100%"},
		{"share out of range", "  lost: 1%\n", "  lost: 120%  # <-\n", "packaging.lost", "between 0 and 1"},
		{"negative cost", "    wash: 0.12\n", "    wash: -0.12  # <-\n", "packaging.costs.wash", ">= 0"},
		{"unused template", "{id: S01, size: small, price: 5, packing: tote}", "{id: S01, size: small, price: 5}",
			"packaging.reusable[0].template", "no SKU packs in template tote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, packagingBase, tt.old, "bad test: snippet not in packagingBase")
			doc := strings.Replace(packagingBase, tt.old, tt.new, 1)
			_, found := parseErrorAt(t, doc, tt.path)
			assert.Contains(t, found.Msg, tt.msg)
			assert.Equal(t, "bad.yaml", found.File)
			if strings.Contains(doc, "# <-") {
				assert.Equal(t, markedLine(t, doc), found.Line, "line of %v", found)
			} else {
				assert.Positive(t, found.Line)
			}
		})
	}
	// no microstore
	noMS := strings.Replace(packagingBase, "  - id: M1\n    kind: microstore\n", "  - id: M1\n    kind: partner\n", 1)
	_, found := parseErrorAt(t, noMS, "packaging")
	assert.Contains(t, found.Msg, "microstore")
}
