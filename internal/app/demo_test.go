package app_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"unid/examples/servicehall/hall"
	"unid/internal/app"
	"unid/internal/app/apptest"
)

// TestDemoClientWritesRecords: the demo service hall that dev mode
// registers may write cases and messages: its own token from the token
// endpoint carries both scopes.
func TestDemoClientWritesRecords(t *testing.T) {
	srv := apptest.Start(t, nil)
	cc := demoClient(t, srv, hall.RecordScopes...)
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	scope, _ := tok.Extra("scope").(string)
	for _, s := range hall.RecordScopes {
		if !strings.Contains(" "+scope+" ", " "+s+" ") {
			t.Errorf("the demo client's token lacks %s: scope %q", s, scope)
		}
	}
}

// demoClient is the client a development server registers, as its
// demo-client.json names it, asking srv's token endpoint for scopes.
func demoClient(t *testing.T, srv *apptest.Server, scopes ...string) clientcredentials.Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(srv.App.Config.DataDir, "demo-client.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(data, &c); err != nil || c.ClientID != app.DemoClientID {
		t.Fatalf("demo-client.json: %s %v", data, err)
	}
	return clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: srv.URL + "/oidc/token",
		Scopes: scopes, AuthStyle: oauth2.AuthStyleInHeader}
}
