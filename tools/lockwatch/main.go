// Command lockwatch measures what a schema migration costs the instances
// that keep serving while it runs. Every 100 ms it makes, each on a
// connection of its own, a sign-in-shaped read (an account by its phone's
// blind index), an audit append (as the release before the console
// appends: without account_id and client_id, chained to the head) and a
// write of an account's row, and
// once a second it notes the statement the other sessions are running.
// On interrupt it prints the longest wait of each probe and every wait
// over -slow, with the statement that was running then.
//
//	go run ./tools/lockwatch -postgres URL -writes &
//	go run ./cmd/unid migrate --database-url URL --key-file KEY
//	kill -INT %1
//
// The appended events are ordinary ones (action "lockwatch.probe"): the
// chain verifies with them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"unid/internal/audit"
	"unid/internal/store"
)

func main() {
	url := flag.String("postgres", "", "URL of the database being migrated")
	every := flag.Duration("every", 100*time.Millisecond, "how often each probe runs")
	slow := flag.Duration("slow", 200*time.Millisecond, "report each probe that takes longer")
	writes := flag.Bool("writes", false, "confirm that the database is a measuring copy: lockwatch appends events to its audit trail and rewrites one account's row")
	flag.Parse()
	if *url == "" || !*writes {
		fmt.Fprintln(os.Stderr, "lockwatch: -postgres is required, and -writes: it appends audit events (action lockwatch.probe) and rewrites an account's row of the database it watches; never point it at a production database")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *url, *every, *slow); err != nil {
		fmt.Fprintln(os.Stderr, "lockwatch:", err)
		os.Exit(1)
	}
}

// probe is one kind of request, timed again and again.
type probe struct {
	name  string
	do    func(ctx context.Context, conn *pgx.Conn, i int) error
	n     int
	worst time.Duration
	at    time.Time // when the worst began
	fails int
}

// appName names the tool's own sessions, so that the watch leaves them
// out of what it reports as running.
const appName = "lockwatch"

// connect opens a session named appName.
func connect(ctx context.Context, url string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["application_name"] = appName
	return pgx.ConnectConfig(ctx, cfg)
}

func run(ctx context.Context, url string, every, slow time.Duration) error {
	conn, err := connect(ctx, url)
	if err != nil {
		return err
	}
	// Phones from all over the table, or from its start when it is too
	// small for a sample of its pages.
	var phones [][]byte
	for _, from := range []string{`users TABLESAMPLE SYSTEM (0.1)`, `users`} {
		rows, err := conn.Query(ctx, `SELECT phone_index FROM `+from+` WHERE phone_index IS NOT NULL LIMIT 1000`)
		if err != nil {
			return err
		}
		if phones, err = pgx.CollectRows(rows, pgx.RowTo[[]byte]); err != nil {
			return err
		}
		if len(phones) > 100 {
			break
		}
	}
	conn.Close(ctx)
	if len(phones) == 0 {
		return fmt.Errorf("no accounts with a phone to look up")
	}

	var (
		mu      sync.Mutex
		running string // what the other sessions run, as last seen
	)
	note := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
	}
	probes := []*probe{
		{name: "sign-in read", do: func(ctx context.Context, c *pgx.Conn, i int) error {
			var id string
			err := c.QueryRow(ctx, `SELECT id FROM users WHERE phone_index = $1`, phones[i%len(phones)]).Scan(&id)
			return err
		}},
		{name: "audit append", do: appendEvent},
		// A change to an account (a password, a phone) writes its row;
		// this one writes it unchanged.
		{name: "account write", do: func(ctx context.Context, c *pgx.Conn, i int) error {
			_, err := c.Exec(ctx, `UPDATE users SET updated_at = updated_at WHERE phone_index = $1`, phones[(i*7)%len(phones)])
			return err
		}},
	}
	var wg sync.WaitGroup
	for _, p := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := connect(ctx, url)
			if err != nil {
				note("%s: %v", p.name, err)
				return
			}
			defer c.Close(context.WithoutCancel(ctx))
			tick := time.NewTicker(every)
			defer tick.Stop()
			for i := 0; ; i++ {
				start := time.Now()
				err := p.do(ctx, c, i)
				took := time.Since(start)
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				p.n++
				if err != nil {
					p.fails++
					note("%s failed after %v: %v", p.name, took.Round(time.Millisecond), err)
				}
				if took > p.worst {
					p.worst, p.at = took, start
				}
				if took > slow {
					note("%s waited %v (from %s) while: %s", p.name, took.Round(time.Millisecond), start.Format("15:04:05.000"), running)
				}
				mu.Unlock()
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		}()
	}

	// The statement the other sessions run, noted when it changes: with
	// the times of the waits, it tells which step of a migration held
	// them up.
	watch, err := connect(ctx, url)
	if err != nil {
		return err
	}
	defer watch.Close(context.WithoutCancel(ctx))
	for ctx.Err() == nil {
		var q string
		// A migration runs its file as one statement: the index being
		// built, from the progress view, tells the steps apart.
		err := watch.QueryRow(ctx, `SELECT coalesce(string_agg(left(regexp_replace(a.query, '\s+', ' ', 'g'), 60)
				|| coalesce(' [' || p.command || ' on ' || p.relid::regclass || ': ' || p.phase || ']', ''), ' | '), '')
			FROM pg_stat_activity a LEFT JOIN pg_stat_progress_create_index p ON p.pid = a.pid
			WHERE a.datname = current_database() AND a.state = 'active' AND a.application_name <> $1`, appName).Scan(&q)
		if err != nil && ctx.Err() == nil {
			return err
		}
		mu.Lock()
		if q != running && ctx.Err() == nil {
			note("running: %s", strings.TrimSpace(q))
			running = q
		}
		mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	wg.Wait()
	for _, p := range probes {
		fmt.Printf("%s: %d runs, %d failed, longest %v from %s\n", p.name, p.n, p.fails,
			p.worst.Round(time.Millisecond), p.at.Format("15:04:05.000"))
	}
	return nil
}

// lockwatchActor is the actor of the probe's events (action
// lockwatch.probe): the system, not a person.
var lockwatchActor = audit.System().String()

// appendEvent appends an event as the release before the console does,
// naming only the columns that release knew, in one transaction that
// holds the chain head until it commits.
func appendEvent(ctx context.Context, c *pgx.Conn, _ int) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	e := store.AuditEvent{Time: time.Now().UTC().Truncate(time.Millisecond), Actor: lockwatchActor, Action: "lockwatch.probe", Result: "ok"}
	if err := tx.QueryRow(ctx, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`).Scan(&e.Seq, &e.PrevHash); err != nil {
		return err
	}
	e.Hash = audit.Hash(e)
	if _, err := tx.Exec(ctx, `INSERT INTO audit_events
		(seq, time, actor, action, result, ip, user_agent, subject, detail, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, '', '', '', '', $6, $7)`,
		e.Seq, e.Time.UnixMilli(), e.Actor, e.Action, e.Result, e.PrevHash, e.Hash); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_head SET hash = $1 WHERE id = 1`, e.Hash); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
