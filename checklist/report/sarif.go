package report

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/oncallhq/oncall/checklist"
)

// SARIFSchema is the schema a SARIF 2.1.0 log names.
const SARIFSchema = "https://json.schemastore.org/sarif-2.1.0.json"

// The parts of SARIF 2.1.0 (OASIS) a checklist run fills.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool              sarifTool         `json:"tool"`
		AutomationDetails sarifAutomation   `json:"automationDetails"`
		Invocations       []sarifInvocation `json:"invocations"`
		Results           []sarifResult     `json:"results"`
		Properties        map[string]string `json:"properties,omitempty"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID               string            `json:"id"`
		Name             string            `json:"name"`
		ShortDescription sarifText         `json:"shortDescription"`
		FullDescription  *sarifText        `json:"fullDescription,omitempty"`
		Help             *sarifText        `json:"help,omitempty"`
		Properties       map[string]string `json:"properties"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifAutomation struct {
		ID string `json:"id"`
	}
	sarifInvocation struct {
		ExecutionSuccessful bool                `json:"executionSuccessful"`
		Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	}
	sarifNotification struct {
		Level      string           `json:"level"`
		Message    sarifText        `json:"message"`
		Descriptor *sarifDescriptor `json:"descriptor,omitempty"`
	}
	sarifDescriptor struct {
		ID string `json:"id"`
	}
	sarifResult struct {
		RuleID       string             `json:"ruleId"`
		RuleIndex    int                `json:"ruleIndex"`
		Kind         string             `json:"kind"`
		Level        string             `json:"level"`
		Message      sarifText          `json:"message"`
		Locations    []sarifLocation    `json:"locations"`
		Suppressions []sarifSuppression `json:"suppressions,omitempty"`
		Properties   map[string]any     `json:"properties"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical  `json:"physicalLocation"`
		LogicalLocations []sarifLogical `json:"logicalLocations"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifLogical struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Status        string `json:"status"`
		Justification string `json:"justification"`
	}
)

// SARIF writes the run as a SARIF 2.1.0 log: a rule per check, a result
// per check located at the check's definition (the checklist file and
// line) and at the service (a logical location). A result that does not
// fail has kind pass, notApplicable or open and level none, as the
// standard requires; a waiver is a suppression with its reason; a probe
// that could not run is also a tool execution notification.
func SARIF(w io.Writer, run checklist.Run) error {
	sr := sarifRun{
		Tool:              sarifTool{Driver: sarifDriver{Name: "oncall checklist", InformationURI: "https://github.com/oncallhq/oncall"}},
		AutomationDetails: sarifAutomation{ID: run.Checklist + "/" + run.Service + "/"},
		Properties:        map[string]string{"level": run.Level, "levelReason": run.LevelReason, "achieved": run.Achieved, "outcome": string(run.Outcome)},
	}
	inv := sarifInvocation{ExecutionSuccessful: true}
	uri := run.File
	if uri == "" {
		uri = run.Checklist + ".yaml"
	}
	uri = strings.TrimPrefix(path.Clean(strings.ReplaceAll(uri, "\\", "/")), "/")
	for i, r := range run.Results {
		rule := sarifRule{ID: r.Check, Name: ruleName(r.Check), ShortDescription: sarifText{r.Title},
			Properties: map[string]string{"category": r.Category, "level": r.Level, "kind": string(r.Kind)}}
		if r.Remediation != "" {
			rule.Help = &sarifText{r.Remediation}
		}
		sr.Tool.Driver.Rules = append(sr.Tool.Driver.Rules, rule)
		res := sarifResult{RuleID: r.Check, RuleIndex: i, Message: sarifText{message(r)},
			Properties: map[string]any{"status": string(r.Status), "required": r.Required, "source": r.Source}}
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: uri}},
			LogicalLocations: []sarifLogical{{Name: run.Service, FullyQualifiedName: "service/" + run.Service, Kind: "module"}}}
		if r.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: r.Line}
		}
		res.Locations = []sarifLocation{loc}
		status := r.Status
		if status == checklist.Waived {
			status = r.Underlying
			res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: r.Summary}}
		}
		switch status {
		case checklist.Pass:
			res.Kind, res.Level = "pass", "none"
		case checklist.NA:
			res.Kind, res.Level = "notApplicable", "none"
		case checklist.Warn:
			res.Kind, res.Level = "fail", "warning"
		case checklist.Fail, checklist.NotReported:
			res.Kind, res.Level = "fail", "warning"
			if r.Required {
				res.Level = "error"
			}
			if status == checklist.NotReported && !r.Required {
				res.Kind, res.Level = "open", "none"
			}
		default: // error, or a waiver of nothing known
			res.Kind, res.Level = "open", "none"
		}
		if r.Status == checklist.Error {
			inv.ExecutionSuccessful = false
			inv.Notifications = append(inv.Notifications, sarifNotification{Level: "error", Message: sarifText{r.Check + ": " + r.Summary},
				Descriptor: &sarifDescriptor{ID: r.Check}})
		}
		sr.Results = append(sr.Results, res)
	}
	sr.Invocations = []sarifInvocation{inv}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{sr}})
}

// ruleName is the check id in PascalCase, as SARIF rule names are written.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// message is the result's text: status, summary and its links.
func message(r checklist.Result) string {
	msg := fmt.Sprintf("%s: %s", r.Status.Label(), r.Summary)
	for _, l := range r.Links {
		if l.Status != checklist.Pass {
			msg += fmt.Sprintf("; %s %s: %s", l.Name, l.Status.Label(), l.Detail)
		}
	}
	return msg
}
