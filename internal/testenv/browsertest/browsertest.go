// Package browsertest starts the headless Chromium of unid's browser
// tests: one place for the flags that work on the test machines, the
// fresh profile and the timeout, and for the virtual authenticator of the
// passkey tests.
package browsertest

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"unid/internal/testenv"
)

// Tab starts a headless Chromium (testenv.Chromium: skipped, or failed
// under UNID_REQUIRE_ALL, where there is none) with a fresh profile that
// asks for Chinese pages, and returns a tab that closes with the test, at
// the latest after two minutes. extra adds options, such as a window size.
func Tab(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(testenv.Chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("accept-lang", "zh-CN"),
	)
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// Passkeys gives the tab a virtual authenticator (DevTools' WebAuthn
// domain) that holds discoverable credentials and verifies its user, as
// a phone or a security key with a fingerprint does, and returns its ID.
func Passkeys(t testing.TB, ctx context.Context) webauthn.AuthenticatorID {
	t.Helper()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.AuthenticatorID
}

// Do runs steps in the tab, failing the test with the page's address and
// text when one fails.
func Do(t testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("browser: %v\nat %s\npage text: %s", err, loc, body)
	}
}

// Text returns the text of the first element sel selects.
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// Until evaluates expr until it is a non-empty string or true (riding out
// page loads), for 15 seconds at most, and returns its value as a string;
// else it fails the test with the page's address and text.
func Until(t testing.TB, ctx context.Context, expr string) string {
	t.Helper()
	var last error
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr))
		last = err
		switch v := v.(type) {
		case string:
			if v != "" {
				return v
			}
		case bool:
			if v {
				return "true"
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	t.Fatalf("never true: %s (at %s, last error %v)\npage text: %s", expr, loc, last, body)
	return ""
}
