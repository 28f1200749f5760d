// Package chat is the conversation of an incident: the messages of the
// chat channel linked to it, as the chat bot captured them, for the
// incident's timeline and its postmortem.
package chat

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message is one message of an incident's channel.
type Message struct {
	// Incident is the incident the channel was linked to when the
	// message was written.
	Incident int64 `json:"incident"`
	// Channel and ID name the message in the chat (Slack's channel ID and
	// message ts): capturing it twice keeps one.
	Channel string `json:"channel"`
	ID      string `json:"id"`
	// Author is who wrote it (the chat's user ID or bot name).
	Author string    `json:"author,omitempty"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
	// Edited is when the text was last changed (zero if never).
	Edited time.Time `json:"edited,omitzero"`
	// Thread is the ID of the message this one answers ("" at the top
	// level).
	Thread string `json:"thread,omitempty"`
}

// MaxText bounds the text kept of one message; the rest is cut with a
// mark, so that a pasted log cannot swell the store.
const MaxText = 8 << 10

// ErrInvalid marks a message or channel that cannot be kept.
var ErrInvalid = errors.New("invalid chat message or channel")

// invalid is an error that says what is wrong in its own words and is
// ErrInvalid.
type invalid string

func (e invalid) Error() string              { return string(e) }
func (invalid) Is(target error) bool         { return target == ErrInvalid }
func invalidf(format string, a ...any) error { return invalid(fmt.Sprintf(format, a...)) }

// Validate reports what makes m impossible to keep.
func (m Message) Validate() error {
	switch {
	case m.Incident <= 0:
		return invalidf("chat message %q: no incident", m.ID)
	case m.ID == "":
		return invalidf("chat message: no message id")
	case m.At.IsZero():
		return invalidf("chat message %q: no time", m.ID)
	}
	return ValidateChannel(m.Channel)
}

// ValidateChannel checks a channel ID: non-empty, without spaces or
// control characters (Slack's look like C0123ABCD).
func ValidateChannel(ch string) error {
	if ch == "" {
		return invalidf("no channel")
	}
	if len(ch) > 80 || strings.ContainsFunc(ch, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return invalidf("channel %q: want a channel ID such as C0123ABCD", ch)
	}
	return nil
}

// Clip cuts text to MaxText bytes at a character boundary, marking the
// cut.
func Clip(text string) string {
	if len(text) <= MaxText {
		return text
	}
	cut := MaxText
	for cut > 0 && !utf8RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + " […]"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
