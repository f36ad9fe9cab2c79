package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"unid/internal/store"
)

// ExportFormat is the first field of a JSON export and names its layout.
const ExportFormat = "unid-audit-export/1"

// csvHeader is the header row of a CSV export.
var csvHeader = []string{"seq", "time", "actor", "action", "result", "ip", "user_agent", "subject", "detail", "prev_hash", "hash"}

// Summary is what an export holds, or what a verification checked: the
// events from From to To (sequence numbers), the hash the first one links
// to (PrevHash, empty for the log's first event) and the hash of the last
// one (Head). Comparing Head with the head of the log at the time of the
// export (what `unid audit verify` prints) shows that the file is the log.
type Summary struct {
	From, To int64
	Events   int64
	PrevHash []byte
	Head     []byte
}

// exportEvent is an event as a JSON export writes it.
type exportEvent struct {
	Seq       int64  `json:"seq"`
	Time      string `json:"time"` // RFC 3339 with nanoseconds, as hashed
	Actor     string `json:"actor"`
	Action    string `json:"action"`
	Result    string `json:"result"`
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
	Subject   string `json:"subject"`
	Detail    string `json:"detail"`
	PrevHash  string `json:"prev_hash"`
	Hash      string `json:"hash"`
}

func toExport(e store.AuditEvent) exportEvent {
	return exportEvent{
		Seq: e.Seq, Time: e.Time.UTC().Format(time.RFC3339Nano), Actor: e.Actor, Action: e.Action, Result: e.Result,
		IP: e.IP, UserAgent: e.UserAgent, Subject: e.Subject, Detail: e.Detail,
		PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash),
	}
}

func fromExport(x exportEvent) (store.AuditEvent, error) {
	t, err := time.Parse(time.RFC3339Nano, x.Time)
	if err != nil {
		return store.AuditEvent{}, fmt.Errorf("event %d: time: %w", x.Seq, err)
	}
	prev, err := hex.DecodeString(x.PrevHash)
	if err != nil {
		return store.AuditEvent{}, fmt.Errorf("event %d: prev_hash: %w", x.Seq, err)
	}
	h, err := hex.DecodeString(x.Hash)
	if err != nil {
		return store.AuditEvent{}, fmt.Errorf("event %d: hash: %w", x.Seq, err)
	}
	return store.AuditEvent{Seq: x.Seq, Time: t, Actor: x.Actor, Action: x.Action, Result: x.Result, IP: x.IP,
		UserAgent: x.UserAgent, Subject: x.Subject, Detail: x.Detail, PrevHash: prev, Hash: h}, nil
}

// chain checks events one after another: each follows the one before
// (sequence and link) and its hash is its content's. A chain that is not
// anchored takes its first event's link as given (a range of the log);
// an anchored one starts before event 1 (the whole log).
type chain struct {
	sum      Summary
	prev     []byte
	seq      int64
	anchored bool
}

func (c *chain) add(e store.AuditEvent) error {
	if !c.anchored {
		c.prev, c.seq, c.anchored = e.PrevHash, e.Seq-1, true
	}
	if c.sum.Events == 0 {
		c.sum.From, c.sum.PrevHash = e.Seq, c.prev
	}
	switch {
	case e.Seq != c.seq+1:
		return fmt.Errorf("audit: event %d follows %d: events are missing", e.Seq, c.seq)
	case !bytes.Equal(e.PrevHash, c.prev):
		return fmt.Errorf("audit: event %d does not link to event %d", e.Seq, c.seq)
	case !bytes.Equal(Hash(e), e.Hash):
		return fmt.Errorf("audit: event %d was altered", e.Seq)
	}
	c.prev, c.seq = e.Hash, e.Seq
	c.sum.To, c.sum.Head = e.Seq, e.Hash
	c.sum.Events++
	return nil
}

// Export writes the events from..to of the log (to 0: up to the newest)
// to w as "json" or "csv", checking the chain as it goes: a broken link
// stops the export with the error that names it.
func Export(ctx context.Context, s store.AuditLog, from, to int64, format string, w io.Writer) (Summary, error) {
	if format != "json" && format != "csv" {
		return Summary{}, fmt.Errorf("audit: export format %q: json or csv", format)
	}
	bw := bufio.NewWriter(w)
	var cw *csv.Writer
	if format == "csv" {
		cw = csv.NewWriter(bw)
		if err := cw.Write(csvHeader); err != nil {
			return Summary{}, err
		}
	} else {
		fmt.Fprintf(bw, "{\"format\":%q,\"events\":[\n", ExportFormat)
	}
	var c chain
	after := max(from-1, 0)
	for done := false; !done && (to <= 0 || after < to); {
		page, err := s.ListAudit(ctx, after, 1000)
		if err != nil {
			return c.sum, fmt.Errorf("audit: export: %w", err)
		}
		done = len(page) == 0
		for _, e := range page {
			if to > 0 && e.Seq > to {
				done = true
				break
			}
			if err := c.add(e); err != nil {
				return c.sum, err
			}
			x := toExport(e)
			if cw != nil {
				err = cw.Write([]string{strconv.FormatInt(x.Seq, 10), x.Time, x.Actor, x.Action, x.Result, x.IP,
					x.UserAgent, x.Subject, x.Detail, x.PrevHash, x.Hash})
			} else {
				if c.sum.Events > 1 {
					bw.WriteString(",\n")
				}
				var b []byte
				if b, err = json.Marshal(x); err == nil {
					_, err = bw.Write(b)
				}
			}
			if err != nil {
				return c.sum, err
			}
			after = e.Seq
		}
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return c.sum, err
		}
	} else {
		fmt.Fprintf(bw, "\n],\"from\":%d,\"to\":%d,\"prev_hash\":%q,\"head\":%q}\n",
			c.sum.From, c.sum.To, hex.EncodeToString(c.sum.PrevHash), hex.EncodeToString(c.sum.Head))
	}
	return c.sum, bw.Flush()
}

// jsonExport is a whole JSON export.
type jsonExport struct {
	Format   string        `json:"format"`
	Events   []exportEvent `json:"events"`
	From     int64         `json:"from"`
	To       int64         `json:"to"`
	PrevHash string        `json:"prev_hash"`
	Head     string        `json:"head"`
}

// VerifyExport checks an export written by Export, JSON or CSV (told by
// its first byte), with no database: every event's hash, every link, no
// event missing, and for JSON the range and head it declares. It returns
// what the file holds, or an error naming the first event that breaks.
func VerifyExport(r io.Reader) (Summary, error) {
	br := bufio.NewReader(r)
	first, err := br.Peek(1)
	if err != nil {
		return Summary{}, errors.New("audit: the export is empty")
	}
	var c chain
	if first[0] == '{' {
		var x jsonExport
		dec := json.NewDecoder(br)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&x); err != nil {
			return Summary{}, fmt.Errorf("audit: not a JSON export: %w", err)
		}
		if x.Format != ExportFormat {
			return Summary{}, fmt.Errorf("audit: format %q, want %q", x.Format, ExportFormat)
		}
		for _, xe := range x.Events {
			e, err := fromExport(xe)
			if err != nil {
				return c.sum, fmt.Errorf("audit: %w", err)
			}
			if err := c.add(e); err != nil {
				return c.sum, err
			}
		}
		if c.sum.From != x.From || c.sum.To != x.To || hex.EncodeToString(c.sum.Head) != x.Head ||
			hex.EncodeToString(c.sum.PrevHash) != x.PrevHash {
			return c.sum, fmt.Errorf("audit: the export declares events %d to %d ending in %s, and holds %d to %d ending in %s",
				x.From, x.To, x.Head, c.sum.From, c.sum.To, hex.EncodeToString(c.sum.Head))
		}
		return c.sum, nil
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = len(csvHeader)
	head, err := cr.Read()
	if err != nil || !slices.Equal(head, csvHeader) {
		return Summary{}, errors.New("audit: not a CSV export: the header row differs")
	}
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return c.sum, nil
		}
		if err != nil {
			return c.sum, fmt.Errorf("audit: CSV: %w", err)
		}
		seq, err := strconv.ParseInt(row[0], 10, 64)
		if err != nil {
			return c.sum, fmt.Errorf("audit: CSV: seq %q", row[0])
		}
		e, err := fromExport(exportEvent{Seq: seq, Time: row[1], Actor: row[2], Action: row[3], Result: row[4], IP: row[5],
			UserAgent: row[6], Subject: row[7], Detail: row[8], PrevHash: row[9], Hash: row[10]})
		if err != nil {
			return c.sum, fmt.Errorf("audit: %w", err)
		}
		if err := c.add(e); err != nil {
			return c.sum, err
		}
	}
}
