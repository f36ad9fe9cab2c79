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
	"strings"
	"time"

	"unid/internal/store"
)

// ExportFormat is the first field of a JSON export and names its layout:
// since schema 19 every event carries account and client after its hash.
// Exports of the first layout (exportFormatV1, without them) still verify.
const ExportFormat = "unid-audit-export/2"

const exportFormatV1 = "unid-audit-export/1"

// csvHeader is the header row of a CSV export; csvHeaderV1 that of
// exports written before events carried account and client.
var (
	csvHeaderV1 = []string{"seq", "time", "actor", "action", "result", "ip", "user_agent", "subject", "detail", "prev_hash", "hash"}
	csvHeader   = append(slices.Clone(csvHeaderV1), "account", "client")
)

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

// exportEventV2 is an event of an export of the current layout.
type exportEventV2 struct {
	exportEvent
	Account string `json:"account"`
	Client  string `json:"client"`
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

func fromExportV2(x exportEventV2) (store.AuditEvent, error) {
	e, err := fromExport(x.exportEvent)
	e.Account, e.Client = x.Account, x.Client
	return e, err
}

// Reasons a chain breaks, as Break names them.
const (
	BreakMissing  = "missing"  // events are missing before this one
	BreakUnlinked = "unlinked" // it does not link to the event before it
	BreakAltered  = "altered"  // its content is not what was hashed
	// BreakTruncated: this event and the ones after it, up to the head
	// the store recorded, were appended and are no longer stored.
	BreakTruncated = "truncated"
	// BreakUnproven: the retention anchor is at this event, but no
	// stored ActionArchived event records a cut there.
	BreakUnproven = "unproven"
)

// Break is the first event at which a chain does not hold.
type Break struct {
	Seq    int64  // the event
	After  int64  // the event checked before it (0: none)
	Reason string // BreakMissing, BreakUnlinked, BreakAltered, BreakTruncated or BreakUnproven
}

func (b *Break) Error() string {
	switch b.Reason {
	case BreakMissing:
		return fmt.Sprintf("audit: event %d follows %d: events are missing", b.Seq, b.After)
	case BreakUnlinked:
		return fmt.Sprintf("audit: event %d does not link to event %d", b.Seq, b.After)
	case BreakTruncated:
		return fmt.Sprintf("audit: event %d and the events after it were appended after event %d and are missing", b.Seq, b.After)
	case BreakUnproven:
		return fmt.Sprintf("audit: the retention anchor at event %d is unproven: no stored %s event records a cut there", b.Seq, ActionArchived)
	}
	return fmt.Sprintf("audit: event %d was altered", b.Seq)
}

// chain checks events one after another: each follows the one before
// (sequence and link) and its hash is its content's. A chain that is not
// anchored takes its first event's link as given (a range of the log);
// an anchored one starts after event seq, whose hash is prev (before
// event 1, or at the retention anchor).
//
// It keeps copies of the hashes it is given, so that the events it
// checks may be reused once add returns (see store.AuditLog.ScanAudit).
type chain struct {
	sum      Summary
	prev     []byte
	seq      int64
	anchored bool
	h        hasher
	last     [64]byte // holds prev once an event is checked: a hash of up to 64 bytes
}

func (c *chain) add(e store.AuditEvent) error {
	if !c.anchored {
		c.seq, c.anchored = e.Seq-1, true
		if e.Seq > 1 { // event 1 links to nothing, whatever a file says
			c.prev = bytes.Clone(e.PrevHash)
		}
	}
	if c.sum.Events == 0 {
		c.sum.From, c.sum.PrevHash = e.Seq, c.prev
	}
	switch {
	case e.Seq != c.seq+1:
		return &Break{Seq: e.Seq, After: c.seq, Reason: BreakMissing}
	case !bytes.Equal(e.PrevHash, c.prev):
		return &Break{Seq: e.Seq, After: c.seq, Reason: BreakUnlinked}
	case !c.h.check(e):
		return &Break{Seq: e.Seq, After: c.seq, Reason: BreakAltered}
	}
	c.prev, c.seq = append(c.last[:0], e.Hash...), e.Seq
	c.sum.To, c.sum.Head = e.Seq, c.prev
	c.sum.Events++
	return nil
}

// exportWriter writes an export: the header, one event at a time, then
// the trailer. VerifyExport writes again what it read with it, so that a
// file verifies only as the bytes Export made.
type exportWriter struct {
	bw     *bufio.Writer
	cw     *csv.Writer // nil for JSON
	v1     bool        // the first layout, without account and client
	events int64
}

func newExportWriter(format string, w io.Writer) (*exportWriter, error) {
	return newVersionWriter(format, false, w)
}

func newVersionWriter(format string, v1 bool, w io.Writer) (*exportWriter, error) {
	x := &exportWriter{bw: bufio.NewWriterSize(w, 64<<10), v1: v1}
	switch format {
	case "csv":
		x.cw = csv.NewWriter(x.bw)
		if v1 {
			return x, x.cw.Write(csvHeaderV1)
		}
		return x, x.cw.Write(csvHeader)
	case "json":
		f := ExportFormat
		if v1 {
			f = exportFormatV1
		}
		_, err := fmt.Fprintf(x.bw, "{\"format\":%q,\"events\":[\n", f)
		return x, err
	}
	return nil, fmt.Errorf("audit: export format %q: json or csv", format)
}

func (x *exportWriter) event(e store.AuditEvent) error {
	v := toExport(e)
	x.events++
	if x.v1 && (e.Account != "" || e.Client != "") {
		return fmt.Errorf("audit: event %d has an account or client, which a file of the first layout cannot hold", e.Seq)
	}
	if x.cw != nil {
		row := []string{strconv.FormatInt(v.Seq, 10), v.Time, cell(v.Actor), cell(v.Action), cell(v.Result),
			cell(v.IP), cell(v.UserAgent), cell(v.Subject), cell(v.Detail), v.PrevHash, v.Hash}
		if !x.v1 {
			row = append(row, cell(e.Account), cell(e.Client))
		}
		return x.cw.Write(row)
	}
	if x.events > 1 {
		x.bw.WriteString(",\n")
	}
	var b []byte
	var err error
	if x.v1 {
		b, err = json.Marshal(v)
	} else {
		b, err = json.Marshal(exportEventV2{exportEvent: v, Account: e.Account, Client: e.Client})
	}
	if err != nil {
		return err
	}
	_, err = x.bw.Write(b)
	return err
}

func (x *exportWriter) close(sum Summary) error {
	if x.cw != nil {
		x.cw.Flush()
		if err := x.cw.Error(); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(x.bw, "\n],\"from\":%d,\"to\":%d,\"prev_hash\":%q,\"head\":%q}\n",
			sum.From, sum.To, hex.EncodeToString(sum.PrevHash), hex.EncodeToString(sum.Head))
	}
	return x.bw.Flush()
}

// cell keeps a spreadsheet from reading a text field of a CSV export as a
// formula: a field that starts with = + - @ a tab, a carriage return or '
// gets a ' before it, which uncell takes away again.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r'", rune(s[0])) {
		return "'" + s
	}
	return s
}

func uncell(s string) string { return strings.TrimPrefix(s, "'") }

// Source is where an export reads the log from; the store is one.
type Source interface {
	ListAudit(ctx context.Context, afterSeq int64, limit int) ([]store.AuditEvent, error)
}

// Export writes the events from..to of the log (to 0: up to the newest)
// to w as "json" or "csv", checking the chain as it goes: a broken link
// or a missing first event stops the export with the error that names it,
// and a range with no events is an error.
func Export(ctx context.Context, s Source, from, to int64, format string, w io.Writer) (Summary, error) {
	from = max(from, 1)
	x, err := newExportWriter(format, w)
	if err != nil {
		return Summary{}, err
	}
	c := chain{anchored: from == 1} // the whole log starts before event 1
	after := from - 1
	for done := false; !done && (to <= 0 || after < to); {
		page, err := s.ListAudit(ctx, after, verifyPage)
		if err != nil {
			return c.sum, fmt.Errorf("audit: export: %w", err)
		}
		done = len(page) == 0
		for _, e := range page {
			if to > 0 && e.Seq > to {
				done = true
				break
			}
			if c.sum.Events == 0 && e.Seq != from {
				return c.sum, fmt.Errorf("audit: event %d is missing: the log goes on at %d", from, e.Seq)
			}
			if err := c.add(e); err != nil {
				return c.sum, err
			}
			if err := x.event(e); err != nil {
				return c.sum, err
			}
			after = e.Seq
		}
	}
	if c.sum.Events == 0 {
		return c.sum, fmt.Errorf("audit: no events from %d", from)
	}
	return c.sum, x.close(c.sum)
}

// jsonExport is a whole JSON export.
type jsonExport struct {
	Format   string          `json:"format"`
	Events   []exportEventV2 `json:"events"`
	From     int64           `json:"from"`
	To       int64           `json:"to"`
	PrevHash string          `json:"prev_hash"`
	Head     string          `json:"head"`
}

// VerifyExport checks an export written by Export, JSON or CSV (told by
// its first byte), with no database: every event's hash, every link, no
// event missing, for JSON the range and head it declares, and that the
// file is byte for byte what Export writes of those events (no key twice,
// nothing after its end, nothing written another way). It returns what
// the file holds, or an error naming the first event that breaks.
//
// The chain has no key: whoever can rewrite the trail can rewrite its
// hashes. Compare the head with the one printed when the export was made.
func VerifyExport(r io.Reader) (Summary, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Summary{}, fmt.Errorf("audit: read the export: %w", err)
	}
	if len(data) == 0 {
		return Summary{}, errors.New("audit: the export is empty")
	}
	var events []store.AuditEvent
	var declared *jsonExport // a JSON export's own account of itself
	format, v1 := "csv", false
	if data[0] == '{' {
		format = "json"
		var x jsonExport
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&x); err != nil {
			return Summary{}, fmt.Errorf("audit: not a JSON export: %w", err)
		}
		if x.Format != ExportFormat && x.Format != exportFormatV1 {
			return Summary{}, fmt.Errorf("audit: format %q, want %q", x.Format, ExportFormat)
		}
		v1 = x.Format == exportFormatV1
		for _, xe := range x.Events {
			e, err := fromExportV2(xe)
			if err != nil {
				return Summary{}, fmt.Errorf("audit: %w", err)
			}
			events = append(events, e)
		}
		declared = &x
	} else {
		cr := csv.NewReader(bytes.NewReader(data))
		cr.ReuseRecord = true
		head, err := cr.Read()
		v1 = err == nil && slices.Equal(head, csvHeaderV1)
		if err != nil || !v1 && !slices.Equal(head, csvHeader) {
			return Summary{}, errors.New("audit: not a CSV export: the header row differs")
		}
		for {
			row, err := cr.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return Summary{}, fmt.Errorf("audit: CSV: %w", err)
			}
			seq, err := strconv.ParseInt(row[0], 10, 64)
			if err != nil {
				return Summary{}, fmt.Errorf("audit: CSV: seq %q", row[0])
			}
			e, err := fromExport(exportEvent{Seq: seq, Time: row[1], Actor: uncell(row[2]), Action: uncell(row[3]),
				Result: uncell(row[4]), IP: uncell(row[5]), UserAgent: uncell(row[6]), Subject: uncell(row[7]),
				Detail: uncell(row[8]), PrevHash: row[9], Hash: row[10]})
			if err != nil {
				return Summary{}, fmt.Errorf("audit: %w", err)
			}
			if !v1 {
				e.Account, e.Client = uncell(row[11]), uncell(row[12])
			}
			events = append(events, e)
		}
	}
	sum, err := verifyEvents(events)
	if err != nil {
		return sum, err
	}
	if x := declared; x != nil && (sum.From != x.From || sum.To != x.To || hex.EncodeToString(sum.Head) != x.Head ||
		hex.EncodeToString(sum.PrevHash) != x.PrevHash) {
		return sum, fmt.Errorf("audit: the export declares events %d to %d ending in %s, and holds %d to %d ending in %s",
			x.From, x.To, x.Head, sum.From, sum.To, hex.EncodeToString(sum.Head))
	}
	var again bytes.Buffer
	x, _ := newVersionWriter(format, v1, &again)
	for _, e := range events {
		if err := x.event(e); err != nil {
			return sum, err
		}
	}
	if err := x.close(sum); err != nil {
		return sum, err
	}
	if !bytes.Equal(again.Bytes(), data) {
		return sum, errors.New("audit: the export's events verify, but the file is not written as unid writes an export (a key twice, text after its end, or a field written another way)")
	}
	return sum, nil
}

// verifyEvents checks a range of events read from a file.
func verifyEvents(events []store.AuditEvent) (Summary, error) {
	var c chain
	for _, e := range events {
		if err := c.add(e); err != nil {
			return c.sum, err
		}
	}
	if c.sum.Events == 0 {
		return c.sum, errors.New("audit: the export holds no events")
	}
	return c.sum, nil
}
