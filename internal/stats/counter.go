package stats

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"unid/internal/audit"
	"unid/internal/realname"
	"unid/internal/sso/cas"
	"unid/internal/sso/oidc"
	"unid/internal/store"
)

// Metrics, as the store keeps them.
const (
	MetricRegister = "register" // accounts created; no key
	MetricSignin   = "signin"   // sign-ins; key SigninOK, SigninFailed or SigninLocked
	MetricSSO      = "sso"      // sign-ins at a service system; key its client id
	MetricSMS      = "sms"      // SMS codes sent; no key
	MetricRealname = "realname" // real-name checks run; key the verifier (provider)
)

// Keys of MetricSignin.
const (
	SigninOK     = "ok"
	SigninFailed = "failed"
	SigninLocked = "locked"
)

// SigninResults lists the keys of MetricSignin.
var SigninResults = []string{SigninOK, SigninFailed, SigninLocked}

// Metrics lists every metric, in the order the dashboard shows them.
var Metrics = []string{MetricSignin, MetricRegister, MetricSSO, MetricSMS, MetricRealname}

// dayPrefix marks the daily rows of a metric: "day:signin" counts a whole
// day of the operators' zone, its Hour the day's start (midnight there,
// in UTC). The week and the month read them, a thirtieth of the rows the
// hours would be.
const dayPrefix = "day:"

// hasDays reports whether zone's days start on the hour (every zone but
// a few such as Asia/Kolkata), so that its days can be kept in rows
// whose Hour is the hour they start.
func hasDays(zone *time.Location) bool {
	for _, t := range []time.Time{time.Date(2000, 1, 1, 0, 0, 0, 0, zone), time.Date(2000, 7, 1, 0, 0, 0, 0, zone)} {
		if _, off := t.Zone(); off%3600 != 0 {
			return false
		}
	}
	return true
}

// midnight is the start of the day of zone holding t.
func midnight(t time.Time, zone *time.Location) time.Time {
	t = t.In(zone)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, zone)
}

// rule maps audit events to a metric: events of action (and result, when
// set; and a detail value, when set) count one for metric under the key
// key gives. Results in skip are not counted.
type rule struct {
	action, result string
	detail         [2]string // a detail field and the value it must have
	skip           []string
	metric         string
	key            func(ev store.AuditEvent, detail map[string]string) string
}

func fixed(k string) func(store.AuditEvent, map[string]string) string {
	return func(store.AuditEvent, map[string]string) string { return k }
}

func client(ev store.AuditEvent, _ map[string]string) string { return ev.Client }

// rules is the one table of what is counted. A sign-in at a service
// system is an OpenID Connect authorization code exchanged for tokens
// (refreshes are not sign-ins) or a CAS service ticket validated: both
// are when the system learns who signed in.
var rules = []rule{
	{action: audit.ActionRegister, result: audit.ResultOK, metric: MetricRegister, key: fixed("")},
	{action: audit.ActionLogin, result: audit.ResultOK, metric: MetricSignin, key: fixed(SigninOK)},
	{action: audit.ActionLoginFail, metric: MetricSignin, key: fixed(SigninFailed)},
	{action: audit.ActionLockout, metric: MetricSignin, key: fixed(SigninLocked)},
	{action: oidc.ActionTokenIssued, result: audit.ResultOK, detail: [2]string{"grant_type", string(zoidc.GrantTypeCode)},
		metric: MetricSSO, key: client},
	{action: cas.ActionTicketValidated, result: audit.ResultOK, metric: MetricSSO, key: client},
	{action: audit.ActionSMSSent, result: audit.ResultOK, metric: MetricSMS, key: fixed("")},
	// Every check the verifier answered, whatever it answered (a pass
	// that bound the method is realname.bound); one that could not reach
	// it, or that waits for the citizen, cost nothing yet.
	{action: realname.ActionChecked, skip: []string{realname.ResultUnavailable, realname.ResultPending},
		metric: MetricRealname, key: provider},
	{action: realname.ActionBound, metric: MetricRealname, key: provider},
}

func provider(_ store.AuditEvent, d map[string]string) string { return d["provider"] }

// Match returns the metric and key ev counts for, if any: the one table
// the dashboard and the Prometheus metrics both count by.
func Match(ev store.AuditEvent) (metric, key string, ok bool) {
	var detail map[string]string
	for _, r := range rules {
		if r.action != ev.Action || (r.result != "" && r.result != ev.Result) {
			continue
		}
		skipped := false
		for _, s := range r.skip {
			skipped = skipped || s == ev.Result
		}
		if skipped {
			continue
		}
		if detail == nil && ev.Detail != "" {
			_ = json.Unmarshal([]byte(ev.Detail), &detail) // a detail is always a JSON object of strings
		}
		if r.detail[0] != "" && detail[r.detail[0]] != r.detail[1] {
			continue
		}
		return r.metric, r.key(ev, detail), true
	}
	return "", "", false
}

// slot is one counter: a metric, its key and the hour (UTC) it counts.
type slot struct {
	metric, key string
	hour        time.Time
}

// Counter counts events in memory and adds the counts to the store when
// flushed.
type Counter struct {
	store  store.Stats
	zone   *time.Location // of the daily rows; nil: none kept
	logger *slog.Logger

	mu      sync.Mutex
	pending map[slot]int64
	flushMu sync.Mutex // one flush at a time, so that a failed one's counts go back before the next takes them
}

// NewCounter returns a Counter adding to st, by the hour and by the day
// of zone (the operators' zone; the Reader must have the same).
func NewCounter(st store.Stats, zone *time.Location, logger *slog.Logger) *Counter {
	c := &Counter{store: st, logger: logger, pending: map[slot]int64{}}
	if hasDays(zone) {
		c.zone = zone
	}
	return c
}

// Observe counts ev if the table of rules says so; it is the audit log's
// observer.
func (c *Counter) Observe(ev store.AuditEvent) {
	if metric, key, ok := Match(ev); ok {
		c.Add(metric, key, ev.Time, 1)
	}
}

// Add counts n for metric and key in the hour of at, and in its day.
func (c *Counter) Add(metric, key string, at time.Time, n int64) {
	c.mu.Lock()
	c.pending[slot{metric, key, at.UTC().Truncate(time.Hour)}] += n
	if c.zone != nil {
		c.pending[slot{dayPrefix + metric, key, midnight(at, c.zone).UTC()}] += n
	}
	c.mu.Unlock()
}

// Flush adds what was counted since the last flush to the store. Counts
// the store refused are kept for the next flush.
func (c *Counter) Flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	taken := c.pending
	c.pending = map[slot]int64{}
	c.mu.Unlock()
	if len(taken) == 0 {
		return nil
	}
	counts := make([]store.StatCount, 0, len(taken))
	for s, n := range taken {
		counts = append(counts, store.StatCount{Metric: s.metric, Key: s.key, Hour: s.hour, Count: n})
	}
	if err := c.store.AddStats(ctx, counts); err != nil {
		c.mu.Lock()
		for s, n := range taken {
			c.pending[s] += n
		}
		c.mu.Unlock()
		return err
	}
	return nil
}

// FlushEvery is how often Run flushes.
const FlushEvery = 5 * time.Second

// Run flushes every interval until ctx ends; the app flushes once more
// when it closes.
func (c *Counter) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
			c.logger.WarnContext(ctx, "flushing the dashboard's counts", "err", err)
		}
	}
}
