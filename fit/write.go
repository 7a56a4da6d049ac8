package fit

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lockstep-sim/lockstep/scenarios"
)

// YAML writes the fitted scenario: the network file with every fitted value
// replaced and commented (sample size, goodness of fit), every value that
// could not be fitted kept with a comment saying why, and the run set to
// the window (start, horizon, no warm-up). The output depends only on the
// network file and the observations: the same input gives the same bytes.
func (r *Result) YAML() ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(r.Net.Raw, &doc); err != nil {
		return nil, fmt.Errorf("fit: network %s: %w", r.Net.Path, err)
	}
	root := doc.Content[0]
	o := r.Obs
	head := []string{
		fmt.Sprintf("Fitted by `lockstep fit` from %s", o.Source),
		fmt.Sprintf("over %s .. %s (%d local days, %d orders; %d messages received, %d accepted, %d duplicates, %d quarantined).",
			dateOf(r.From), dateOf(r.To), r.Days, r.Orders, o.Counters.Received, o.Counters.Accepted, o.Counters.Duplicates, sumCounts(o.Quarantine)),
		fmt.Sprintf("Network file: %s. Values marked \"fitted\" come from the feed; \"kept\" ones are the network's, with the reason.", r.Net.Path),
		"Standard errors (±) are one SE; how each value is fitted: docs/fit.md.",
	}
	for _, n := range r.Notes {
		head = append(head, "Note: "+n)
	}
	root.HeadComment = "# " + strings.Join(head, "\n# ")
	if doc.HeadComment != "" {
		root.HeadComment = doc.HeadComment + "\n\n" + root.HeadComment
		doc.HeadComment = ""
	}

	set(root, "name", scalar(r.Net.Scenario.Name+"-fitted"), "the network's name, fitted (compare tells the two apart)")
	set(root, "start", scalar(dateOf(r.From)), "fitted window: first day")
	set(root, "horizon", scalar(fmt.Sprintf("%dd", r.Days)), "fitted window: its length")
	set(root, "warmup", scalar("0"), "the feed starts where the window does")

	hoods := get(root, "neighborhoods")
	for _, hf := range r.Hoods {
		item := findItem(hoods, "name", hf.Name)
		if item == nil {
			continue
		}
		if hf.OrdersPerDay > 0 {
			set(item, "orders_per_day", num(hf.OrdersPerDay, 2), hf.RateNote)
		} else {
			note(item, "orders_per_day", hf.RateNote)
		}
		if hf.Hourly != nil {
			set(item, "hourly", floats(hf.Hourly, 3), hf.HourlyNote)
		} else {
			note(item, "hourly", hf.HourlyNote)
		}
		if hf.SKUMix != nil {
			set(item, "sku_mix", mixNode(hf.SKUMix), hf.SKUNote)
		} else {
			note(item, "sku_mix", hf.SKUNote)
		}
		if hasSubscribers(r.Net.Scenario) {
			note(item, "subscriber_share", "kept from the network: the feed does not say who is a subscriber")
		}
	}
	switch cal := get(root, "demand_calendar"); {
	case r.Weekday != nil:
		cal = ensureMap(root, "demand_calendar")
		set(cal, "weekday", floats(r.Weekday, 3), r.WeekdayNote)
	case cal != nil && get(cal, "weekday") != nil:
		note(cal, "weekday", r.WeekdayNote)
	default:
		root.HeadComment += "\n# demand_calendar.weekday " + r.WeekdayNote
	}

	cust := ensureMap(root, "customers")
	pf := r.Pickup
	if pf.Chosen != nil {
		set(cust, "pickup_delay", r.pickupNode(), pf.Note)
		set(cust, "no_show", num(pf.Chosen.Q, 4), pf.NoShowNote)
	} else {
		note(cust, "pickup_delay", pf.Note)
		note(cust, "no_show", pf.NoShowNote)
	}
	var kinds []string
	for k, n := range pf.KindNote {
		kinds = append(kinds, k+": "+n)
	}
	sort.Strings(kinds)
	if len(kinds) > 0 {
		k := key(cust, "pickup_delay")
		k.HeadComment = joinComment(k.HeadComment, "by node kind (the scenario has one pickup delay for every kind):\n  "+strings.Join(kinds, "\n  "))
	}
	if hasSubscribers(r.Net.Scenario) {
		note(cust, "subscribers", "kept from the network: the feed does not say who is a subscriber")
	}

	cour := ensureMap(root, "couriers")
	if r.Speed.Kmh > 0 {
		set(cour, "speed_kmh", num(r.Speed.Kmh, 2), r.Speed.Note)
	} else {
		note(cour, "speed_kmh", r.Speed.Note)
	}

	nodes := get(root, "nodes")
	for _, nf := range r.Nodes {
		item := findItem(nodes, "id", nf.ID)
		if item == nil {
			continue
		}
		if nf.MTBF > 0 {
			c := ensureMap(item, "connectivity")
			if c.Style == 0 && len(c.Content) == 0 {
				c.Style = yaml.FlowStyle
			}
			set(c, "mtbf", scalar(fmtHours(nf.MTBF)), "")
			set(c, "mttr", scalar(fmtHours(nf.MTTR)), "")
			key(item, "connectivity").HeadComment = joinComment(key(item, "connectivity").HeadComment, nf.Note)
		} else if k := key(item, "connectivity"); k != nil {
			k.HeadComment = joinComment(k.HeadComment, nf.Note)
		} else {
			key(item, "id").HeadComment = joinComment(key(item, "id").HeadComment, "connectivity: "+nf.Note)
		}
	}

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("fit: write: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("fit: write: %w", err)
	}
	out := buf.Bytes()
	if _, err := scenarios.Parse("fitted.yaml", out); err != nil {
		return nil, fmt.Errorf("fit: the fitted scenario does not load (a bug; please report it): %w", err)
	}
	return out, nil
}

// pickupNode is the pickup delay distribution as YAML.
func (r *Result) pickupNode() *yaml.Node {
	pf := r.Pickup
	m := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	add := func(k string, v *yaml.Node) { m.Content = append(m.Content, scalar(k), v) }
	switch {
	case pf.Empirical != nil:
		add("dist", scalar("empirical"))
		q := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		prev := ""
		for _, h := range pf.Empirical {
			s := fmtHours(h)
			if prev != "" && parseH(s) < parseH(prev) {
				s = prev
			}
			q.Content = append(q.Content, scalar(s))
			prev = s
		}
		add("quantiles", q)
	case pf.Chosen.Family == "exponential":
		add("dist", scalar("exponential"))
		add("mean", scalar(fmtHours(pf.Chosen.Mean)))
	default: // lognormal
		d := pf.Chosen.Dist.(interface{ Median() float64 })
		add("dist", scalar("lognormal"))
		add("median", scalar(fmtHours(d.Median())))
		add("sigma", num(pf.Chosen.theta[1], 4, true))
	}
	return m
}

func parseH(s string) float64 {
	d, err := scenarios.ParseDuration(s)
	if err != nil {
		return 0
	}
	return d.Model().Hours()
}

func sumCounts(m map[string]uint64) uint64 {
	var s uint64
	for _, v := range m {
		s += v
	}
	return s
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

// num is a number rounded to dec decimals; with exp, th is a log value.
func num(v float64, dec int, exp ...bool) *yaml.Node {
	if len(exp) > 0 && exp[0] {
		v = expf(v)
	}
	return scalar(trimFloat(v, dec))
}

func floats(v []float64, dec int) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, x := range v {
		n.Content = append(n.Content, scalar(trimFloat(x, dec)))
	}
	return n
}

func mixNode(mix map[string]float64) *yaml.Node {
	ids := make([]string, 0, len(mix))
	for k := range mix {
		ids = append(ids, k)
	}
	sort.Strings(ids)
	n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	for _, id := range ids {
		if v := trimFloat(mix[id], 4); v != "0" { // never ordered here: left out
			n.Content = append(n.Content, scalar(id), scalar(v))
		}
	}
	return n
}

func key(m *yaml.Node, k string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			return m.Content[i]
		}
	}
	return nil
}

func get(m *yaml.Node, k string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			return m.Content[i+1]
		}
	}
	return nil
}

// set puts v at key k of mapping m (appending the key if absent), with the
// comment above the key.
func set(m *yaml.Node, k string, v *yaml.Node, comment string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			m.Content[i+1] = v
			m.Content[i].HeadComment = joinComment("", comment)
			m.Content[i].LineComment, m.Content[i].FootComment = "", ""
			return
		}
	}
	kn := scalar(k)
	kn.HeadComment = joinComment("", comment)
	m.Content = append(m.Content, kn, v)
	if m.Style == yaml.FlowStyle && comment != "" {
		m.Style = 0
	}
}

// note comments key k of m (or, when absent, m's last key) with why a value
// was kept.
func note(m *yaml.Node, k, comment string) {
	if comment == "" || m == nil {
		return
	}
	if kn := key(m, k); kn != nil {
		kn.HeadComment = joinComment("", comment)
		return
	}
	if len(m.Content) >= 2 {
		kn := m.Content[len(m.Content)-2]
		kn.FootComment = joinComment(kn.FootComment, k+" "+comment)
		if m.Style == yaml.FlowStyle {
			m.Style = 0
		}
	}
}

func ensureMap(m *yaml.Node, k string) *yaml.Node {
	if v := get(m, k); v != nil && v.Kind == yaml.MappingNode {
		if v.Style == yaml.FlowStyle {
			v.Style = 0
		}
		return v
	}
	v := &yaml.Node{Kind: yaml.MappingNode}
	set(m, k, v, "")
	return v
}

func findItem(seq *yaml.Node, k, v string) *yaml.Node {
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	for _, it := range seq.Content {
		if n := get(it, k); n != nil && n.Value == v {
			if it.Style == yaml.FlowStyle {
				it.Style = 0
			}
			return it
		}
	}
	return nil
}

// joinComment wraps text into '# ' lines of at most ~100 characters.
func joinComment(old, text string) string {
	if text == "" {
		return old
	}
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			if len(line)+len(w)+1 > 100 && line != "" {
				lines = append(lines, "# "+line)
				line = "   "
			}
			if line != "" && line != "   " {
				line += " "
			}
			line += w
		}
		lines = append(lines, "# "+line)
	}
	s := strings.Join(lines, "\n")
	if old != "" {
		return old + "\n" + s
	}
	return s
}
