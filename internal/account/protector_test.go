package account

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"unid/internal/store"
)

func newProtector(t testing.TB) (*Protector, Keys) {
	t.Helper()
	k, err := GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProtector(k)
	if err != nil {
		t.Fatal(err)
	}
	return p, k
}

func TestSealOpen(t *testing.T) {
	p, _ := newProtector(t)
	tests := []struct{ kind, value string }{
		{FieldPhone, "13812345678"},
		{FieldIDNumber, "11010519491231002X"},
		{FieldEmail, "zhangsan@example.com"},
		{FieldRealName, "阿沛·阿旺晋美"},
		{"any kind", strings.Repeat("长", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			s, err := p.Seal(tt.kind, tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Cipher) != 4+12+len(tt.value)+16 || binary.BigEndian.Uint32(s.Cipher) != 1 {
				t.Fatalf("cipher of %d bytes, version %d", len(s.Cipher), binary.BigEndian.Uint32(s.Cipher))
			}
			if bytes.Contains(s.Cipher, []byte(tt.value)) {
				t.Fatal("the cipher contains the value")
			}
			if !bytes.Equal(s.Index, p.Index(tt.kind, tt.value)) || len(s.Index) != 32 {
				t.Fatalf("index %x", s.Index)
			}
			got, err := p.Open(tt.kind, s)
			if err != nil || got != tt.value {
				t.Fatalf("Open = %q, %v", got, err)
			}
			again, _ := p.Seal(tt.kind, tt.value)
			if bytes.Equal(again.Cipher, s.Cipher) || !bytes.Equal(again.Index, s.Index) {
				t.Fatal("sealing twice must give new ciphertext (random nonce) and the same index")
			}
		})
	}
}

func TestSealEmpty(t *testing.T) {
	p, _ := newProtector(t)
	s, err := p.Seal(FieldEmail, "")
	if err != nil || s.Cipher != nil || s.Index != nil || !s.Empty() {
		t.Fatalf("Seal(\"\") = %+v, %v; want a zero Sealed", s, err)
	}
	if got, err := p.Open(FieldEmail, store.Sealed{}); got != "" || err != nil {
		t.Fatalf("Open(zero) = %q, %v", got, err)
	}
	if p.Index(FieldPhone, "") != nil {
		t.Fatal("Index of an empty value must be nil")
	}
}

func TestOpenDetectsTampering(t *testing.T) {
	p, _ := newProtector(t)
	s, _ := p.Seal(FieldPhone, "13812345678")
	for i := range s.Cipher {
		bad := store.Sealed{Cipher: bytes.Clone(s.Cipher), Index: s.Index}
		bad.Cipher[i] ^= 0x01
		_, err := p.Open(FieldPhone, bad)
		want := ErrOpen
		if i < 4 {
			want = ErrKeyVersion
		}
		if !errors.Is(err, want) {
			t.Fatalf("byte %d changed: Open = %v, want %v", i, err, want)
		}
	}
	for _, n := range []int{0, 3, 4, 31} {
		if _, err := p.Open(FieldPhone, store.Sealed{Cipher: s.Cipher[len(s.Cipher)-n:]}); n > 0 && !errors.Is(err, ErrOpen) {
			t.Fatalf("%d bytes: Open = %v, want ErrOpen", n, err)
		}
	}
	if _, err := p.Open(FieldPhone, store.Sealed{Cipher: s.Cipher[:len(s.Cipher)-1]}); !errors.Is(err, ErrOpen) {
		t.Fatalf("truncated: Open = %v", err)
	}
}

func TestOpenWrongKind(t *testing.T) {
	p, _ := newProtector(t)
	s, _ := p.Seal(FieldPhone, "13812345678")
	for _, kind := range []string{FieldIDNumber, FieldEmail, "Phone", "phone ", ""} {
		if got, err := p.Open(kind, s); !errors.Is(err, ErrOpen) {
			t.Errorf("Open(%q) = %q, %v; want ErrOpen", kind, got, err)
		}
	}
	if bytes.Equal(p.Index(FieldPhone, "13812345678"), p.Index(FieldIDNumber, "13812345678")) {
		t.Error("indexes of different kinds must differ")
	}
}

func TestOtherKeysCannotOpen(t *testing.T) {
	p, _ := newProtector(t)
	q, _ := newProtector(t) // same version number, other secrets
	s, _ := p.Seal(FieldPhone, "13812345678")
	if _, err := q.Open(FieldPhone, s); !errors.Is(err, ErrOpen) {
		t.Fatalf("Open with other keys = %v", err)
	}
	if bytes.Equal(p.Index(FieldPhone, "13812345678"), q.Index(FieldPhone, "13812345678")) {
		t.Fatal("indexes under different keys must differ")
	}
}

func TestKeyRotation(t *testing.T) {
	p1, k1 := newProtector(t)
	old, _ := p1.Seal(FieldIDNumber, "11010519491231002X")

	k2, err := k1.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if k2.Current != 2 || len(k2.Secrets) != 2 || len(k1.Secrets) != 1 || bytes.Equal(k2.Secrets[1], k2.Secrets[2]) {
		t.Fatalf("Rotate gave %v from %v", k2, k1)
	}
	p2, err := NewProtector(k2)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := p2.Open(FieldIDNumber, old); err != nil || got != "11010519491231002X" {
		t.Fatalf("old version: Open = %q, %v", got, err)
	}
	if !p2.NeedsReseal(old) || p1.NeedsReseal(old) {
		t.Fatal("NeedsReseal must be true for the old version only under the new keys")
	}
	fresh, _ := p2.Seal(FieldIDNumber, "11010519491231002X")
	if binary.BigEndian.Uint32(fresh.Cipher) != 2 || p2.NeedsReseal(fresh) {
		t.Fatal("new data must be sealed with version 2")
	}
	if !bytes.Equal(fresh.Index, old.Index) {
		t.Fatal("the index must not change with rotation")
	}
	if !bytes.Equal(p1.MAC("sms", []byte("x")), p2.MAC("sms", []byte("x"))) {
		t.Fatal("MACs must not change with rotation")
	}
	if p2.NeedsReseal(store.Sealed{}) || p2.NeedsReseal(store.Sealed{Cipher: []byte{1}}) {
		t.Fatal("a zero or malformed Sealed does not need resealing")
	}

	// Once version 1 is dropped, what it sealed reports ErrKeyVersion.
	k3 := Keys{Current: 2, Secrets: map[uint32][]byte{2: k2.Secrets[2]}, IndexSecret: k2.IndexSecret}
	p3, err := NewProtector(k3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p3.Open(FieldIDNumber, old); !errors.Is(err, ErrKeyVersion) {
		t.Fatalf("dropped version: Open = %v", err)
	}
	if got, err := p3.Open(FieldIDNumber, fresh); err != nil || got != "11010519491231002X" {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestMAC(t *testing.T) {
	p, _ := newProtector(t)
	m := p.MAC("sms", []byte("13812345678"), []byte("123456"))
	if len(m) != 32 || !bytes.Equal(m, p.MAC("sms", []byte("13812345678"), []byte("123456"))) {
		t.Fatal("MAC must be 32 bytes and deterministic")
	}
	distinct := [][]byte{
		m,
		p.MAC("sms", []byte("1381234567"), []byte("8123456")),
		p.MAC("sms", []byte("13812345678123456")),
		p.MAC("sms", []byte("13812345678"), []byte("123456"), nil),
		p.MAC("sms"),
		p.MAC("sms", nil),
		p.MAC("sms", nil, nil),
		p.MAC("login-ip", []byte("13812345678"), []byte("123456")),
		p.Index("sms", "13812345678123456"),
	}
	for i := range distinct {
		for j := range i {
			if bytes.Equal(distinct[i], distinct[j]) {
				t.Errorf("MAC %d equals MAC %d", i, j)
			}
		}
	}
	if !bytes.Equal(p.MAC("x", []byte("ab"), []byte("c")), p.MAC("x", []byte("ab"), []byte("c"))) ||
		bytes.Equal(p.MAC("x", []byte("ab"), []byte("c")), p.MAC("x", []byte("a"), []byte("bc"))) {
		t.Error(`("ab","c") and ("a","bc") must differ`)
	}
}

// TestKnownAnswers pins the derivations and the ciphertext layout, so that
// another implementation (a migration tool, another language) can read what
// unid stores. The answers were computed with Python's hmac and the
// cryptography package's AESGCM, not with this package.
func TestKnownAnswers(t *testing.T) {
	k := Keys{Current: 7, Secrets: map[uint32][]byte{7: seq(100, 32)}, IndexSecret: seq(0, 32)}
	p, err := NewProtector(k)
	if err != nil {
		t.Fatal(err)
	}
	want := func(name string, got []byte, hexWant string) {
		if hex.EncodeToString(got) != hexWant {
			t.Errorf("%s = %x, want %s", name, got, hexWant)
		}
	}
	want("Index", p.Index("phone", "13812345678"), "cecd4eeab0391a5f46b61008eedead02fc889bfc9a01c6390aa5368da77bfb20")
	want("MAC", p.MAC("sms", []byte("ab"), []byte("c")), "45b107c96d13b6722d1d9569cddc281aef19821a91d843c14457fa559c9b2d93")
	c, _ := hex.DecodeString("00000007000102030405060708090a0bffa686b3def326ae5a03d6b7307ce2d1b3f4083b6181720f8e2f53")
	if got, err := p.Open("phone", store.Sealed{Cipher: c}); got != "13812345678" || err != nil {
		t.Errorf("Open(known ciphertext) = %q, %v", got, err)
	}
}

func seq(from byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = from + byte(i)
	}
	return b
}

func TestNewProtectorRefusesBadKeys(t *testing.T) {
	good, _ := GenerateKeys()
	tests := []struct {
		name string
		k    Keys
	}{
		{"zero", Keys{}},
		{"no current secret", Keys{Current: 2, Secrets: good.Secrets, IndexSecret: good.IndexSecret}},
		{"short secret", Keys{Current: 1, Secrets: map[uint32][]byte{1: make([]byte, 16)}, IndexSecret: good.IndexSecret}},
		{"short old secret", Keys{Current: 1, Secrets: map[uint32][]byte{1: good.Secrets[1], 0: {1}}, IndexSecret: good.IndexSecret}},
		{"no index secret", Keys{Current: 1, Secrets: good.Secrets}},
		{"long index secret", Keys{Current: 1, Secrets: good.Secrets, IndexSecret: make([]byte, 33)}},
	}
	for _, tt := range tests {
		if _, err := NewProtector(tt.k); err == nil {
			t.Errorf("%s: NewProtector accepted the keys", tt.name)
		}
		if err := WriteKeyFile(filepath.Join(t.TempDir(), "k"), tt.k); err == nil {
			t.Errorf("%s: WriteKeyFile accepted the keys", tt.name)
		}
	}
}

func TestNewProtectorCopiesKeys(t *testing.T) {
	k, _ := GenerateKeys()
	p, _ := NewProtector(k)
	s, _ := p.Seal(FieldPhone, "13812345678")
	k.Secrets[1][0] ^= 1
	k.IndexSecret[0] ^= 1
	if _, err := p.Open(FieldPhone, s); err != nil {
		t.Fatal("changing the Keys after NewProtector changed the Protector")
	}
}

func TestSecretsAreNotPrinted(t *testing.T) {
	p, k := newProtector(t)
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("keys", "keys", k, "protector", p)
	out := fmt.Sprint(k, p) + fmt.Sprintf("%v %+v %s", k, p, p) + buf.String()
	for _, secret := range [][]byte{k.Secrets[1], k.IndexSecret} {
		for _, enc := range []string{hex.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret), fmt.Sprint(secret)} {
			if strings.Contains(out, enc) {
				t.Fatalf("a secret is printed: %s", out)
			}
		}
	}
}

func TestProtectorConcurrentUse(t *testing.T) {
	p, _ := newProtector(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			kind := []string{FieldPhone, FieldEmail}[i%2]
			for j := range 100 {
				v := fmt.Sprint(i, "-", j)
				s, err := p.Seal(kind, v)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := p.Open(kind, s); got != v || err != nil {
					t.Errorf("Open = %q, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "keys")
	path := filepath.Join(dir, "unid.key")
	k, _ := GenerateKeys()
	if err := WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]fs.FileMode{path: 0o600, dir: 0o700, filepath.Dir(dir): 0o700} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s has mode %v, want %v", p, fi.Mode().Perm(), want)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d files, want only the key file", len(entries))
	}
	var doc map[string]any
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &doc); err != nil || doc["current"] != float64(1) || doc["note"] == nil || doc["index_secret"] == nil {
		t.Fatalf("key file is %s (%v)", data, err)
	}

	got, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Current != k.Current || !bytes.Equal(got.Secrets[1], k.Secrets[1]) || !bytes.Equal(got.IndexSecret, k.IndexSecret) || len(got.Secrets) != 1 {
		t.Fatalf("LoadKeyFile = %v, want %v", got, k)
	}

	// Never replaced.
	other, _ := GenerateKeys()
	if err := WriteKeyFile(path, other); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("WriteKeyFile over an existing file = %v, want fs.ErrExist", err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
		t.Fatal("the key file was changed")
	}

	// Rotated keys survive a round trip.
	rotated, _ := k.Rotate()
	rpath := filepath.Join(dir, "rotated.key")
	if err := WriteKeyFile(rpath, rotated); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadKeyFile(rpath); err != nil || got.Current != 2 || len(got.Secrets) != 2 {
		t.Fatalf("LoadKeyFile(rotated) = %v, %v", got, err)
	}
}

func TestLoadKeyFileRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadKeyFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v, want fs.ErrNotExist", err)
	}
	k, _ := GenerateKeys()
	good, _ := json.Marshal(keyFile{Keys: k})
	short, _ := json.Marshal(keyFile{Keys: Keys{Current: 1, Secrets: map[uint32][]byte{1: {1, 2}}, IndexSecret: k.IndexSecret}})
	tests := []struct {
		name string
		data []byte
		mode fs.FileMode
	}{
		{"readable by others", good, 0o644},
		{"writable by group", good, 0o620},
		{"not JSON", []byte("not json"), 0o600},
		{"short secret", short, 0o600},
		{"empty", nil, 0o600},
	}
	for _, tt := range tests {
		if runtime.GOOS == "windows" && tt.mode != 0o600 {
			continue
		}
		path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
		os.WriteFile(path, tt.data, tt.mode)
		os.Chmod(path, tt.mode) // whatever the umask
		if _, err := LoadKeyFile(path); err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: LoadKeyFile = %v, want a refusal", tt.name, err)
		}
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "unid.key")
	k1, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("first call: created %v, %v", created, err)
	}
	k2, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created {
		t.Fatalf("second call: created %v, %v", created, err)
	}
	if !bytes.Equal(k1.Secrets[1], k2.Secrets[1]) || !bytes.Equal(k1.IndexSecret, k2.IndexSecret) {
		t.Fatal("the second call did not load the file the first wrote")
	}
	if runtime.GOOS != "windows" {
		os.Chmod(path, 0o644)
		if _, created, err := LoadOrCreateKeyFile(path); err == nil || created {
			t.Fatal("a key file readable by others must be refused, not replaced")
		}
	}
}

// TestLoadOrCreateKeyFileRace starts many instances at once on a fresh data
// directory: exactly one creates the file, and all end with the same keys.
func TestLoadOrCreateKeyFileRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unid.key")
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		index   [][]byte
	)
	for range 8 {
		wg.Go(func() {
			k, c, err := LoadOrCreateKeyFile(path)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if c {
				created++
			}
			index = append(index, k.IndexSecret)
		})
	}
	wg.Wait()
	if created != 1 {
		t.Fatalf("%d callers created the file", created)
	}
	for _, ix := range index {
		if !bytes.Equal(ix, index[0]) {
			t.Fatal("callers ended with different keys")
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	p, _ := newProtector(b)
	for b.Loop() {
		p.Seal(FieldPhone, "13812345678")
	}
}

func BenchmarkOpen(b *testing.B) {
	p, _ := newProtector(b)
	s, _ := p.Seal(FieldPhone, "13812345678")
	for b.Loop() {
		p.Open(FieldPhone, s)
	}
}

func BenchmarkIndex(b *testing.B) {
	p, _ := newProtector(b)
	for b.Loop() {
		p.Index(FieldPhone, "13812345678")
	}
}
