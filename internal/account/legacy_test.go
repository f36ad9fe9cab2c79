package account

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"unid/internal/problem"
)

func TestLegacyHash(t *testing.T) {
	const pw = "Legacy#Pass2019"
	m := md5.Sum([]byte(pw))
	s1 := sha1.Sum([]byte(pw))
	s256 := sha256.Sum256([]byte(pw))
	s512 := sha512.Sum512([]byte(pw))
	h := NewHasher(Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)
	for _, tt := range []struct{ in, want string }{
		{hex.EncodeToString(m[:]), "{MD5}" + hex.EncodeToString(m[:])},
		{strings.ToUpper(hex.EncodeToString(m[:])), "{MD5}" + strings.ToUpper(hex.EncodeToString(m[:]))},
		{" " + hex.EncodeToString(s1[:]) + " ", "{SHA}" + hex.EncodeToString(s1[:])},
		{hex.EncodeToString(s256[:]), "{SHA256}" + hex.EncodeToString(s256[:])},
		{hex.EncodeToString(s512[:]), "{SHA512}" + hex.EncodeToString(s512[:])},
		{"{SHA256}" + hex.EncodeToString(s256[:]), "{SHA256}" + hex.EncodeToString(s256[:])},
	} {
		got, err := LegacyHash(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("LegacyHash(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			continue
		}
		// Copied, not recomputed: the old password verifies and asks for a
		// rehash.
		if ok, rehash, err := h.Verify(context.Background(), pw, got); !ok || !rehash || err != nil {
			t.Errorf("Verify(%q) = %v, %v, %v", got, ok, rehash, err)
		}
	}
	for _, bad := range []string{"", "abc", strings.Repeat("a", 30), strings.Repeat("g", 32), "$crypt$x", "{MD4}00", "plaintext-password"} {
		if got, err := LegacyHash(bad); !errors.Is(err, ErrHashFormat) {
			t.Errorf("LegacyHash(%q) = %q, %v; want ErrHashFormat", bad, got, err)
		}
	}
}

func TestPrepareImport(t *testing.T) {
	keys, err := GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	prot, err := NewProtector(keys)
	if err != nil {
		t.Fatal(err)
	}
	s := NewService(ServiceDeps{Protector: prot, Now: time.Now})
	now := time.Date(2030, 1, 2, 3, 4, 5, 678_900_000, time.UTC)
	u, err := s.PrepareImport(LegacyAccount{LoginName: " Ent_001 ", PasswordHash: "$2a$04$abcdefghijklmnopqrstuu5Ykl2e4hGBq4fX7OFo8l4cJ1sLBB3nS", Phone: "139 1234 5678", RealName: "张三"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if u.LoginName != "Ent_001" || u.LoginNameKey != "ent_001" || !strings.HasPrefix(u.PasswordHash, "$2a$04$") || u.RealnameLevel != 0 ||
		!u.CreatedAt.Equal(now.Truncate(time.Millisecond)) || u.RealName.Index != nil || !u.IDNumber.Empty() {
		t.Errorf("PrepareImport = %+v", u)
	}
	if phone, err := prot.Open(FieldPhone, u.Phone); err != nil || phone != "13912345678" || string(u.Phone.Index) != string(prot.Index(FieldPhone, "13912345678")) {
		t.Errorf("phone %q, %v", phone, err)
	}
	_, err = s.PrepareImport(LegacyAccount{LoginName: "x", PasswordHash: "nothing", Phone: "1", RealName: ""}, now)
	p := problem.As(err)
	want := map[string]string{FieldLoginName: p.Fields[FieldLoginName], "password_hash": "password_hash_format", FieldPhone: "phone_format", FieldRealName: "real_name_required"}
	if p.Kind != problem.Invalid || len(p.Fields) != 4 || p.Fields["password_hash"] != want["password_hash"] || p.Fields[FieldPhone] != want[FieldPhone] || p.Fields[FieldRealName] != want[FieldRealName] {
		t.Errorf("every broken rule at once: %v %v", err, p.Fields)
	}
}
