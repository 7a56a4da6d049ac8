package results

import (
	"fmt"
	"io"
	"strings"
)

// Selection is the outcome of a ranking-and-selection procedure over the
// compared scenarios (compare --select): which scenario is best on one
// metric, with a probability of correct selection (PCS) of at least PCS
// whenever the best is better than every other by at least Delta (the
// indifference zone), in the metric's unit and direction.
type Selection struct {
	Procedure string  `json:"procedure"` // "kim-nelson-kn"
	Metric    string  `json:"metric"`
	Unit      string  `json:"unit"`
	Better    Better  `json:"better"`
	Delta     float64 `json:"delta"` // indifference zone, in Unit
	PCS       float64 `json:"pcs"`   // requested probability of correct selection
	// N0 is the first-stage replications per scenario; H2 the procedure's
	// constant h² (KN: 2η(N0−1), η = ½[(2α/(k−1))^(−2/(N0−1)) − 1]).
	N0 int     `json:"n0"`
	H2 float64 `json:"h2"`
	// Max is the cap on replications per scenario.
	Max int `json:"max_replications"`
	// Best is the selected scenario; Guaranteed says the procedure ended by
	// elimination (the PCS guarantee holds) rather than at the cap.
	Best       string            `json:"best"`
	Guaranteed bool              `json:"guaranteed"`
	Statement  string            `json:"statement"` // one sentence saying what was selected and with which guarantee
	Designs    []SelectionDesign `json:"designs"`
	// Replications is the total simulated for the selection, all scenarios.
	Replications int `json:"replications"`
}

// SelectionDesign is one scenario's part in the selection.
type SelectionDesign struct {
	Scenario string `json:"scenario"`
	// Used is the number of replications the procedure used for it (the
	// stage at which it was eliminated, or the last stage); Simulated may
	// be larger, as replications run in batches.
	Used      int     `json:"used"`
	Simulated int     `json:"simulated"`
	Mean      float64 `json:"mean"` // over the Used replications
	// EliminatedAt is the stage (replications per scenario) at which it was
	// screened out; 0 for the survivor(s).
	EliminatedAt int `json:"eliminated_at"`
	// EliminatedBy names the scenario it fell behind.
	EliminatedBy string `json:"eliminated_by,omitempty"`
}

// MarshalJSON writes non-finite fields as null.
func (d SelectionDesign) MarshalJSON() ([]byte, error) { return marshalFinite(d) }

// UnmarshalJSON reads null as NaN.
func (d *SelectionDesign) UnmarshalJSON(b []byte) error { return unmarshalFinite(b, d) }

// FormatSelection writes the selection as text: the statement, then one
// line per scenario.
func FormatSelection(w io.Writer, s *Selection) error {
	var b strings.Builder
	fmt.Fprintf(&b, "selection on %s (%s is better), %s: %s\n", s.Metric, betterWord(s.Better), s.Procedure, s.Statement)
	for _, d := range s.Designs {
		state := "selected"
		switch {
		case d.EliminatedAt > 0:
			state = fmt.Sprintf("eliminated at n=%d by %s", d.EliminatedAt, d.EliminatedBy)
		case d.Scenario != s.Best:
			state = "not eliminated (cap reached)"
		}
		fmt.Fprintf(&b, "  %-24s mean %s %s over %d replications (%d simulated): %s\n", d.Scenario, fmtNum(d.Mean), s.Unit, d.Used, d.Simulated, state)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func betterWord(b Better) string {
	switch b {
	case HigherIsBetter:
		return "higher"
	case LowerIsBetter:
		return "lower"
	}
	return "neither"
}
