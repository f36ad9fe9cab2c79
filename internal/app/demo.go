package app

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"time"

	"unid/internal/audit"
	"unid/internal/client"
	"unid/internal/problem"
	"unid/internal/records"
	"unid/internal/store"
)

// DemoClientID is the client that --dev registers for examples/servicehall.
const DemoClientID = "demo-servicehall"

// demoClient is the file examples/servicehall reads.
type demoClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// seedDemoClient registers the demo service hall in dev mode, so that
// `go run ./examples/servicehall` next to `unid serve --dev` needs no set-up.
// Its secret goes to <data>/demo-client.json (mode 0600); if that file is
// gone, the secret is rotated and written again.
func (a *App) seedDemoClient(ctx context.Context) error {
	path := filepath.Join(a.Config.DataDir, "demo-client.json")
	seeder := audit.Origin{Actor: audit.System()}
	_, statErr := os.Stat(path)
	var secret string
	c, err := a.Clients.Get(ctx, DemoClientID)
	if err == nil {
		if err := a.grantDemoRecordScopes(ctx, c); err != nil {
			return err
		}
	}
	switch {
	case problem.As(err).Code == "client_not_found":
		base := "http://127.0.0.1:8081"
		_, secret, err = a.Clients.Create(ctx, client.Spec{
			ID: DemoClientID, Name: "网上办事大厅（演示）", Type: store.ClientOIDCConfidential,
			RedirectURIs: []string{base + "/callback"}, PostLogoutRedirectURIs: []string{base + "/"},
			Scopes: append([]string{"openid", "profile", "phone"}, demoRecordScopes()...), FirstParty: true,
			BackchannelLogoutURI: base + "/backchannel-logout",
		}, seeder)
		if err != nil {
			return err
		}
	case err != nil:
		return err
	case errors.Is(statErr, os.ErrNotExist):
		if secret, err = a.Clients.RotateSecret(ctx, DemoClientID, seeder); err != nil {
			return err
		}
	default:
		return nil
	}
	data, err := json.MarshalIndent(demoClient{ClientID: DemoClientID, ClientSecret: secret}, "", "  ")
	if err != nil {
		return err
	}
	a.logger.Info("registered the demo service hall for examples/servicehall", "client_id", DemoClientID, "file", path)
	return os.WriteFile(path, append(data, '\n'), 0o600)
}

// demoRecordScopes are the records the demo service hall writes for its
// users: a case when they apply, messages about it.
func demoRecordScopes() []string {
	var out []string
	for _, plural := range []string{"cases", "messages"} {
		k, _ := records.ByPlural(plural)
		out = append(out, k.WriteScope())
	}
	return out
}

// grantDemoRecordScopes gives a demo client registered by an earlier
// release the records scopes, so that its 提交申请 works in a data
// directory of before.
func (a *App) grantDemoRecordScopes(ctx context.Context, c store.Client) error {
	missing := false
	for _, s := range demoRecordScopes() {
		missing = missing || !slices.Contains(c.Scopes, s)
	}
	if !missing {
		return nil
	}
	_, err := a.Store.UpdateClient(ctx, DemoClientID, func(c store.Client) (store.Client, error) {
		for _, s := range demoRecordScopes() {
			if !slices.Contains(c.Scopes, s) {
				c.Scopes = append(c.Scopes, s)
			}
		}
		c.UpdatedAt = a.now().UTC().Truncate(time.Millisecond)
		return c, nil
	})
	return err
}
