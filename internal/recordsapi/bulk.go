package recordsapi

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"

	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/records"
)

// ndjson is the media type of a bulk request and its answer.
const ndjson = "application/x-ndjson"

// lineAnswer is the answer to one line of a bulk request.
type lineAnswer struct {
	Line    int        `json:"line"`
	ID      string     `json:"id,omitempty"`
	Outcome string     `json:"outcome,omitempty"`
	Error   *lineError `json:"error,omitempty"`
}

// bulk answers POST /api/records/v1/bulk: one write per line of an NDJSON
// body, answered line by line in order, as NDJSON. A line that cannot be
// read or is refused is answered with its error and skipped; the good
// ones are written, BatchSize to a transaction. Blank lines are skipped
// unanswered (but counted in the line numbers).
//
// Before the body is read, a token without the write scope of any kind is
// refused (403) and the request takes one token of the rate limit (429),
// so that a refused or oversized body costs its sender too. The body is
// then read as a stream, never holding more than one line of
// MaxWriteBytes (a longer one is answered as too long and skipped to its
// end), and reading stops at the line after MaxBulkLines: one over
// MaxBulkBytes or MaxBulkLines is refused (413) before anything is
// written, and so is one the rest of the rate limit refuses (429, a
// request per LinesPerToken lines).
func (a *API) bulk(w http.ResponseWriter, r *http.Request, t Token, c records.Caller) {
	if !c.MayWriteAny() {
		a.challenge(w, r, "insufficient_scope", problem.New(problem.Forbidden, "insufficient_scope"))
		return
	}
	if wait, ok := a.d.Ingest.Allow(t.ClientID, 0); !ok {
		a.d.Responder.Fail(w, r, &problem.Problem{Kind: problem.TooMany, Code: "records_rate_limited", RetryAfter: wait})
		return
	}
	lines, err := readLines(w, r)
	if err == nil && len(lines) == 0 {
		err = problem.New(problem.Invalid, "records_bulk_empty")
	}
	if err != nil {
		a.d.Ingest.Refused(t.ClientID, err)
		a.d.Responder.Fail(w, r, err)
		return
	}
	if wait, ok := a.d.Ingest.AllowRest(t.ClientID, len(lines)); !ok {
		a.d.Responder.Fail(w, r, &problem.Problem{Kind: problem.TooMany, Code: "records_rate_limited", RetryAfter: wait})
		return
	}
	writes := make([]records.Write, len(lines))
	for i, l := range lines {
		if l.tooLong {
			writes[i] = records.Write{Err: problem.New(problem.Invalid, "records_line_too_long")}
			continue
		}
		writes[i] = records.DecodeLine(l.b)
	}
	lang := i18n.Negotiate(r)
	h := w.Header()
	h.Set("Content-Type", ndjson+"; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	var buf bytes.Buffer
	for start := 0; start < len(writes); start += records.BatchSize {
		end := min(start+records.BatchSize, len(writes))
		results := a.d.Ingest.Apply(r.Context(), c, writes[start:end])
		buf.Reset()
		for j, res := range results {
			ans := lineAnswer{Line: lines[start+j].n, ID: writes[start+j].ID, Outcome: res.Outcome}
			if res.Err != nil {
				ans.Outcome, ans.Error = "", a.lineError(lang, res.Err)
			}
			buf.Write(jsonLine(ans))
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return // the system went away: the batches written stay written
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// bulkLine is a line of a bulk request that is not blank: its number and
// its bytes, or tooLong (and no bytes) when it is over MaxWriteBytes.
type bulkLine struct {
	n       int
	b       []byte
	tooLong bool
}

// readLines reads the lines of a bulk request's body that are not blank,
// stopping at the one after MaxBulkLines.
func readLines(w http.ResponseWriter, r *http.Request) ([]bulkLine, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != ndjson {
		return nil, problem.New(problem.Invalid, "records_content_type_ndjson")
	}
	br := bufio.NewReaderSize(http.MaxBytesReader(w, r.Body, records.MaxBulkBytes), 64<<10)
	var lines []bulkLine
	for n := 1; ; n++ {
		l, more, err := readLine(br)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return nil, problem.New(problem.TooLarge, "records_bulk_too_large")
		case err != nil:
			return nil, problem.New(problem.Invalid, "malformed_json")
		}
		if l.tooLong || len(bytes.TrimSpace(l.b)) > 0 {
			if len(lines) == records.MaxBulkLines {
				return nil, problem.New(problem.TooLarge, "records_bulk_too_many_lines")
			}
			l.n = n
			lines = append(lines, l)
		}
		if !more {
			return lines, nil
		}
	}
}

// readLine reads one line of br without its newline, holding at most
// MaxWriteBytes of it: a longer one is read to its end and returned as
// tooLong. more is false at the end of the body.
func readLine(br *bufio.Reader) (l bulkLine, more bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		end := err == nil
		if end {
			chunk = chunk[:len(chunk)-1]
		}
		if !l.tooLong {
			if len(l.b)+len(chunk) > records.MaxWriteBytes {
				l.b, l.tooLong = nil, true
			} else {
				l.b = append(l.b, chunk...)
			}
		}
		switch {
		case end:
			return l, true, nil
		case errors.Is(err, io.EOF):
			return l, false, nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return bulkLine{}, false, err
		}
	}
}
