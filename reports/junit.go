package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/shakedown-harness/shakedown/harness"
	"github.com/shakedown-harness/shakedown/harness/check"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// JUnit writes one testsuite for the scenario's checks (one testcase per
// check; a failing check's message is the failure text; an inconclusive one
// is an error, never a pass) and one for the run's validity.
func JUnit(w io.Writer, r *harness.Result) error {
	secs := fmt.Sprintf("%.3f", r.Wall.Seconds())
	checks := suite(r.Scenario, r.Verdicts, secs)
	checks.Timestamp = r.Started.UTC().Format("2006-01-02T15:04:05")
	checks.Properties = []junitProperty{
		{Name: "seed", Value: fmt.Sprint(r.Seed)},
		{Name: "sut", Value: r.SUT},
		{Name: "mode", Value: r.Mode},
		{Name: "run_dir", Value: r.Dir},
		{Name: "exit_code", Value: fmt.Sprint(r.ExitCode())},
	}
	if r.HarnessError != "" {
		checks.Cases = append(checks.Cases, junitCase{
			Name: "harness", Classname: r.Scenario, Time: secs,
			Error: &junitProblem{Type: "harness", Message: firstLine(r.HarnessError), Text: r.HarnessError},
		})
		checks.Tests++
		checks.Errors++
	}
	valid := suite(r.Scenario+" (run validity)", r.Validity, secs)
	doc := junitSuites{
		Name:     "shakedown",
		Tests:    checks.Tests + valid.Tests,
		Failures: checks.Failures + valid.Failures,
		Errors:   checks.Errors + valid.Errors,
		Time:     secs,
		Suites:   []junitSuite{checks, valid},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit header: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func suite(name string, vs []check.Verdict, secs string) junitSuite {
	s := junitSuite{Name: name, Time: secs}
	for _, v := range vs {
		// A check has no duration of its own: the suite carries the run time.
		c := junitCase{Name: v.Check, Classname: name, Time: "0.000"}
		text := v.Message
		if len(v.Details) > 0 {
			text += "\n" + strings.Join(v.Details, "\n")
		}
		for _, op := range v.Evidence {
			text += fmt.Sprintf("\nop %d %s at %.3fs: %s %d %s %v", op.Seq, op.Action, op.Intended.Seconds(), op.Outcome, op.Status, op.Error, op.Keys)
		}
		switch v.Status {
		case check.Fail:
			c.Failure = &junitProblem{Type: "fail", Message: v.Message, Text: text}
			s.Failures++
		case check.Inconclusive:
			c.Error = &junitProblem{Type: "inconclusive", Message: v.Message, Text: text}
			s.Errors++
		default:
			c.SystemOut = v.Message
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
	}
	return s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
