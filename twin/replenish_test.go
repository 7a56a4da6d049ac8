package twin

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// An order's customer_cell reaches the core's demand heatmap; an order
// without one (an older feed) counts at its destination's cell.
func TestOrderCustomerCellFeedsTheHeatmap(t *testing.T) {
	f := newFeed(t)
	d, _ := newDriver(t, DriverConfig{})
	cust, err := model.CellAt(52.5060, 13.4050, d.net.Resolution)
	require.NoError(t, err)
	order := func(label, cell string, m int64) *Message {
		return messages(t, f.msg("prod-oms", min_(m), wire.Order{OrderID: "O" + label, LabelID: label, SKU: "S01", Size: wire.SizeS,
			Node: "M1", Destination: "L1", PlacedAt: min_(m), SameDay: true, SLADeadline: min_(m + 600), CustomerCell: cell}))[0]
	}
	d.Apply(order("L-A", cust.String(), 0))
	assert.Equal(t, []model.Cell{cust}, d.core.HeatCells())
	d.Apply(order("L-B", "", 1))
	l1, ok := d.net.NodeIndexOf("L1")
	require.True(t, ok)
	assert.Equal(t, []model.Cell{cust, d.net.Nodes[l1].Cell}, d.core.HeatCells())
}
