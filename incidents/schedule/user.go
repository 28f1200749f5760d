package schedule

import (
	"errors"
	"fmt"
	"net/mail"
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
}

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
