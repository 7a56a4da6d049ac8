package scenarios

// warnFloorArea flags a floor area on a node without a cache: only cached
// inventory has floor area in the results (rsmi's m²-days, space_cost), so
// the value would change nothing.
func (c *checker) warnFloorArea() {
	labels := c.nodeLabels()
	for i := range c.s.Nodes {
		n := &c.s.Nodes[i]
		if n.FloorAreaM2 > 0 && len(n.Cache) == 0 {
			c.warnf(elemPath("nodes", labels[i])+".floor_area_m2",
				"counts only with a cache (rsmi's m²-days, space_cost); the node has none, so it changes nothing")
		}
	}
}
