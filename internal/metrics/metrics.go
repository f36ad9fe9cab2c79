package metrics

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"unid/internal/audit"
	"unid/internal/smscode"
	"unid/internal/sso/oidc"
	"unid/internal/stats"
	"unid/internal/store"
)

// Deps are what the scrape-time gauges read. A nil func leaves its gauge
// out.
type Deps struct {
	StorePing func(context.Context) error
	RedisPing func(context.Context) error // nil: no Redis configured
	// Budgets reads the platform's SMS budget (smscode.Service.Budgets).
	Budgets func(context.Context) ([]smscode.Budget, error)
	// HashWaiting is how many password hashes wait for a place to run
	// (account.Hasher.Waiting).
	HashWaiting func() int64
	// HashRefused is how many requests were told "busy" because the
	// queue for a hash was too long (account.Hasher.Refused).
	HashRefused func() uint64
	Logger      *slog.Logger
}

// ScrapeTimeout bounds the pings and reads one scrape makes.
const ScrapeTimeout = 2 * time.Second

// unmatched is the route label of a request no route matched (or one
// refused before routing): never the raw path.
const unmatched = "unmatched"

// Metrics is unid's metrics registry.
type Metrics struct {
	reg *prometheus.Registry

	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	signins       *prometheus.CounterVec
	registrations prometheus.Counter
	smsSent       prometheus.Counter
	tokens        *prometheus.CounterVec
}

// New returns the registry with every metric registered.
func New(d Deps) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unid_http_requests_total", Help: "HTTP requests answered, by matched route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "unid_http_request_duration_seconds", Help: "Time to answer an HTTP request, by matched route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		signins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unid_signins_total", Help: "Citizens' sign-ins by result: ok, failed (wrong credentials) or locked (a lockout began).",
		}, []string{"result"}),
		registrations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "unid_registrations_total", Help: "Accounts registered.",
		}),
		smsSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "unid_sms_sent_total", Help: "SMS codes sent.",
		}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unid_tokens_issued_total", Help: "OpenID Connect token responses issued, by grant type.",
		}, []string{"grant"}),
	}
	for _, r := range stats.SigninResults {
		m.signins.WithLabelValues(r) // present at zero from the start
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, m.signins, m.registrations, m.smsSent, m.tokens,
		&scrape{d: d},
	)
	return m
}

// Request counts one answered request. route is the ServeMux pattern that
// matched ("GET /api/v1/me"), empty if none did.
func (m *Metrics) Request(route string, code int, took time.Duration) {
	if route == "" {
		route = unmatched
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(took.Seconds())
}

// Observe counts ev; it is (one of) the audit log's observers. What
// counts as a sign-in, a registration or a sent SMS is the dashboard's
// table (stats.Match), so that both always agree.
func (m *Metrics) Observe(ev store.AuditEvent) {
	if metric, key, ok := stats.Match(ev); ok {
		switch metric {
		case stats.MetricSignin:
			m.signins.WithLabelValues(key).Inc()
		case stats.MetricRegister:
			m.registrations.Inc()
		case stats.MetricSMS:
			m.smsSent.Inc()
		}
	}
	if ev.Action != oidc.ActionTokenIssued || ev.Result != audit.ResultOK {
		return
	}
	var detail map[string]string
	_ = json.Unmarshal([]byte(ev.Detail), &detail) // a detail is always a JSON object of strings
	grant := detail["grant_type"]
	if grant == "" {
		grant = "unknown"
	}
	// Client-credentials tokens are audited once per window per client;
	// the next event carries how many went without their own.
	n := 1.0
	if u, err := strconv.Atoi(detail["unrecorded_since_last"]); err == nil && u > 0 {
		n += float64(u)
	}
	m.tokens.WithLabelValues(grant).Add(n)
}

// Handler serves GET /metrics in the Prometheus text format and 404 for
// anything else; it is meant for its own listener, away from users.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Timeout: 2 * ScrapeTimeout}))
	return mux
}

// scrape collects the gauges read at scrape time.
type scrape struct{ d Deps }

var (
	descBudget = prometheus.NewDesc("unid_sms_budget_remaining",
		"SMS codes the platform may still send in the budget window (hour, day).", []string{"window"}, nil)
	descStoreUp = prometheus.NewDesc("unid_store_up", "1 if the database answered a ping during the scrape, else 0.", nil, nil)
	descRedisUp = prometheus.NewDesc("unid_redis_up", "1 if Redis answered a ping during the scrape, else 0; absent without Redis.", nil, nil)
	descHash    = prometheus.NewDesc("unid_hash_queue_depth", "Password hashes waiting for a place to run (sign-ins, registrations and other requests queued behind --hash-workers).", nil, nil)
	descRefused = prometheus.NewDesc("unid_hash_refused_total", "Citizens' requests that hash a password (sign-ins, password checks and changes, security questions, registrations, recoveries) answered \"busy\" because they would have waited longer than --hash-max-wait for a password hash.", nil, nil)
)

func (s *scrape) Describe(ch chan<- *prometheus.Desc) {
	ch <- descBudget
	ch <- descStoreUp
	ch <- descRedisUp
	ch <- descHash
	ch <- descRefused
}

func (s *scrape) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	defer cancel()
	up := func(desc *prometheus.Desc, ping func(context.Context) error, name string) {
		v := 1.0
		if err := ping(ctx); err != nil {
			v = 0
			if s.d.Logger != nil {
				s.d.Logger.WarnContext(ctx, "metrics: backend not answering", "backend", name, "err", err)
			}
		}
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v)
	}
	if s.d.StorePing != nil {
		up(descStoreUp, s.d.StorePing, "database")
	}
	if s.d.RedisPing != nil {
		up(descRedisUp, s.d.RedisPing, "redis")
	}
	if s.d.HashWaiting != nil {
		ch <- prometheus.MustNewConstMetric(descHash, prometheus.GaugeValue, float64(s.d.HashWaiting()))
	}
	if s.d.HashRefused != nil {
		ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(s.d.HashRefused()))
	}
	if s.d.Budgets != nil {
		budgets, err := s.d.Budgets(ctx)
		if err != nil {
			if s.d.Logger != nil {
				s.d.Logger.WarnContext(ctx, "metrics: reading the SMS budget", "err", err)
			}
			return
		}
		for _, b := range budgets {
			ch <- prometheus.MustNewConstMetric(descBudget, prometheus.GaugeValue, float64(b.Left), b.Window)
		}
	}
}
