package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

// row is one measured kind of request.
type row struct {
	Scenario     string         `json:"scenario"`
	Name         string         `json:"name"`
	Requests     int64          `json:"requests"`
	Errors       int64          `json:"errors"`
	Seconds      float64        `json:"seconds"`
	PerSec       float64        `json:"req_per_sec"`
	P50          float64        `json:"p50_ms"`
	P90          float64        `json:"p90_ms"`
	P99          float64        `json:"p99_ms"`
	ErrorsByCode map[string]int `json:"errors_by_code,omitempty"`
	// Limit names the hardware limit of the row, LimitPerSec is its
	// rate, Ratio is PerSec ÷ LimitPerSec.
	Limit       string  `json:"limit,omitempty"`
	LimitPerSec float64 `json:"limit_per_sec,omitempty"`
	Ratio       float64 `json:"ratio,omitempty"`
	// OfDiscovery is PerSec ÷ discovery's, for client credentials with
	// ES256: signing is then cheap, and the HTTP stack is the yardstick.
	OfDiscovery float64 `json:"of_discovery,omitempty"`
	// ToolCores is the CPU the tool itself used in the row's run, in
	// cores (the rows of a scenario timed together share it): what of the
	// machine the generator took from the server.
	ToolCores float64 `json:"tool_cores,omitempty"`
	Note      string  `json:"note,omitempty"`
}

// addNote adds note to the row's notes.
func (r *row) addNote(note string) {
	if r.Note != "" {
		r.Note += "; "
	}
	r.Note += note
}

// report is the outcome of a run.
type report struct {
	// Limits are the mean of the limits measured before and after the
	// scenarios: a shared machine's speed drifts over a run, and the mean
	// stands for the time between.
	Limits limits `json:"limits"`
	Before limits `json:"limits_before"`
	After  limits `json:"limits_after"`
	Rows   []row  `json:"rows"`
}

// meanLimits is the mean of the limits measured before and after.
func meanLimits(before, after limits) limits {
	m := before
	m.Argon2PerSec = (before.Argon2PerSec + after.Argon2PerSec) / 2
	m.SignPerSec = (before.SignPerSec + after.SignPerSec) / 2
	return m
}

// relate sets each row's limit and ratios. A code exchange and a refresh
// sign two tokens (access and ID token): their limit is half the signing
// rate.
func (rep *report) relate() {
	l := rep.Limits
	var discovery float64
	for _, r := range rep.Rows {
		if r.Name == "discovery" {
			discovery = r.PerSec
		}
	}
	for i := range rep.Rows {
		r := &rep.Rows[i]
		switch r.Name {
		case "signin":
			r.Limit, r.LimitPerSec = "argon2id "+l.Argon2, l.Argon2PerSec
		case "client_credentials":
			r.Limit, r.LimitPerSec = l.SignAlg+" sign", l.SignPerSec
			if l.SignAlg == "ES256" && discovery > 0 {
				r.OfDiscovery = r.PerSec / discovery
			}
		case "authcode/exchange", "authcode/refresh":
			r.Limit, r.LimitPerSec = l.SignAlg+" sign ÷2", l.SignPerSec/2
		}
		if r.LimitPerSec > 0 {
			r.Ratio = r.PerSec / r.LimitPerSec
		}
	}
}

// print writes the limits and the table.
func (rep *report) print(w io.Writer) {
	l := rep.Limits
	fmt.Fprintf(w, "hardware limits, in-process on %d CPUs, before and after the scenarios (mean):\n", l.CPUs)
	fmt.Fprintf(w, "  argon2id verify (%s): %.1f/s, %.1f/s (%.1f/s)\n", l.Argon2, rep.Before.Argon2PerSec, rep.After.Argon2PerSec, l.Argon2PerSec)
	fmt.Fprintf(w, "  %s sign (access token): %.0f/s, %.0f/s (%.0f/s)\n\n", l.SignAlg, rep.Before.SignPerSec, rep.After.SignPerSec, l.SignPerSec)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-20s\t", "row")
	fmt.Fprintln(tw, "requests\treq/s\tp50 ms\tp90 ms\tp99 ms\terrors\ttool cores\tlimit/s\tratio\t\t")
	for _, r := range rep.Rows {
		limit, ratio := "", ""
		if r.LimitPerSec > 0 {
			limit = fmt.Sprintf("%.0f", r.LimitPerSec)
			ratio = fmt.Sprintf("%.2f", r.Ratio)
		}
		extra := r.Limit
		if r.OfDiscovery > 0 {
			extra += fmt.Sprintf("; %.2f of discovery", r.OfDiscovery)
		}
		if r.Note != "" {
			extra += "; " + r.Note
		}
		fmt.Fprintf(tw, "%-20s\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%d\t%.2f\t%s\t%s\t\t%s\n",
			r.Name, r.Requests, r.PerSec, r.P50, r.P90, r.P99, r.Errors, r.ToolCores, limit, ratio, strings.TrimPrefix(extra, "; "))
	}
	tw.Flush()
	for _, r := range rep.Rows {
		if len(r.ErrorsByCode) == 0 {
			continue
		}
		fmt.Fprintf(w, "errors of %s: %s\n", r.Name, r.errorList())
	}
}

// errorList lists the row's errors, each with what lifts it when the
// tool knows.
func (r row) errorList() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.ErrorsByCode)) {
		var h string
		if f := strings.Fields(k); len(f) > 1 {
			h = hint(f[1])
		}
		parts = append(parts, fmt.Sprintf("%d× %s%s", r.ErrorsByCode[k], k, h))
	}
	return strings.Join(parts, ", ")
}

func (rep *report) writeJSON(path string) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// check fails a run in which a row made no request, or failed more than
// maxRate of them.
func (rep *report) check(maxRate float64) error {
	var errs []error
	for _, r := range rep.Rows {
		switch {
		case r.Requests == 0:
			errs = append(errs, fmt.Errorf("%s: no request completed", r.Name))
		case float64(r.Errors)/float64(r.Requests) > maxRate:
			errs = append(errs, fmt.Errorf("%s: %d of %d requests failed, more than -max-error-rate %g: %s", r.Name, r.Errors, r.Requests, maxRate, r.errorList()))
		}
	}
	return errors.Join(errs...)
}
