package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/oncallhq/oncall/checklist"
)

// The JUnit XML elements CI systems read (Jenkins, GitLab, GitHub
// actions): testsuites of testsuite of testcase, each with at most one
// failure, error or skipped.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       string          `xml:"time,attr"`
		Timestamp  string          `xml:"timestamp,attr"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitProblem `xml:"failure"`
		Error     *junitProblem `xml:"error"`
		Skipped   *junitProblem `xml:"skipped"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

// JUnit writes the run as JUnit XML: one testsuite for the checklist and
// service, one testcase per check. A required check that fails or is not
// reported is a failure, one whose probe could not run an error; checks
// that do not apply, are waived or are not required at the run's level
// are skipped, with why.
func JUnit(w io.Writer, run checklist.Run) error {
	suite := junitSuite{Name: run.Checklist + "/" + run.Service, Timestamp: run.At.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{{"checklist", run.Checklist}, {"service", run.Service}, {"level", run.Level},
			{"level_reason", run.LevelReason}, {"achieved", run.Achieved}, {"outcome", string(run.Outcome)}}}
	var total float64
	for _, r := range run.Results {
		class := run.Checklist
		if r.Category != "" {
			class += "." + r.Category
		}
		secs := r.Duration.Seconds()
		total += secs
		c := junitCase{Name: r.Check + ": " + r.Title, Classname: class, Time: fmt.Sprintf("%.3f", secs)}
		msg := r.Status.Label() + ": " + r.Summary
		switch {
		case !r.Required && !r.Status.Holds():
			c.Skipped = &junitProblem{Message: fmt.Sprintf("not required at %s: %s", run.Level, msg)}
		case r.Status == checklist.Fail || r.Status == checklist.NotReported:
			c.Failure = &junitProblem{Message: msg, Type: string(r.Status), Text: body(r)}
		case r.Status == checklist.Error:
			c.Error = &junitProblem{Message: msg, Type: "probe", Text: body(r)}
		case r.Status == checklist.NA || r.Status == checklist.Waived:
			c.Skipped = &junitProblem{Message: msg}
		}
		if c.Failure == nil && c.Error == nil {
			c.SystemOut = body(r)
		}
		switch {
		case c.Failure != nil:
			suite.Failures++
		case c.Error != nil:
			suite.Errors++
		case c.Skipped != nil:
			suite.Skipped++
		}
		suite.Tests++
		suite.Cases = append(suite.Cases, c)
	}
	suite.Time = fmt.Sprintf("%.3f", total)
	doc := junitSuites{Name: "oncall checklist " + run.Checklist, Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Skipped: suite.Skipped, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// body is a result's links, details and remedy as lines of text.
func body(r checklist.Result) string {
	var lines []string
	for _, l := range r.Links {
		lines = append(lines, fmt.Sprintf("%s %s: %s", l.Status.Label(), l.Name, l.Detail))
	}
	lines = append(lines, r.Details...)
	if r.EvidenceURL != "" {
		lines = append(lines, "evidence: "+r.EvidenceURL)
	}
	if r.Remediation != "" && !r.Status.Holds() {
		lines = append(lines, "to fix: "+r.Remediation)
	}
	return strings.Join(lines, "\n")
}
