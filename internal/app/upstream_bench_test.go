package app_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/upstream"
)

// BenchmarkAlipayCallback measures unid's own time for the Alipay
// callback of a linked person's sign-in: the state and browser checks,
// the two gateway calls (alipay.system.oauth.token and
// alipay.user.info.share, each signed and its answer verified), the link
// lookup, the audit event and the new session. The fake gateway's own
// handler time is subtracted; the loopback round trips stay in. It
// reports the median and the 99th percentile of unid's time per callback.
//
//	go test -run '^$' -bench AlipayCallback -benchtime 300x ./internal/app/
func BenchmarkAlipayCallback(b *testing.B) {
	srv := apptest.Start(b, nil)
	gw := srv.App.AlipayGateway
	quickRegister(b, srv, srv.Browser(b), alipayCertified, "bench_ali", "13812340000", "")
	own := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		if i%upstream.StartsPerAddressMinute == 0 {
			srv.Clock.Advance(time.Minute) // starts from one address are limited a minute
		}
		br := srv.Browser(b)
		r := br.Get("/upstream/alipay/start")
		auth, err := url.Parse(r.Location())
		if err != nil || r.Status != http.StatusSeeOther || auth.Query().Get("state") == "" {
			b.Fatalf("start: %d %v", r.Status, err)
		}
		code, err := gw.IssueCode(alipayCertified, "auth_user")
		if err != nil {
			b.Fatal(err)
		}
		cb := br.Base + "/upstream/alipay/callback?" + url.Values{
			"app_id": {auth.Query().Get("app_id")}, "auth_code": {code}, "state": {auth.Query().Get("state")},
			"scope": {"auth_user"}, "source": {"alipay_wallet"},
		}.Encode()
		gwBefore := gw.HandlerTime()
		b.StartTimer()
		t0 := time.Now()
		r = br.Get(cb)
		took := time.Since(t0)
		b.StopTimer()
		if r.Location() != "/me" {
			b.Fatalf("callback: %d %q", r.Status, r.Location())
		}
		own = append(own, took-(gw.HandlerTime()-gwBefore))
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(own)
	b.ReportMetric(float64(own[len(own)/2].Microseconds())/1000, "unid-p50-ms")
	b.ReportMetric(float64(own[len(own)*99/100].Microseconds())/1000, "unid-p99-ms")
}
