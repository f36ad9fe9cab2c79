// Package httpsig is the one request-signing scheme unid speaks with the
// services it calls over HTTP (the SMS gateway, the real-name verification
// service): HMAC-SHA256, under a shared secret, over the timestamp header,
// a '.', and the exact body bytes, sent hex-encoded as "v1=<hex>" in the
// X-Unid-Signature header next to X-Unid-Timestamp (unix seconds). Answers
// that must be trusted are signed the same way by the service.
package httpsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Header names of the scheme.
const (
	HeaderTimestamp   = "X-Unid-Timestamp"
	HeaderSignature   = "X-Unid-Signature"
	HeaderIdempotency = "Idempotency-Key"
	version           = "v1="
)

// Sign returns the X-Unid-Signature value for a message with the given
// timestamp header and body.
func Sign(secret []byte, timestamp string, body []byte) string {
	return version + hex.EncodeToString(mac(secret, timestamp, body))
}

// Verify reports whether header (the X-Unid-Signature value) holds a valid
// v1 signature of timestamp and body under secret. header may list several
// comma-separated signatures; one valid v1 entry suffices. It does not
// judge the timestamp: the receiver also refuses timestamps too far from
// its own clock.
func Verify(secret []byte, timestamp string, body []byte, header string) bool {
	want := mac(secret, timestamp, body)
	ok := false
	for part := range strings.SplitSeq(header, ",") {
		sig, found := strings.CutPrefix(strings.TrimSpace(part), version)
		if !found {
			continue
		}
		got, err := hex.DecodeString(sig)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			ok = true
		}
	}
	return ok
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}
