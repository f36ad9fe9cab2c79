package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"sync"
	"time"
)

// OutboxSize is how many messages an Outbox keeps.
const OutboxSize = 200

// Channels of an OutboxMessage.
const (
	ChannelSMS   = "sms"
	ChannelEmail = "email"
)

// OutboxMessage is one message kept by the dev Outbox, as GET
// /dev/outbox.json shows it.
type OutboxMessage struct {
	ID       string            `json:"id"`
	Time     time.Time         `json:"time"`
	Channel  string            `json:"channel"` // ChannelSMS or ChannelEmail
	To       string            `json:"to"`      // phone number or email address
	Template string            `json:"template"`
	Params   map[string]string `json:"params"`
	Text     string            `json:"text"`
	Subject  string            `json:"subject,omitempty"` // email only
	HTML     string            `json:"html,omitempty"`    // email only
}

// Outbox is the dev-mode sender: instead of sending, it keeps the last
// OutboxSize messages in memory so that a developer (or a browser test) can
// read the codes. It is safe for concurrent use. Never use it in production:
// it holds codes in plain text.
type Outbox struct {
	now func() time.Time

	mu   sync.Mutex
	msgs []OutboxMessage // ring buffer, oldest at next when full
	next int
}

// NewOutbox returns an empty Outbox stamping messages with now.
func NewOutbox(now func() time.Time) *Outbox { return &Outbox{now: now} }

// Record keeps m, filling in its ID and Time when they are empty, and
// returns it as kept.
func (o *Outbox) Record(m OutboxMessage) OutboxMessage {
	if m.ID == "" {
		m.ID = newID()
	}
	if m.Time.IsZero() {
		m.Time = o.now().UTC()
	}
	m.Params = maps.Clone(m.Params)

	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.msgs) < OutboxSize {
		o.msgs = append(o.msgs, m)
	} else {
		o.msgs[o.next] = m
		o.next = (o.next + 1) % OutboxSize
	}
	return m
}

// List returns the kept messages, newest first.
func (o *Outbox) List() []OutboxMessage {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]OutboxMessage, 0, len(o.msgs))
	for i := range len(o.msgs) {
		// Walk backwards from the newest, which sits just before next.
		m := o.msgs[(o.next-1-i+2*len(o.msgs))%len(o.msgs)]
		m.Params = maps.Clone(m.Params)
		out = append(out, m)
	}
	return out
}

// Last returns the newest message sent to to on channel.
func (o *Outbox) Last(channel, to string) (OutboxMessage, bool) {
	for _, m := range o.List() {
		if m.Channel == channel && m.To == to {
			return m, true
		}
	}
	return OutboxMessage{}, false
}

// SendSMS records m on the sms channel.
func (o *Outbox) SendSMS(ctx context.Context, m SMS) error {
	o.Record(OutboxMessage{
		Channel:  ChannelSMS,
		To:       m.Phone,
		Template: m.Template,
		Params:   m.Params,
		Text:     m.Text(),
	})
	return nil
}

// SendEmail records m on the email channel.
func (o *Outbox) SendEmail(ctx context.Context, m Email) error {
	o.Record(OutboxMessage{
		Channel:  ChannelEmail,
		To:       m.To,
		Template: m.Template,
		Params:   m.Params,
		Text:     m.Text,
		Subject:  m.Subject,
		HTML:     m.HTML,
	})
	return nil
}

// newID returns a random message id (128 bits, hex).
func newID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand aborts the program instead)
	return hex.EncodeToString(b[:])
}
