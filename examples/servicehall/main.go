// Command servicehall runs a demo government service system (网上办事大厅)
// that signs its users in through unid. Next to `go run ./cmd/unid serve
// --dev` it needs nothing else:
//
//	go run ./examples/servicehall
//
// Without --client-id it reads the demo client that unid's dev mode
// registers from ./data/demo-client.json.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"unid/examples/servicehall/hall"
)

func main() {
	if err := run(os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "servicehall:", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string) error {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fl := flag.NewFlagSet("servicehall", flag.ContinueOnError)
	issuer := fl.String("issuer", env("SERVICEHALL_ISSUER", "http://127.0.0.1:8080"), "unid's URL (env SERVICEHALL_ISSUER)")
	addr := fl.String("addr", env("SERVICEHALL_ADDR", "127.0.0.1:8081"), "listen address (env SERVICEHALL_ADDR)")
	baseURL := fl.String("base-url", env("SERVICEHALL_BASE_URL", ""), "this system's URL as browsers reach it; default http://<addr> (env SERVICEHALL_BASE_URL)")
	clientID := fl.String("client-id", env("SERVICEHALL_CLIENT_ID", ""), "client_id registered in unid (env SERVICEHALL_CLIENT_ID)")
	clientSecret := fl.String("client-secret", env("SERVICEHALL_CLIENT_SECRET", ""), "its secret (env SERVICEHALL_CLIENT_SECRET)")
	clientFile := fl.String("client-file", env("SERVICEHALL_CLIENT_FILE", "./data/demo-client.json"), "read client id and secret from this file when --client-id is not given (env SERVICEHALL_CLIENT_FILE)")
	title := fl.String("title", env("SERVICEHALL_TITLE", "网上办事大厅"), "page title (env SERVICEHALL_TITLE)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *clientID == "" && *clientSecret == "" {
		id, secret, err := readClientFile(*clientFile)
		if err != nil {
			return err
		}
		*clientID, *clientSecret = id, secret
	}
	if *baseURL == "" {
		*baseURL = "http://" + *addr
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	h, err := hall.New(hall.Config{
		Issuer: *issuer, ClientID: *clientID, ClientSecret: *clientSecret,
		BaseURL: *baseURL, Title: *title, Logger: logger,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	fmt.Printf("%s is running: open %s/ in a browser (it signs in through unid at %s; Ctrl-C stops it)\n", *title, strings.TrimRight(*baseURL, "/"), *issuer)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// readClientFile reads the demo client that `unid serve --dev` writes.
func readClientFile(path string) (id, secret string, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("%s does not exist: start unid first with `go run ./cmd/unid serve --dev` in the same directory (it registers the demo client and writes that file), or pass --client-id and --client-secret", path)
	}
	if err != nil {
		return "", "", err
	}
	var v struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return "", "", fmt.Errorf("%s: %w", path, err)
	}
	if v.ClientID == "" || v.ClientSecret == "" {
		return "", "", fmt.Errorf("%s lacks client_id or client_secret: delete it and restart `unid serve --dev`, which writes it again", path)
	}
	return v.ClientID, v.ClientSecret, nil
}
