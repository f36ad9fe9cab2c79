package devmode_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/devmode"
)

func TestLocal(t *testing.T) {
	tests := []struct {
		name   string
		host   string
		remote string
		header string // "Name: value"
		want   bool
	}{
		{name: "127.0.0.1 with a port", host: "127.0.0.1:8080", remote: "127.0.0.1:50000", want: true},
		{name: "another 127/8 address", host: "127.1.2.3", remote: "127.0.0.1:50000", want: true},
		{name: "localhost", host: "localhost:8080", remote: "[::1]:50000", want: true},
		{name: "LOCALHOST", host: "LOCALHOST", remote: "127.0.0.1:50000", want: true},
		{name: "::1", host: "[::1]:8080", remote: "[::1]:50000", want: true},
		{name: "a public name", host: "evil.example", remote: "127.0.0.1:50000"},
		{name: "a public name with a port", host: "evil.example:8080", remote: "127.0.0.1:50000"},
		{name: "a name ending in localhost", host: "localhost.evil.example", remote: "127.0.0.1:50000"},
		{name: "a private address", host: "10.0.0.1:8080", remote: "127.0.0.1:50000"},
		{name: "all interfaces", host: "0.0.0.0:8080", remote: "127.0.0.1:50000"},
		{name: "from another machine", host: "127.0.0.1:8080", remote: "192.0.2.7:50000"},
		{name: "X-Forwarded-For", host: "127.0.0.1:8080", remote: "127.0.0.1:50000", header: "X-Forwarded-For: 127.0.0.1"},
		{name: "Forwarded", host: "127.0.0.1:8080", remote: "127.0.0.1:50000", header: "Forwarded: for=192.0.2.7"},
		{name: "X-Forwarded-Host", host: "127.0.0.1:8080", remote: "127.0.0.1:50000", header: "X-Forwarded-Host: id.example.gov.cn"},
		{name: "X-Real-IP", host: "127.0.0.1:8080", remote: "127.0.0.1:50000", header: "X-Real-Ip: 192.0.2.7"},
		{name: "an empty forwarding header", host: "127.0.0.1:8080", remote: "127.0.0.1:50000", header: "X-Forwarded-For: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/dev/outbox.json", nil)
			r.Host, r.RemoteAddr = tt.host, tt.remote
			if name, value, ok := strings.Cut(tt.header, ":"); ok {
				r.Header.Set(name, strings.TrimSpace(value))
			}
			if got := devmode.Local(r); got != tt.want {
				t.Errorf("Local = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDevPagesAnswerOnlyThisMachine asks a running dev-mode unid over a real
// connection, as a browser on the machine and as a proxy in front of it.
func TestDevPagesAnswerOnlyThisMachine(t *testing.T) {
	srv := apptest.Start(t, nil)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	id, _ := srv.Browser(t).Captcha()
	tests := []struct {
		name   string
		host   string
		header []string
		want   int
	}{
		{name: "127.0.0.1:port", host: "127.0.0.1:" + port, want: http.StatusOK},
		{name: "localhost:port", host: "localhost:" + port, want: http.StatusOK},
		{name: "[::1]:port", host: "[::1]:" + port, want: http.StatusOK},
		{name: "Host evil.example", host: "evil.example", want: http.StatusNotFound},
		{name: "Host id.example.gov.cn:443", host: "id.example.gov.cn:443", want: http.StatusNotFound},
		{name: "X-Forwarded-For", host: "127.0.0.1:" + port, header: []string{"X-Forwarded-For", "192.0.2.7"}, want: http.StatusNotFound},
		{name: "Forwarded", host: "127.0.0.1:" + port, header: []string{"Forwarded", "for=192.0.2.7;host=id.example.gov.cn"}, want: http.StatusNotFound},
		{name: "X-Forwarded-Host", host: "127.0.0.1:" + port, header: []string{"X-Forwarded-Host", "id.example.gov.cn"}, want: http.StatusNotFound},
		{name: "X-Real-IP", host: "127.0.0.1:" + port, header: []string{"X-Real-IP", "192.0.2.7"}, want: http.StatusNotFound},
	}
	for _, path := range []string{"/dev/", "/dev/outbox.json", "/dev/captchas/" + id} {
		for _, tt := range tests {
			t.Run(path+" "+tt.name, func(t *testing.T) {
				req, err := http.NewRequest("GET", srv.URL+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Host = tt.host
				for i := 0; i+1 < len(tt.header); i += 2 {
					req.Header.Set(tt.header[i], tt.header[i+1])
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != tt.want {
					t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.want, body)
				}
				if tt.want == http.StatusNotFound && strings.Contains(string(body), srv.CaptchaAnswer(t, id)) {
					t.Errorf("the 404 shows the captcha answer")
				}
			})
		}
	}
}

// TestIndexListsCodesAndCaptchas: the /dev/ page shows the latest messages
// first and the captchas that can still be answered, with their answers.
func TestIndexListsCodesAndCaptchas(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := srv.Browser(t)
	for _, phone := range []string{"13800138001", "13800138002"} {
		b.SendCode(phone)
	}
	open, answer := b.Captcha()

	res, err := http.Get(srv.URL + "/dev/")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	page := string(data)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /dev/: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	first, second := strings.Index(page, "13800138002"), strings.Index(page, "13800138001")
	if first < 0 || second < 0 || first > second {
		t.Errorf("outbox not listed newest first:\n%s", page)
	}
	for _, code := range []string{srv.LastCode(t, "13800138001"), srv.LastCode(t, "13800138002"), open, answer} {
		if !strings.Contains(page, code) {
			t.Errorf("page lacks %q:\n%s", code, page)
		}
	}
	// The captchas used up by sending the codes are not listed.
	if n := strings.Count(page, `href="/dev/captchas/`); n != 1 {
		t.Errorf("%d captchas listed, want the 1 still open:\n%s", n, page)
	}
	// The sandbox's test people, so that a developer can reach each level.
	for _, want := range []string{"张三", "11010519491231002X", "6222020200112233446", "91310115000000000Q"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks the sandbox person's %q", want)
		}
	}
}
