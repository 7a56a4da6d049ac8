package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lockstep-sim/lockstep/model"
)

func TestSizeConversion(t *testing.T) {
	for k := model.Small; k < model.NumSizes; k++ {
		assert.Equal(t, k, SizeOf(k).Class(), "round trip of %s", k)
	}
	assert.Equal(t, []Size{SizeS, SizeM, SizeL}, []Size{SizeOf(model.Small), SizeOf(model.Medium), SizeOf(model.Large)})
	assert.Equal(t, model.Large, SizeXL.Class(), "the core's largest class holds xl")
	assert.Equal(t, SizeM, SizeOf(model.NoSize))
}
