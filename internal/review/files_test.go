package review_test

import (
	"bytes"
	"testing"

	"unid/internal/review"
)

func TestCheckUpload(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 32)...)
	for _, c := range []struct {
		name     string
		data     []byte
		ct, code string
	}{
		{"empty", nil, "", "upload_required"},
		{"too large", append(bytes.Clone(png), make([]byte, 100)...), "", "upload_too_large"},
		{"text", []byte("just some text, not a picture"), "", "upload_type"},
		{"png", png, "image/png", ""},
		{"pdf", []byte("%PDF-1.7\n"), "application/pdf", ""},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "image/jpeg", ""},
	} {
		ct, code := review.CheckUpload(c.data, 64)
		if ct != c.ct || code != c.code {
			t.Errorf("%s: got (%q, %q), want (%q, %q)", c.name, ct, code, c.ct, c.code)
		}
	}
}
