package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestREADMEConfigTableIsCurrent(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printConfigTable(&out)
	if !bytes.Contains(readme, out.Bytes()) {
		t.Fatalf("README.md's configuration table is not the output of `unid config`; paste it in:\n%s", out.String())
	}
}

func TestCommands(t *testing.T) {
	noenv := func(string) string { return "" }
	tests := []struct {
		name    string
		args    []string
		wantOut string
		wantErr string
	}{
		{"version", []string{"version"}, "dev", ""},
		{"no command", nil, "", "command is required"},
		{"unknown command", []string{"frobnicate"}, "", "unknown command"},
		{"dev on a public address", []string{"serve", "--dev", "--addr", "0.0.0.0:8080"}, "", "loopback"},
		{"production without key file", []string{"serve", "--addr", "127.0.0.1:0", "--sms-gateway-url", "http://127.0.0.1:9/", "--sms-gateway-secret", "s", "--data", "DATA"}, "", "unid keys init"},
		{"migrate", []string{"migrate", "--dev", "--data", "DATA"}, "schema version 0 →", ""},
		{"keys init", []string{"keys", "init", "--key-file", "DATA/k.key"}, "wrote", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "DATA", dir)
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, noenv, &stdout, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want %q", stdout.String(), tt.wantOut)
			}
		})
	}
}

func TestKeysInitRefusesToOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unid.key")
	var out bytes.Buffer
	noenv := func(string) string { return "" }
	if err := run(context.Background(), []string{"keys", "init", "--key-file", path}, noenv, &out, &out); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if err := run(context.Background(), []string{"keys", "init", "--key-file", path}, noenv, &out, &out); err == nil {
		t.Fatal("a second keys init overwrote the key file")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("key file changed")
	}
}

func TestServeDevStartsAndStops(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stdout, stderr syncBuffer
	go func() {
		done <- run(ctx, []string{"serve", "--dev", "--addr", addr, "--data", dir}, func(string) string { return "" }, &stdout, &stderr)
	}()
	var res *http.Response
	for i := 0; i < 100; i++ {
		if res, err = http.Get("http://" + addr + "/readyz"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("unid serve --dev did not come up: %v\n%s", err, stderr.String())
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %d", res.StatusCode)
	}
	for _, f := range []string{"unid.db", "unid.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("dev run did not create %s: %v", f, err)
		}
	}
	if !strings.Contains(stdout.String(), "http://"+addr+"/") {
		t.Errorf("dev start does not say where to go: %q", stdout.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve ended with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
