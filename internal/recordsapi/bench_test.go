package recordsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"unid/internal/app/apptest"
	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/config"
	"unid/internal/store"
	"unid/internal/store/storetest"
)

// benchEnv starts unid on a backend with no rate limit, a system with
// every write scope and one user signed in to it, and returns the base
// URL, the system's token and the user.
func benchEnv(b *testing.B, be apptest.Backend) (string, string, string) {
	srv := apptest.Start(b, func(c *config.Config) {
		be.Use(b, c)
		c.Records.Rate = 0
		c.LogLevel = "error"
	})
	ctx := context.Background()
	c, secret, err := srv.App.Clients.Create(ctx, client.Spec{ID: "hall", Name: "政务服务大厅", Type: store.ClientOIDCConfidential,
		RedirectURIs: []string{redirect}, Scopes: writeScopes}, audit.Origin{Actor: audit.Operator("bench")})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := (&clientcredentials.Config{ClientID: c.ID, ClientSecret: secret, TokenURL: srv.URL + "/oidc/token"}).Token(ctx)
	if err != nil {
		b.Fatal(err)
	}
	userID := srv.Browser(b).MustRegister(apptest.Zhang)
	if err := srv.App.Store.AddSessionClient(ctx, store.SessionClient{SID: "bench", ClientID: c.ID, Protocol: "oidc", UserID: userID, CreatedAt: srv.Clock.Now()}); err != nil {
		b.Fatal(err)
	}
	storetest.TableInUse(b, srv.App.Store, userID, 20_000)
	return srv.URL, tok.AccessToken, userID
}

// BenchmarkSingleUpsert measures PUT /api/records/v1/users/{sub}/cases/{id}
// over HTTP from parallel clients (GOMAXPROCS×8 goroutines), each write a
// new case: token verification, validation, the owner check and one
// UpsertRecords transaction.
func BenchmarkSingleUpsert(b *testing.B) {
	for _, be := range apptest.Backends {
		b.Run(be.Name, func(b *testing.B) {
			base, token, userID := benchEnv(b, be)
			updated := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
			body, _ := json.Marshal(map[string]string{"number": "JN-0001", "item_name": "营业执照变更登记", "item_code": "11370100MB2850001X",
				"department": "市场监管局", "status": "submitted", "updated_at": updated, "link": "http://127.0.0.1/hall/cases/1"})
			tr := &http.Transport{MaxIdleConnsPerHost: 256}
			hc := &http.Client{Transport: tr}
			var seq atomic.Int64
			b.SetParallelism(32)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/api/records/v1/users/%s/cases/c-%d", base, userID, seq.Add(1)), bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/json")
					res, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body) // read to the end, so that the connection is used again
					res.Body.Close()
					if res.StatusCode != http.StatusCreated {
						b.Errorf("PUT: %d", res.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
		})
	}
}

// BenchmarkBulk measures POST /api/records/v1/bulk with 5,000 new cases
// a request, two requests at a time.
func BenchmarkBulk(b *testing.B) {
	const lines = 5000
	for _, be := range apptest.Backends {
		b.Run(be.Name, func(b *testing.B) {
			base, token, userID := benchEnv(b, be)
			updated := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
			var seq atomic.Int64
			body := func() []byte {
				var sb strings.Builder
				n := seq.Add(1)
				for i := range lines {
					l, _ := json.Marshal(map[string]string{"kind": "cases", "user": userID, "id": fmt.Sprintf("b-%d-%d", n, i),
						"item_name": "社会保险关系转移", "status": "submitted", "updated_at": updated, "link": "http://127.0.0.1/hall/cases/1"})
					sb.Write(l)
					sb.WriteByte('\n')
				}
				return []byte(sb.String())
			}
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = body()
			}
			var next atomic.Int64
			b.SetParallelism(1)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					data := bodies[next.Add(1)-1]
					req, _ := http.NewRequest(http.MethodPost, base+"/api/records/v1/bulk", bytes.NewReader(data))
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/x-ndjson")
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					var buf bytes.Buffer
					buf.ReadFrom(res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK || bytes.Count(buf.Bytes(), []byte(`"outcome":"created"`)) != lines {
						b.Errorf("bulk: %d %.300s", res.StatusCode, buf.Bytes())
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*lines)/time.Since(start).Seconds(), "records/s")
		})
	}
}

// BenchmarkGetOwn measures GET of a system's own record: the HTTP,
// token and middleware cost of a records call without a write.
func BenchmarkGetOwn(b *testing.B) {
	for _, be := range apptest.Backends {
		b.Run(be.Name, func(b *testing.B) {
			base, token, userID := benchEnv(b, be)
			updated := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
			body, _ := json.Marshal(map[string]string{"number": "JN-0001", "item_name": "营业执照变更登记", "status": "submitted", "updated_at": updated, "link": "http://127.0.0.1/hall/cases/1"})
			url := fmt.Sprintf("%s/api/records/v1/users/%s/cases/one", base, userID)
			req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusCreated {
				b.Fatalf("PUT: %v %v", res, err)
			}
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
			b.SetParallelism(8)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, url, nil)
					req.Header.Set("Authorization", "Bearer "+token)
					res, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						b.Errorf("GET: %d", res.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "requests/s")
		})
	}
}
