package results

import (
	"encoding/xml"
	"fmt"
	"io"
)

// JUnit XML, the format GitHub (via test-report actions), GitLab
// (artifacts:reports:junit) and Jenkins (junit step) read: one <testsuite>
// per scenario, one <testcase> per scenario × metric. A failed check is a
// <failure> carrying the numbers; an inconclusive check (worse beyond the
// tolerance, not significant) is an <error type="inconclusive">: the check
// could not decide, which is neither a pass nor a regression; a metric only
// reported is <skipped>; a scenario that could not be checked (missing or
// mismatched baseline) is one testcase with an <error type="bad_input">.
// The power (replications compared and needed) is in every checked
// testcase's text.

// JUnitTestSuites is the document root.
type JUnitTestSuites struct {
	XMLName  xml.Name         `xml:"testsuites"`
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Errors   int              `xml:"errors,attr"`
	Skipped  int              `xml:"skipped,attr"`
	Suites   []JUnitTestSuite `xml:"testsuite"`
}

// JUnitTestSuite is one scenario.
type JUnitTestSuite struct {
	Name      string          `xml:"name,attr"`
	Tests     int             `xml:"tests,attr"`
	Failures  int             `xml:"failures,attr"`
	Errors    int             `xml:"errors,attr"`
	Skipped   int             `xml:"skipped,attr"`
	Time      string          `xml:"time,attr"`
	TestCases []JUnitTestCase `xml:"testcase"`
}

// JUnitTestCase is one metric of one scenario.
type JUnitTestCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitMessage `xml:"failure,omitempty"`
	Error     *JUnitMessage `xml:"error,omitempty"`
	Skipped   *JUnitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitMessage is a failure, error or skip: a one-line message and details.
type JUnitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// JUnit builds the JUnit document of reports.
func JUnit(reports []CheckReport) JUnitTestSuites {
	doc := JUnitTestSuites{Name: "lockstep check"}
	for _, r := range reports {
		s := JUnitTestSuite{Name: r.Scenario, Time: "0"}
		class := "lockstep.check." + r.Scenario
		if r.Error != "" {
			s.TestCases = append(s.TestCases, JUnitTestCase{Name: "baseline", ClassName: class, Time: "0",
				Error: &JUnitMessage{Message: r.Error, Type: "bad_input", Text: r.Error}})
			s.Errors++
		}
		for _, m := range r.Metrics {
			tc := JUnitTestCase{Name: m.Metric, ClassName: class, Time: "0"}
			numbers := fmt.Sprintf("baseline %s [%s, %s], now %s [%s, %s], delta %s, paired 95%% CI of the change [%s, %s], tolerance %s, allowed worsening %s, n %d",
				fmtNum(m.Baseline), fmtNum(m.BaselineLow), fmtNum(m.BaselineHigh), fmtNum(m.Now), fmtNum(m.NowLow), fmtNum(m.NowHigh),
				fmtDelta(m), fmtNum(m.DiffLow), fmtNum(m.DiffHigh), fmtTolerance(m), fmtNum(m.Allowed), m.N)
			if m.PowerNote != "" {
				numbers += "; power: " + m.PowerNote
			}
			switch m.Status {
			case StatusFail:
				tc.Failure = &JUnitMessage{Message: m.Metric + ": " + m.Reason, Type: "sla_regression", Text: numbers}
				s.Failures++
			case StatusInconclusive:
				tc.Error = &JUnitMessage{Message: m.Metric + ": INCONCLUSIVE: " + m.Reason, Type: "inconclusive", Text: numbers}
				s.Errors++
			case StatusInfo:
				tc.Skipped = &JUnitMessage{Message: m.Reason}
				s.Skipped++
			default:
				tc.SystemOut = m.Reason + "; " + numbers
			}
			s.TestCases = append(s.TestCases, tc)
		}
		s.Tests = len(s.TestCases)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	return doc
}

// WriteJUnit writes reports as a JUnit XML document.
func WriteJUnit(w io.Writer, reports []CheckReport) error {
	doc := JUnit(reports)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("results: encoding JUnit XML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
