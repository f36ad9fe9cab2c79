package scaleout_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"unid/internal/httpsig/httpsigtest"
	"unid/internal/notify"
	"unid/internal/store"
	"unid/internal/store/postgres/pgtest"
	"unid/internal/store/redis/redistest"
	"unid/internal/testenv"
)

// exampleSite is the documented nginx site; the test runs it.
const exampleSite = "../../examples/nginx/unid.conf"

// cluster is nginx in front of two unid processes, as deployment.md
// draws it, with the SMS gateway they send through.
type cluster struct {
	t     *testing.T
	URL   string // nginx, https; the public URL of both instances
	bin   string // the unid binary
	dir   string
	dbURL string
	// keyFile is the one key file of all instances.
	keyFile string
	inst    [2]*instance
	gw      *gateway
	proxy   *proxy
	// challenges is where the instances keep captchas (Redis), for
	// their answers.
	challenges store.Challenges
	certs      *x509.CertPool // trusts nginx's certificate

	mu    sync.Mutex
	trail []hop // every answer that came through nginx, in order
	pin   int   // the instance the next requests must reach; -1: any
}

// instance is one unid process.
type instance struct {
	name, addr, metrics, data, log string
	args                           []string
	cmd                            *exec.Cmd
	done                           chan struct{}
}

// hop is one answer through nginx.
type hop struct {
	method, path string
	status       int
	requestID    string // X-Request-Id, set by the unid that answered
}

// startCluster builds unid, creates its database, key file and service
// systems, and starts the gateway, both instances and nginx.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	nginxBin := testenv.Nginx(t)
	redisURL := testenv.RedisURL(t)
	c := &cluster{t: t, dir: t.TempDir(), dbURL: pgtest.NewDatabase(t), pin: -1}
	c.bin = buildUnid(t, c.dir)
	c.gw = startGateway(t)

	nginxPort, redirectPort := testenv.FreePort(t), testenv.FreePort(t)
	c.URL = fmt.Sprintf("https://127.0.0.1:%d", nginxPort)
	c.keyFile = filepath.Join(c.dir, "unid.key")
	c.run("keys", "init", "--key-file", c.keyFile)
	// One set of settings for both, as every instance of a province runs
	// with the same UNID_DATABASE_URL, UNID_REDIS_URL, key file and public
	// URL (deployment.md); everything else is unid's production default.
	common := []string{
		"--database-url", c.dbURL, "--redis-url", redisURL, "--key-file", c.keyFile,
		"--public-url", c.URL, "--trust-proxy",
		"--sms-gateway-url", c.gw.URL + "/sms", "--sms-gateway-secret", string(c.gw.Secret),
	}
	for i := range c.inst {
		in := &instance{
			name:    fmt.Sprintf("unid-%d", i+1),
			addr:    fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
			metrics: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
			data:    filepath.Join(c.dir, fmt.Sprintf("data-%d", i+1)),
		}
		in.log = in.data + ".log"
		in.args = append([]string{"serve", "--addr", in.addr, "--metrics-addr", in.metrics, "--data", in.data}, common...)
		c.inst[i] = in
	}
	// The first start migrates the new database; the second finds it done.
	c.start(0)
	c.start(1)
	c.challenges = redistest.ServerChallenges(t, redisURL)
	c.proxy = startNginx(t, nginxBin, c, nginxPort, redirectPort)
	return c
}

// buildUnid builds the unid binary into dir as docs/operations.md tells
// operators to, static.
func buildUnid(t *testing.T, dir string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(dir, "unid")
	cmd := exec.Command(gobin, "build", "-trimpath", "-o", bin, "unid/cmd/unid")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// run runs a unid command on the cluster's database and returns stdout.
func (c *cluster) run(args ...string) []byte {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.Dir = c.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("unid %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// createClient registers a service system with `unid client create` and
// returns its secret.
func (c *cluster) createClient(args ...string) string {
	c.t.Helper()
	out := c.run(append([]string{"client", "create", "--data", c.dir, "--database-url", c.dbURL, "--key-file", c.keyFile}, args...)...)
	var created struct {
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out, &created); err != nil {
		c.t.Fatalf("client create printed %s: %v", out, err)
	}
	return created.Secret
}

// start runs instance i and waits until its /readyz answers 200.
func (c *cluster) start(i int) {
	c.t.Helper()
	in := c.inst[i]
	logFile, err := os.OpenFile(in.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	defer logFile.Close()
	in.cmd = exec.Command(c.bin, in.args...)
	in.cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	in.cmd.Stdout, in.cmd.Stderr = logFile, logFile
	if err := in.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	in.done = make(chan struct{})
	go func() { in.cmd.Wait(); close(in.done) }()
	c.t.Cleanup(func() {
		in.cmd.Process.Signal(syscall.SIGTERM)
		<-in.done
		if c.t.Failed() {
			b, _ := os.ReadFile(in.log)
			c.t.Logf("%s log:\n%s", in.name, b)
		}
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		select {
		case <-in.done:
			b, _ := os.ReadFile(in.log)
			c.t.Fatalf("%s ended at start:\n%s", in.name, b)
		default:
		}
		if res, err := http.Get("http://" + in.addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				c.checkLazyFree(in)
				return
			}
		}
	}
	c.t.Fatalf("%s not ready within 30 s", in.name)
}

// checkLazyFree checks that the serving process is the program started
// again with madvdontneed=0 (app.ExecLazyFree), in place: the same
// process, which the test's signals reach.
func (c *cluster) checkLazyFree(in *instance) {
	c.t.Helper()
	if runtime.GOOS != "linux" {
		return // a setting for Linux only
	}
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", in.cmd.Process.Pid))
	if err != nil {
		c.t.Fatalf("%s: %v", in.name, err)
	}
	if !slices.Contains(strings.Split(string(env), "\x00"), "GODEBUG=madvdontneed=0") {
		c.t.Errorf("%s serves without GODEBUG=madvdontneed=0; its environment: %q", in.name, env)
	}
	// Still named as its file for ps, top and pgrep.
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", in.cmd.Process.Pid))
	if got, want := strings.TrimSpace(string(comm)), filepath.Base(c.bin); got != want {
		c.t.Errorf("%s runs as process name %q, want %q", in.name, got, want)
	}
}

// kill ends instance i with SIGKILL, as a crash or the OOM killer would:
// no graceful shutdown, nothing flushed.
func (c *cluster) kill(i int) {
	c.t.Helper()
	in := c.inst[i]
	if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	<-in.done
}

// client returns an HTTP client through nginx that records every answer
// in the trail; jar may be nil. It follows no redirects: the test looks
// at each, as the user's browser would go through them.
func (c *cluster) client(jar http.CookieJar) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: c.certs}, ForceAttemptHTTP2: true}
	return &http.Client{
		Jar:           jar,
		Transport:     recorder{c: c, next: tr},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

type recorder struct {
	c    *cluster
	next http.RoundTripper
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.next.RoundTrip(req)
	if err == nil && req.URL.Host == strings.TrimPrefix(r.c.URL, "https://") {
		r.c.mu.Lock()
		r.c.trail = append(r.c.trail, hop{method: req.Method, path: req.URL.Path, status: res.StatusCode, requestID: res.Header.Get("X-Request-Id")})
		r.c.mu.Unlock()
	}
	return res, err
}

// hops returns the trail from index from on.
func (c *cluster) hops(from int) []hop {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]hop(nil), c.trail[from:]...)
}

// mark is the index of the next hop.
func (c *cluster) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.trail)
}

// servedBy returns the index of the instance that answered h, found by
// its request id in the instances' access logs; -1 when none did (nginx
// answered on its own).
func (c *cluster) servedBy(h hop) int {
	c.t.Helper()
	if h.requestID == "" {
		return -1
	}
	needle := []byte("request_id=" + h.requestID)
	// An instance writes the access line as the answer leaves: wait a
	// little for it.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for i, in := range c.inst {
			if b, _ := os.ReadFile(in.log); bytes.Contains(b, needle) {
				return i
			}
		}
	}
	c.t.Fatalf("%s %s (request %s) is in no instance's log", h.method, h.path, h.requestID)
	return -1
}

// last returns the instance that answered the newest hop.
func (c *cluster) last() int {
	c.t.Helper()
	h := c.hops(c.mark() - 1)
	return c.servedBy(h[0])
}

// steer makes the next request reach instance i. nginx sends each request
// to the other instance than the one before (checkRoundRobin checks it),
// so one GET /healthz moves the turn when it is not i's.
func (c *cluster) steer(i int) {
	c.t.Helper()
	if c.mark() == 0 {
		c.healthz()
	}
	if c.last() != i {
		return
	}
	c.healthz()
	if c.last() == i {
		c.t.Fatalf("two requests in a row went to %s: nginx does not round robin", c.inst[i].name)
	}
}

// healthz asks nginx for GET /healthz.
func (c *cluster) healthz() {
	c.t.Helper()
	res, err := c.client(nil).Get(c.URL + "/healthz")
	if err != nil {
		c.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		c.t.Fatalf("healthz through nginx: %d", res.StatusCode)
	}
}

// checkRoundRobin fails unless every hop from index from on came from an
// instance, the other one than the hop before.
func (c *cluster) checkRoundRobin(from int) {
	c.t.Helper()
	hops := c.hops(from)
	seen := [2]int{}
	prev := -1
	for _, h := range hops {
		i := c.servedBy(h)
		if i < 0 {
			c.t.Fatalf("nginx answered %s %s itself (%d)", h.method, h.path, h.status)
		}
		if i == prev {
			c.t.Errorf("%s %s went to %s again, not round robin", h.method, h.path, c.inst[i].name)
		}
		seen[i]++
		prev = i
	}
	if seen[0] == 0 || seen[1] == 0 {
		c.t.Errorf("answers per instance %v; want both to serve", seen)
	}
	c.t.Logf("round robin: %d answers from %s, %d from %s", seen[0], c.inst[0].name, seen[1], c.inst[1].name)
}

// captchaAnswer reads the digits of captcha id from Redis, as a person
// reads them off the picture.
func (c *cluster) captchaAnswer(id string) string {
	c.t.Helper()
	ch, err := c.challenges.GetChallenge(context.Background(), store.ChallengeCaptcha, id)
	if err != nil {
		c.t.Fatalf("captcha %s: %v", id, err)
	}
	digits := make([]byte, len(ch.Secret))
	for i, d := range ch.Secret {
		digits[i] = '0' + d
	}
	return string(digits)
}

// gateway is the SMS gateway of the province, and the phones behind it.
type gateway struct {
	*httpsigtest.Service
	mu   sync.Mutex
	sent []notify.GatewayRequest
}

// startGateway runs a gateway that takes every message whose signature
// (package httpsig, under its secret) is right and keeps it for the phone.
func startGateway(t *testing.T) *gateway {
	g := &gateway{}
	secret := []byte(rand.Text())
	g.Service = httpsigtest.Start(t, secret, func(op, id string, body []byte) ([]byte, bool) {
		var m notify.GatewayRequest
		if op != "sms" || json.Unmarshal(body, &m) != nil {
			return nil, false
		}
		g.mu.Lock()
		g.sent = append(g.sent, m)
		g.mu.Unlock()
		return []byte(`{"id":"` + id + `"}`), true
	})
	return g
}

// texts returns the messages phone received.
func (g *gateway) texts(phone string) []notify.GatewayRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	var got []notify.GatewayRequest
	for _, m := range g.sent {
		if strings.HasSuffix(m.Phone, phone) {
			got = append(got, m)
		}
	}
	return got
}

// proxy is the running nginx.
type proxy struct {
	redirect  string // the plain-HTTP listener of the example, http://…
	errorLog  string
	accessLog string
}

// siteRewrite is one change of the example: every match of re, which
// must match count times, becomes $1 followed by with(k) for the k-th
// match.
type siteRewrite struct {
	re    *regexp.Regexp
	count int
	with  func(k int) string
}

// deriveSite turns the documented site into one that runs on this machine,
// as this user. Only addresses and paths change; every directive that
// decides how a request reaches unid (the upstream and its max_fails,
// keepalive, the headers, proxy_next_upstream, timeouts, buffering, the
// log format) is the example's own. startNginx has it make these changes:
//
//   - the upstream's servers become the two loopback instances, in order;
//   - "listen 443" and "listen 80" become free loopback ports;
//   - the certificate and its key become httptest's self-signed pair for
//     127.0.0.1, which the test's clients trust;
//   - the access log goes to the test's directory.
//
// Each rewrite must match as often as it says, so that a change of the
// example that the test does not follow fails here, rather than leaving
// the test running something else than the example.
func deriveSite(example string, rewrites []siteRewrite) (string, error) {
	for _, rw := range rewrites {
		if n := len(rw.re.FindAllStringIndex(example, -1)); n != rw.count {
			return "", fmt.Errorf("%s matches %s %d times, want %d: the test no longer follows the example", exampleSite, rw.re, n, rw.count)
		}
		k := 0
		example = rw.re.ReplaceAllStringFunc(example, func(m string) string {
			out := rw.re.ReplaceAllString(m, "${1}"+rw.with(k))
			k++
			return out
		})
	}
	return example, nil
}

// nginxMain stands for Debian's /etc/nginx/nginx.conf, which includes the
// site from its http block: the same, with the paths of the process in the
// test's directory. One worker keeps one round-robin turn, so that
// requests alternate strictly between the instances.
const nginxMain = `daemon off;
worker_processes 1;
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log warn;
events { worker_connections 256; }
http {
    client_body_temp_path {{dir}}/tmp/body;
    proxy_temp_path {{dir}}/tmp/proxy;
    fastcgi_temp_path {{dir}}/tmp/fastcgi;
    uwsgi_temp_path {{dir}}/tmp/uwsgi;
    scgi_temp_path {{dir}}/tmp/scgi;
    access_log {{dir}}/access.log;
    include {{dir}}/unid.conf;
}
`

// startNginx runs nginx on the site derived from the example until the
// test ends.
func startNginx(t *testing.T, bin string, c *cluster, port, redirectPort int) *proxy {
	t.Helper()
	dir := filepath.Join(c.dir, "nginx")
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// nginx's workers run as nobody when the master is root; they
		// must reach their temporary files.
		for _, d := range []string{filepath.Dir(c.dir), c.dir, dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	certFile, keyFile := filepath.Join(dir, "unid.crt"), filepath.Join(dir, "unid.key")
	c.certs = loopbackCert(t, certFile, keyFile)

	example, err := os.ReadFile(exampleSite)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{redirect: fmt.Sprintf("http://127.0.0.1:%d", redirectPort),
		errorLog: filepath.Join(dir, "error.log"), accessLog: filepath.Join(dir, "unid.log")}
	site, err := deriveSite(string(example), []siteRewrite{
		{regexp.MustCompile(`(?m)^(\s*server\s+)[0-9A-Za-z.:\[\]-]+:[0-9]+`), 2, func(k int) string { return c.inst[k].addr }},
		{regexp.MustCompile(`(?m)^(\s*listen\s+)443\b`), 1, func(int) string { return fmt.Sprintf("127.0.0.1:%d", port) }},
		{regexp.MustCompile(`(?m)^(\s*listen\s+)80\b`), 1, func(int) string { return fmt.Sprintf("127.0.0.1:%d", redirectPort) }},
		{regexp.MustCompile(`(?m)^(\s*ssl_certificate\s+)\S+;`), 1, func(int) string { return certFile + ";" }},
		{regexp.MustCompile(`(?m)^(\s*ssl_certificate_key\s+)\S+;`), 1, func(int) string { return keyFile + ";" }},
		{regexp.MustCompile(`(?m)^(\s*access_log\s+)\S+`), 1, func(int) string { return p.accessLog }},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "unid.conf"), []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(nginxMain, "{{dir}}", dir)), 0o644); err != nil {
		t.Fatal(err)
	}

	// Output to a file: the workers inherit it, and a pipe would keep
	// Wait waiting for them.
	out, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(bin, "-p", dir, "-e", p.errorLog, "-c", conf)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	logs := func() string {
		a, _ := os.ReadFile(out.Name())
		b, _ := os.ReadFile(p.errorLog)
		return string(a) + string(b)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
		if t.Failed() {
			t.Logf("nginx site:\n%s\nnginx log:\n%s", site, logs())
		}
	})
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-done:
			t.Fatalf("nginx ended at start:\n%s", logs())
		default:
		}
		if conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			conn.Close()
			return p
		}
	}
	t.Fatalf("nginx does not listen within 15 s:\n%s", logs())
	return nil
}

// loopbackCert writes httptest's certificate for 127.0.0.1 and its key
// for nginx, and returns a pool that trusts it.
func loopbackCert(t *testing.T, certFile, keyFile string) *x509.CertPool {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	defer ts.Close()
	keyDER, err := x509.MarshalPKCS8PrivateKey(ts.TLS.Certificates[0].PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	return pool
}
