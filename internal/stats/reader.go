package stats

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the operators' zone loads on hosts without a zone database

	"unid/internal/store"
)

// Ranges a report covers: today by the hour, or the last 7 or 30 days
// (today included) by the day.
const (
	RangeDay   = "day"
	RangeWeek  = "week"
	RangeMonth = "month"
)

// DefaultZone is the operators' time zone unless configured otherwise.
const DefaultZone = "Asia/Shanghai"

// Reader reads the stored counts for the dashboard, in the operators' days.
type Reader struct {
	store store.Stats
	zone  *time.Location
	now   func() time.Time
}

// NewReader returns a Reader of st whose days are those of zone.
func NewReader(st store.Stats, zone *time.Location, now func() time.Time) *Reader {
	return &Reader{store: st, zone: zone, now: now}
}

// Zone is the operators' time zone.
func (r *Reader) Zone() *time.Location { return r.zone }

// Series is the counts of one metric and key, one per bucket of a Report.
type Series struct {
	Metric string  `json:"metric"`
	Key    string  `json:"key"`
	Counts []int64 `json:"counts"`
	Total  int64   `json:"total"`
}

// Report is the counts of a range: buckets of an hour (RangeDay) or a day
// (RangeWeek, RangeMonth), each starting at Buckets[i] in the operators'
// zone, with one Series per metric and key. Sign-ins, registrations and
// SMS always have their series, zeros included; service systems and
// verifiers only those that counted.
type Report struct {
	Range   string      `json:"range"`
	Step    string      `json:"step"` // "hour" or "day"
	Zone    string      `json:"zone"`
	From    time.Time   `json:"from"`
	To      time.Time   `json:"to"`
	Buckets []time.Time `json:"buckets"`
	Series  []Series    `json:"series"`
}

// errRange refuses a range that is none of day, week and month.
var errRange = fmt.Errorf("stats: range must be %s, %s or %s", RangeDay, RangeWeek, RangeMonth)

// ValidRange reports whether rng names a range.
func ValidRange(rng string) bool {
	return slices.Contains([]string{RangeDay, RangeWeek, RangeMonth}, rng)
}

// read returns the counts of metrics from..to: by the hour, or by the
// day when byDay and the zone's days are kept (their Hour the day's
// start), with the metrics' names as asked.
func (r *Reader) read(ctx context.Context, metrics []string, from, to time.Time, byDay bool) ([]store.StatCount, error) {
	if !byDay || !hasDays(r.zone) {
		return r.store.ListStats(ctx, metrics, from.UTC(), to.UTC())
	}
	asked := make([]string, len(metrics))
	for i, m := range metrics {
		asked[i] = dayPrefix + m
	}
	counts, err := r.store.ListStats(ctx, asked, from.UTC(), to.UTC())
	for i := range counts {
		counts[i].Metric = strings.TrimPrefix(counts[i].Metric, dayPrefix)
	}
	return counts, err
}

// days returns the starts of the n days ending with today, and the start
// of tomorrow.
func (r *Reader) days(n int) ([]time.Time, time.Time) {
	today := midnight(r.now(), r.zone)
	out := make([]time.Time, 0, n)
	for i := n - 1; i >= 0; i-- {
		out = append(out, today.AddDate(0, 0, -i))
	}
	return out, today.AddDate(0, 0, 1)
}

// Report returns the counts of every metric over rng.
func (r *Reader) Report(ctx context.Context, rng string) (Report, error) {
	rep := Report{Range: rng, Zone: r.zone.String()}
	switch rng {
	case RangeDay:
		days, end := r.days(1)
		rep.Step, rep.From, rep.To = "hour", days[0], end
		// A day has 23 or 25 hours where clocks change.
		for h := rep.From; h.Before(end); h = h.Add(time.Hour) {
			rep.Buckets = append(rep.Buckets, h)
		}
	case RangeWeek, RangeMonth:
		n := 7
		if rng == RangeMonth {
			n = 30
		}
		rep.Step = "day"
		rep.Buckets, rep.To = r.days(n)
		rep.From = rep.Buckets[0]
	default:
		return Report{}, errRange
	}
	counts, err := r.read(ctx, Metrics, rep.From, rep.To, rep.Step == "day")
	if err != nil {
		return Report{}, err
	}
	type id struct{ metric, key string }
	index := map[id]int{}
	add := func(metric, key string) int {
		if i, ok := index[id{metric, key}]; ok {
			return i
		}
		index[id{metric, key}] = len(rep.Series)
		rep.Series = append(rep.Series, Series{Metric: metric, Key: key, Counts: make([]int64, len(rep.Buckets))})
		return len(rep.Series) - 1
	}
	for _, k := range []string{SigninOK, SigninFailed, SigninLocked} {
		add(MetricSignin, k)
	}
	add(MetricRegister, "")
	add(MetricSMS, "")
	for _, c := range counts {
		// The bucket holding the hour's start: in a zone a half hour off
		// UTC, an hour counts for the day it starts in.
		b := sort.Search(len(rep.Buckets), func(i int) bool { return rep.Buckets[i].After(c.Hour) }) - 1
		if b < 0 {
			continue
		}
		s := &rep.Series[add(c.Metric, c.Key)]
		s.Counts[b] += c.Count
		s.Total += c.Count
	}
	// Fixed series first, in the order added; then by metric and key.
	fixed := 5
	slices.SortStableFunc(rep.Series[fixed:], func(a, b Series) int {
		return cmp.Or(cmp.Compare(slices.Index(Metrics, a.Metric), slices.Index(Metrics, b.Metric)), cmp.Compare(a.Key, b.Key))
	})
	return rep, nil
}

// SystemCount is how many sign-ins a service system had today and in the
// last 7 days (today included), in the operators' days.
type SystemCount struct {
	ClientID string `json:"client_id"`
	Today    int64  `json:"today"`
	Week     int64  `json:"week"`
}

// Systems returns the sign-ins of every service system that had any in
// the last 7 days, the busiest first.
func (r *Reader) Systems(ctx context.Context) ([]SystemCount, error) {
	days, end := r.days(7)
	today := days[len(days)-1]
	counts, err := r.read(ctx, []string{MetricSSO}, days[0], end, true)
	if err != nil {
		return nil, err
	}
	by := map[string]*SystemCount{}
	out := []SystemCount{}
	for _, c := range counts {
		s, ok := by[c.Key]
		if !ok {
			s = &SystemCount{ClientID: c.Key}
			by[c.Key] = s
		}
		s.Week += c.Count
		if !c.Hour.Before(today) {
			s.Today += c.Count
		}
	}
	for _, s := range by {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b SystemCount) int {
		return cmp.Or(cmp.Compare(b.Week, a.Week), cmp.Compare(a.ClientID, b.ClientID))
	})
	return out, nil
}

// Costs are what one real-name check costs at each verifier, in fen (分).
type Costs struct {
	all    int64
	allSet bool
	per    map[string]int64
}

// ParseCosts reads the configured cost of a check: "" (not known), a
// number of fen for every verifier ("20"), or a list of verifier=fen
// ("http=20,alipay=0").
func ParseCosts(s string) (Costs, error) {
	c := Costs{per: map[string]int64{}}
	s = strings.TrimSpace(s)
	if s == "" {
		return c, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		c.all, c.allSet = n, true
		return c, nil
	}
	for _, part := range strings.Split(s, ",") {
		name, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if !ok || strings.TrimSpace(name) == "" || err != nil || n < 0 {
			return Costs{}, fmt.Errorf("stats: check cost %q: want fen (20) or verifier=fen,... (http=20,alipay=0)", s)
		}
		c.per[strings.TrimSpace(name)] = n
	}
	return c, nil
}

// Configured reports whether any cost is configured.
func (c Costs) Configured() bool { return c.allSet || len(c.per) > 0 }

// Of returns the cost of one check at verifier, and whether it is known.
func (c Costs) Of(verifier string) (fen int64, known bool) {
	if n, ok := c.per[verifier]; ok {
		return n, true
	}
	return c.all, c.allSet
}
