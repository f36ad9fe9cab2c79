package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/config"
)

// benchLogin measures POST /api/v1/sessions through the real HTTP stack:
// decoding, per-address limit, captcha check, lookup by identifier, lockout
// check, password verification, session creation and audit. Captchas are
// made before the timer starts.
func benchLogin(b *testing.B, edit func(*config.Config)) {
	srv := apptest.Start(b, func(c *config.Config) {
		c.LoginPerIPLimit, c.LoginPerIPSuccessLimit, c.CaptchaPerIPMinute = 1<<30, 0, 1<<30
		if edit != nil {
			edit(c)
		}
	})
	br := srv.Browser(b)
	br.MustRegister(zhang)
	type captcha struct{ id, answer string }
	caps := make([]captcha, b.N)
	for i := range caps {
		caps[i].id, caps[i].answer = br.Captcha()
	}
	bodies := make([][]byte, b.N)
	for i, c := range caps {
		bodies[i], _ = json.Marshal(map[string]string{"identifier": zhang.Phone, "password": apptest.GoodPassword, "captcha_id": c.id, "captcha_answer": c.answer})
	}
	client := &http.Client{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := client.Post(srv.URL+"/api/v1/sessions", "application/json", bytes.NewReader(bodies[i]))
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			b.Fatalf("login %d: %d", i, res.StatusCode)
		}
	}
}

// BenchmarkLoginExcludingHash runs the login handler with argon2id at its
// smallest cost (8 KiB, 1 pass), so the number is everything but the hash.
func BenchmarkLoginExcludingHash(b *testing.B) {
	benchLogin(b, func(c *config.Config) { c.Argon2Memory, c.Argon2Time = 8, 1 })
}

// BenchmarkLoginDefaultCost is the same login at the default argon2id cost.
func BenchmarkLoginDefaultCost(b *testing.B) { benchLogin(b, nil) }

// BenchmarkListAddresses measures GET /api/v1/me/addresses with 20
// addresses through the real HTTP stack: the session lookup, the store
// query, opening 60 sealed values, masking, JSON. The target is under 5 ms on
// the server.
func BenchmarkListAddresses(b *testing.B) {
	srv := apptest.Start(b, func(c *config.Config) { c.Argon2Memory, c.Argon2Time = 8, 1 })
	br := srv.Browser(b)
	br.MustRegister(zhang)
	for i := 0; i < 20; i++ {
		if r := br.PostJSON("/api/v1/me/addresses", jinanAddress()); r.Status != http.StatusCreated {
			b.Fatalf("address %d: %d %s", i, r.Status, r.Body)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := br.Client.Get(srv.URL + "/api/v1/me/addresses")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || n < 20*200 {
			b.Fatalf("list %d: %d, %d bytes", i, res.StatusCode, n)
		}
	}
}

// benchRecoveryStart measures POST /api/v1/recovery for identifier through
// the real HTTP stack (captcha check, lookup, questions lookup or decoy,
// flow record, audit). Captchas are made before the timer starts. The
// answer must cost the same whether or not the identifier has an account.
func benchRecoveryStart(b *testing.B, identifier string) {
	srv := apptest.Start(b, func(c *config.Config) { c.CaptchaPerIPMinute = 1 << 30 })
	br := srv.Browser(b)
	br.MustRegister(zhang)
	bodies := make([][]byte, b.N)
	for i := range bodies {
		id, answer := br.Captcha()
		bodies[i], _ = json.Marshal(map[string]string{"identifier": identifier, "captcha_id": id, "captcha_answer": answer})
	}
	client := &http.Client{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := client.Post(srv.URL+"/api/v1/recovery", "application/json", bytes.NewReader(bodies[i]))
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			b.Fatalf("start %d: %d", i, res.StatusCode)
		}
	}
}

// BenchmarkRecoveryStart starts recoveries for an account and for a phone
// number that has none.
func BenchmarkRecoveryStart(b *testing.B) {
	b.Run("existing", func(b *testing.B) { benchRecoveryStart(b, zhang.Phone) })
	b.Run("missing", func(b *testing.B) { benchRecoveryStart(b, "13900009999") })
}
