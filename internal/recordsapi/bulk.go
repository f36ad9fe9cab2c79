package recordsapi

import (
	"bytes"
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
// unanswered (but counted in the line numbers). The body is read whole
// first: one over MaxBulkBytes or MaxBulkLines is refused (413) before
// anything is written, and so is one the rate limit refuses (429, a
// request per LinesPerToken lines).
func (a *API) bulk(w http.ResponseWriter, r *http.Request, t Token, c records.Caller) {
	body, err := readBody(w, r, ndjson, records.MaxBulkBytes)
	if err != nil {
		a.d.Ingest.Refused(t.ClientID, err)
		a.d.Responder.Fail(w, r, err)
		return
	}
	type line struct {
		n int
		b []byte
	}
	var lines []line
	for n := 1; len(body) > 0; n++ {
		l, rest, _ := bytes.Cut(body, []byte{'\n'})
		body = rest
		if len(bytes.TrimSpace(l)) > 0 {
			lines = append(lines, line{n: n, b: l})
		}
	}
	switch {
	case len(lines) > records.MaxBulkLines:
		err = problem.New(problem.TooLarge, "records_bulk_too_many_lines")
	case len(lines) == 0:
		err = problem.New(problem.Invalid, "records_bulk_empty")
	}
	if err != nil {
		a.d.Ingest.Refused(t.ClientID, err)
		a.d.Responder.Fail(w, r, err)
		return
	}
	if wait, ok := a.d.Ingest.Allow(t.ClientID, len(lines)); !ok {
		a.d.Responder.Fail(w, r, &problem.Problem{Kind: problem.TooMany, Code: "records_rate_limited", RetryAfter: wait})
		return
	}
	writes := make([]records.Write, len(lines))
	for i, l := range lines {
		if len(l.b) > records.MaxWriteBytes {
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
