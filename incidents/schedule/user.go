package schedule

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
)

// User is a person who can be on call and be paged.
type User struct {
	Name     string `yaml:"name" json:"name"`
	FullName string `yaml:"full_name" json:"full_name,omitempty"`
	Email    string `yaml:"email" json:"email,omitempty"`
	// TimeZone is where the person lives (IANA name): the weekly review
	// counts pages in their night by it.
	TimeZone string `yaml:"time_zone" json:"time_zone,omitempty"`
	// SlackID is the person's Slack member ID (U0123ABCD): pages reach
	// them as a direct message from oncall's Slack app, with buttons to
	// acknowledge and escalate.
	SlackID string `yaml:"slack_id" json:"slack_id,omitempty"`
	// PagerDutyKey is the integration key (Events API v2) of a PagerDuty
	// service whose escalation policy notifies this person: pages reach
	// them by PagerDuty's phone calls, texts and pushes. It is a
	// credential, never answered by the API.
	PagerDutyKey string `yaml:"pagerduty_key" json:"-"`
}

var (
	slackMemberRE  = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)
	pagerDutyKeyRE = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
)

// Validate reports what is wrong with the user.
func (u User) Validate() error {
	var errs []error
	switch {
	case u.Name == "":
		errs = append(errs, errors.New("name: must not be empty"))
	case strings.ContainsAny(u.Name, " \t\n@,"):
		errs = append(errs, fmt.Errorf("name: %q: a user name has no spaces, commas or @", u.Name))
	}
	if u.Email != "" {
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			errs = append(errs, fmt.Errorf("email: %q is not an e-mail address", u.Email))
		}
	}
	if u.SlackID != "" && !slackMemberRE.MatchString(u.SlackID) {
		errs = append(errs, fmt.Errorf("slack_id: %q is not a Slack member ID (U or W and capitals or digits, as in U024BE7LH; a profile's \"Copy member ID\")", u.SlackID))
	}
	if u.PagerDutyKey != "" && !pagerDutyKeyRE.MatchString(u.PagerDutyKey) {
		errs = append(errs, fmt.Errorf("pagerduty_key: not an Events API v2 integration key (32 letters and digits; a service's Integrations tab), %d characters", len(u.PagerDutyKey)))
	}
	if _, err := location(u.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("time_zone: %w", err))
	}
	return errors.Join(errs...)
}

// Location is the user's time zone (UTC when none is set).
func (u User) Location() string {
	if u.TimeZone == "" {
		return "UTC"
	}
	return u.TimeZone
}

// knownUser says whether name is one of users.
func knownUser(name string, users map[string]User) error {
	if name == "" {
		return errors.New("must not be empty")
	}
	if _, ok := users[name]; !ok {
		return fmt.Errorf("unknown user %q (declare it under users)", name)
	}
	return nil
}
