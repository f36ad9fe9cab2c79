package admin

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"unid/internal/httpx"
	"unid/internal/operator"
	"unid/internal/problem"
	"unid/internal/review"
	"unid/internal/smscode"
	"unid/internal/stats"
)

// DashboardDeps are what the dashboard area of the console works with.
// With no Stats the dashboard answers operator_feature_unavailable.
type DashboardDeps struct {
	// Stats reads the stored counts, in the operators' days.
	Stats *stats.Reader
	// Counts, if set, writes this instance's latest counts before a read,
	// so that what just happened here shows at once.
	Counts interface {
		Flush(ctx context.Context) error
	}
	// SMS tells how much of the platform's SMS budget is left; nil: not
	// shown.
	SMS interface {
		Budgets(ctx context.Context) ([]smscode.Budget, error)
	}
	// Sessions counts the citizens' sessions. A store that can estimate
	// (EstimateSessions, on PostgreSQL) is asked for that instead.
	Sessions interface {
		CountSessions(ctx context.Context) (int64, error)
	}
	// CheckCosts is what a real-name check costs at each verifier.
	CheckCosts stats.Costs
	Logger     *slog.Logger
}

// sessionEstimator is a store that estimates the sessions it holds
// rather than counting each of millions.
type sessionEstimator interface {
	EstimateSessions(ctx context.Context) (n int64, estimated bool, err error)
}

// dashboardRoutes lists the dashboard area's endpoints: every signed-in
// operator sees how the platform is doing (counts only, no personal data).
func (c *ConsoleAPI) dashboardRoutes() []consoleRoute {
	return []consoleRoute{
		{"GET /api/admin/v1/dashboard", signedIn, c.dashboard},
		{"GET /api/admin/v1/stats/sso", signedIn, c.ssoStats},
	}
}

// dashboardView is the dashboard: the counts of a range, and what holds
// now (SMS budget, sessions, review queues).
type dashboardView struct {
	stats.Report
	Realname []verifierView `json:"realname"`
	// CostConfigured is false when no cost of a check is configured at
	// all: the page says so rather than showing a cost of nothing.
	CostConfigured bool             `json:"cost_configured"`
	SMS            []smscode.Budget `json:"sms_budget"`
	Sessions       *sessionsView    `json:"sessions"`
	Queues         []queueView      `json:"queues"`
}

// verifierView is the checks of one verifier over the range and what
// they cost; CostKnown false when no cost is configured for it.
type verifierView struct {
	Verifier  string `json:"verifier"`
	Checks    int64  `json:"checks"`
	CostFen   int64  `json:"cost_fen"`
	CostKnown bool   `json:"cost_known"`
}

type sessionsView struct {
	Active    int64 `json:"active"`
	Estimated bool  `json:"estimated"`
}

// queueView is one kind of review item: how many wait (at most
// queueCountCap; More when there are more) and since when the oldest.
type queueView struct {
	Kind    string     `json:"kind"`
	Pending int        `json:"pending"`
	More    bool       `json:"more"`
	Oldest  *time.Time `json:"oldest"`
}

// queueCountCap bounds how many pending items of a kind the dashboard
// counts, in pages of queuePage: past it, "1000+" says enough.
const (
	queueCountCap = 1000
	queuePage     = 100
)

func (c *ConsoleAPI) dashboard(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
	d := c.d.Dashboard
	rng := r.URL.Query().Get("range")
	if rng == "" {
		rng = stats.RangeDay
	}
	if !stats.ValidRange(rng) {
		c.d.Responder.Fail(w, r, problem.Field("range", "dashboard_range_unknown"))
		return
	}
	if d.Stats == nil {
		c.d.Responder.Fail(w, r, problem.New(problem.Unavailable, "operator_feature_unavailable"))
		return
	}
	ctx := r.Context()
	c.flushCounts(ctx)
	rep, err := d.Stats.Report(ctx, rng)
	if err != nil {
		c.d.Responder.Fail(w, r, problem.Wrap(err))
		return
	}
	out := dashboardView{Report: rep, Realname: []verifierView{}, CostConfigured: d.CheckCosts.Configured(),
		SMS: []smscode.Budget{}, Queues: []queueView{}}
	for _, s := range rep.Series {
		if s.Metric != stats.MetricRealname {
			continue
		}
		fen, known := d.CheckCosts.Of(s.Key)
		out.Realname = append(out.Realname, verifierView{Verifier: s.Key, Checks: s.Total, CostFen: fen * s.Total, CostKnown: known})
	}
	if d.SMS != nil {
		if out.SMS, err = d.SMS.Budgets(ctx); err != nil {
			c.d.Responder.Fail(w, r, problem.Wrap(err))
			return
		}
	}
	if d.Sessions != nil {
		var sv sessionsView
		if e, ok := d.Sessions.(sessionEstimator); ok {
			sv.Active, sv.Estimated, err = e.EstimateSessions(ctx)
		} else {
			sv.Active, err = d.Sessions.CountSessions(ctx)
		}
		if err != nil {
			c.d.Responder.Fail(w, r, problem.Wrap(err))
			return
		}
		out.Sessions = &sv
	}
	if out.Queues, err = c.queueAges(ctx); err != nil {
		c.d.Responder.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// queueAges reads each review kind's pending items through the queues,
// oldest first, counting up to queueCountCap.
func (c *ConsoleAPI) queueAges(ctx context.Context) ([]queueView, error) {
	out := []queueView{}
	for _, kind := range c.inbox.kinds() {
		v := queueView{Kind: kind}
		p := review.Page{Kind: kind, State: review.StatePending, Limit: queuePage}
		for {
			items, next, err := c.inbox.list(ctx, p)
			if err != nil {
				return nil, err
			}
			if v.Oldest == nil && len(items) > 0 {
				t := items[0].CreatedAt
				v.Oldest = &t
			}
			v.Pending += len(items)
			if next == "" {
				break
			}
			if v.Pending >= queueCountCap {
				v.More = true
				break
			}
			p.After = next
		}
		out = append(out, v)
	}
	return out, nil
}

// flushCounts writes this instance's counts so that the read that follows
// sees them; a failure only logs (the read shows what is stored).
func (c *ConsoleAPI) flushCounts(ctx context.Context) {
	if f := c.d.Dashboard.Counts; f != nil {
		if err := f.Flush(ctx); err != nil && c.d.Dashboard.Logger != nil {
			c.d.Dashboard.Logger.WarnContext(ctx, "flushing the dashboard's counts", "err", err)
		}
	}
}

// ssoView is the sign-ins of each service system, today and in the last
// 7 days, in the operators' days.
type ssoView struct {
	Systems []stats.SystemCount `json:"systems"`
}

func (c *ConsoleAPI) ssoStats(w http.ResponseWriter, r *http.Request, _ operator.Signed) {
	if c.d.Dashboard.Stats == nil {
		c.d.Responder.Fail(w, r, problem.New(problem.Unavailable, "operator_feature_unavailable"))
		return
	}
	c.flushCounts(r.Context())
	systems, err := c.d.Dashboard.Stats.Systems(r.Context())
	if err != nil {
		c.d.Responder.Fail(w, r, problem.Wrap(err))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, ssoView{Systems: systems})
}
